import type { Account } from '../accounts/accounts.ts';
import type { Audit, AuditEntry } from './audit.ts';

/**
 * The audit events of an operator's change of an account (admin API or CLI): one per kind of
 * change, so a consumer can follow disables and role changes without diffing records. Names and
 * metadata are recorded as "changed", never their values (metadata may hold anything).
 */
export async function recordAccountChanges(
  audit: Audit,
  by: { actor: AuditEntry['actor']; request?: AuditEntry['request'] },
  before: Account,
  after: Account,
): Promise<void> {
  const prefix = after.actor_type;
  const common = { actor: by.actor, subject: { type: prefix, id: after.id }, request: by.request };
  if (before.role !== after.role)
    await audit.record('user.role_changed', { ...common, data: { from_role: before.role ?? 'member', to_role: after.role ?? 'member' } });
  if (Boolean(before.disabled) !== Boolean(after.disabled))
    await audit.record(after.disabled ? `${prefix}.disabled` : `${prefix}.enabled`, common);
  const changed = (['first_name', 'last_name', 'metadata'] as const).filter(
    (f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null),
  );
  if (changed.length) await audit.record(`${prefix}.updated`, { ...common, data: { fields: changed.join(',') } });
}
