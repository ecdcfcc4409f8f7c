import type { Account } from '../../accounts/accounts.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';

/**
 * The audit events of an administrator's change of an account: one per kind of change, so a
 * consumer can follow disables and role changes without diffing records. Names and metadata are
 * recorded as "changed", never their values (metadata may hold anything).
 */
export async function recordAccountChanges(s: Services, actor: Principal, before: Account, after: Account): Promise<void> {
  const prefix = after.actor_type;
  const subject = { type: prefix, id: after.id };
  if (before.role !== after.role)
    await s.audit.record('user.role_changed', {
      actor,
      subject,
      data: { from_role: before.role ?? 'member', to_role: after.role ?? 'member' },
    });
  if (Boolean(before.disabled) !== Boolean(after.disabled))
    await s.audit.record(after.disabled ? `${prefix}.disabled` : `${prefix}.enabled`, { actor, subject });
  const changed = (['first_name', 'last_name', 'metadata'] as const).filter(
    (f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null),
  );
  if (changed.length) await s.audit.record(`${prefix}.updated`, { actor, subject, data: { fields: changed.join(',') } });
}
