import { parseArgs } from 'node:util';
import type { Account, AccountChanges, ActorType } from '../../accounts/accounts.ts';
import { recordAccountChanges } from '../../audit/account-changes.ts';
import type { Services } from '../../services.ts';
import { cliActor } from '../actor.ts';
import { UsageError } from '../errors.ts';
import { newPassword, PASSWORD_OPTIONS } from './account-flags.ts';

const ROLES = ['admin', 'member', 'developer'] as const;
const plural: Record<ActorType, string> = { user: 'users', customer: 'customers' };

/** The subcommands `runAccountAdminCommand` knows, per kind of account. */
export const ACCOUNT_ADMIN_COMMANDS: Record<ActorType, readonly string[]> = {
  customer: ['list', 'get', 'set-password', 'sign-out', 'delete'],
  user: ['list', 'get', 'set-role', 'set-password', 'disable', 'enable', 'sign-out', 'delete'],
};

/** The account an argument names: its id, or its email. */
async function resolve(s: Services, actorType: ActorType, idOrEmail: string | undefined): Promise<Account> {
  if (!idOrEmail) throw new UsageError(`an ${actorType} id or email is required`);
  const byEmail = idOrEmail.includes('@') ? await s.accounts.findByEmail(actorType, idOrEmail) : null;
  return s.accountAdministration.get(actorType, byEmail?.id ?? idOrEmail);
}

function onePositional(args: string[]): string | undefined {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  return positionals[0];
}

/**
 * The operator's commands on accounts shared by `user` and `customer`: list, get, delete,
 * set-password, sign-out, and (users) set-role, disable, enable. They go through the same account
 * administration as the admin API, so its rules hold here too (the last admin stays, disabling stops
 * keys), and record the same audit events, with the CLI as actor. Returns false for a subcommand it
 * does not know.
 */
export async function runAccountAdminCommand(
  actorType: ActorType,
  sub: string,
  args: string[],
  services: () => Promise<Services>,
  print: (value: unknown) => void,
): Promise<boolean> {
  switch (sub) {
    case 'list': {
      const { values, positionals } = parseArgs({
        args,
        options: {
          q: { type: 'string' },
          ...(actorType === 'user' ? { role: { type: 'string' as const }, disabled: { type: 'string' as const } } : {}),
        },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const v = values as Record<string, string | undefined>;
      if (v.role !== undefined && !(ROLES as readonly string[]).includes(v.role))
        throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
      if (v.disabled !== undefined && v.disabled !== 'true' && v.disabled !== 'false') throw new UsageError('--disabled: true or false');
      const s = await services();
      const { accounts, count } = await s.accounts.search(actorType, {
        q: v.q,
        role: v.role as (typeof ROLES)[number] | undefined,
        disabled: v.disabled === undefined ? undefined : v.disabled === 'true',
        order: { field: 'created_at', desc: true },
        offset: 0,
        limit: Number.MAX_SAFE_INTEGER,
      });
      print({ [plural[actorType]]: accounts, count });
      return true;
    }
    case 'get': {
      const id = onePositional(args);
      print(await resolve(await services(), actorType, id));
      return true;
    }
    case 'delete': {
      const id = onePositional(args);
      const s = await services();
      const account = await resolve(s, actorType, id);
      await s.accountAdministration.delete(actorType, account.id, 'cli');
      await s.audit.record(`${actorType}.deleted`, { actor: cliActor(), subject: { type: actorType, id: account.id } });
      print({ id: account.id, object: actorType, deleted: true });
      return true;
    }
    case 'sign-out': {
      const id = onePositional(args);
      const s = await services();
      const account = await resolve(s, actorType, id);
      const ended = await s.signIns.endAll(account.id);
      await s.audit.record(`${actorType}.signed_out`, {
        actor: cliActor(),
        subject: { type: actorType, id: account.id },
        data: { sign_ins_ended: ended },
      });
      print({ id: account.id, object: actorType, signed_out: true, sign_ins_ended: ended });
      return true;
    }
    case 'set-password': {
      const { values, positionals } = parseArgs({ args, options: PASSWORD_OPTIONS, allowPositionals: true, strict: true });
      if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
      const s = await services();
      // The account is looked up before the password is asked for: a typo in its name fails first.
      const account = await resolve(s, actorType, positionals[0]);
      const password = await newPassword(values);
      await s.accounts.update(account.id, { password });
      // A new password is what an operator sets after a compromise: every sign-in ends, as after a reset.
      const ended = await s.signIns.endAll(account.id);
      await s.audit.record(`${actorType}.password_changed`, {
        actor: cliActor(),
        subject: { type: actorType, id: account.id },
        data: { sign_ins_ended: ended },
      });
      print({ id: account.id, object: actorType, password_changed: true, sign_ins_ended: ended });
      return true;
    }
  }
  if (actorType !== 'user') return false;
  let changes: AccountChanges;
  let target: string | undefined;
  switch (sub) {
    case 'set-role': {
      const { values, positionals } = parseArgs({ args, options: { role: { type: 'string' } }, allowPositionals: true, strict: true });
      if (positionals.length > (values.role ? 1 : 2)) throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);
      // `set-role ID ROLE` or `set-role ID --role ROLE`.
      const role = values.role ?? positionals[1];
      if (!role || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
      target = positionals[0];
      changes = { role: role as (typeof ROLES)[number] };
      break;
    }
    case 'disable':
    case 'enable':
      target = onePositional(args);
      changes = { disabled: sub === 'disable' };
      break;
    default:
      return false;
  }
  const s = await services();
  const account = await resolve(s, actorType, target);
  const { before, after } = await s.accountAdministration.update(actorType, account.id, changes);
  await recordAccountChanges(s.audit, { actor: cliActor() }, before, after);
  print(after);
  return true;
}
