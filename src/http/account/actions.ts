import type { Context } from 'koa';
import type { Account } from '../../accounts/accounts.ts';
import { WrongCurrentPasswordError } from '../../accounts/password-change.ts';
import type { Principal } from '../../principal/principal.ts';
import type { AuditEntry } from '../../audit/audit.ts';
import type { Services } from '../../services.ts';
import { auditRequest } from '../audit-request.ts';
import { currentSignInIds } from './self.ts';

type Deps = Pick<Services, 'accounts' | 'audit' | 'passwordChange' | 'signIns' | 'connectedApps'>;

/**
 * What a person does to their own account, each with its audit record: one implementation for
 * the /v1/account API and the account page, so both change and record the same things.
 */
export function selfActions(s: Deps) {
  const who = (a: Account) => ({ type: a.actor_type, id: a.id });
  /** An event the account did to itself, from this request. */
  const recordOwn = (ctx: Context, account: Account, type: string, data: AuditEntry['data'], outcome?: 'failure') =>
    s.audit.record(type, { actor: who(account), subject: who(account), request: auditRequest(ctx), data, ...(outcome ? { outcome } : {}) });

  return {
    /** Change the name fields given (an empty string clears one); the account after. */
    async updateProfile(ctx: Context, account: Account, body: { first_name?: string | null; last_name?: string | null }): Promise<Account> {
      const changes = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === '' ? null : v])) as typeof body;
      const fields = (Object.keys(changes) as ('first_name' | 'last_name')[]).filter((k) => changes[k] !== account[k]);
      if (!fields.length) return account;
      const updated = (await s.accounts.update(account.id, changes)) ?? account;
      await recordOwn(ctx, account, `${account.actor_type}.updated`, { fields: fields.join(','), by: 'self' });
      return updated;
    },

    /** Change the password (current one required); how many other sign-ins ended. */
    async changePassword(
      ctx: Context,
      p: Principal,
      account: Account,
      input: { current: string; next: string; signOutOthers: boolean },
    ): Promise<number> {
      try {
        const { signInsEnded } = await s.passwordChange({
          account,
          ip: ctx.ip,
          ...input,
          keep: currentSignInIds(ctx, s.signIns, p),
        });
        await recordOwn(ctx, account, 'auth.password_changed', { sign_ins_ended: signInsEnded });
        return signInsEnded;
      } catch (err) {
        if (err instanceof WrongCurrentPasswordError)
          await recordOwn(ctx, account, 'auth.password_changed', { reason: 'invalid_current_password' }, 'failure');
        throw err;
      }
    },

    /** End one of the account's own sign-ins; false when it has no such live sign-in. */
    async endSignIn(ctx: Context, account: Account, signInId: string): Promise<boolean> {
      if (!(await s.signIns.endOne(account.id, signInId))) return false;
      await recordOwn(ctx, account, 'auth.sign_in_ended', { sign_in_id: signInId });
      return true;
    },

    /** End every sign-in of the account but the ones this request belongs to; how many ended. */
    async signOutOthers(ctx: Context, p: Principal, account: Account): Promise<number> {
      const ended = await s.signIns.endAll(account.id, currentSignInIds(ctx, s.signIns, p));
      await recordOwn(ctx, account, 'auth.signed_out_others', { sign_ins_ended: ended });
      return ended;
    },

    /** Withdraw one of the account's grants and every token of it; the grant, or null (none such, or another's). */
    async removeApp(ctx: Context, account: Account, grantId: string) {
      const grant = await s.connectedApps.withdraw(account.id, grantId);
      if (!grant) return null;
      await s.audit.record('oauth_grant.revoked', {
        actor: who(account),
        subject: { type: 'oauth_grant', id: grant.id },
        request: auditRequest(ctx),
        data: { client_id: grant.client_id, account_id: account.id, by: 'account_owner' },
      });
      return grant;
    },
  };
}
