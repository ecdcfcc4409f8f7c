import { LoginThrottledError, type LoginThrottle, type Lockout } from '../rate-limit/login-throttle.ts';
import type { AuditEntry, Audit } from '../audit/audit.ts';
import type { Account, Accounts, ActorType } from './accounts.ts';

/** The request a login came in on: a Koa context is one (its address as TRUST_PROXY reads it, headers, request id). */
interface LoginClient {
  ip: string;
  get?: (header: string) => string;
  state?: Record<string, unknown>;
}

/**
 * The one password login every surface uses (/v1/auth/login, /admin/auth/token, /store/auth/token,
 * /auth/{actor}/emailpass, the OAuth login page): throttled, and the same answer for an unknown
 * account as for a wrong password. `client.ip` (a Koa context is such a client) is the client's
 * address as TRUST_PROXY resolves it (http/client-address.ts), the same one the request log and
 * the registration throttle see.
 *
 * The audit trail is for operators: it keeps the reason class, never the password. The email typed
 * in a failed login is personal data (and sometimes a password typed in the wrong field), so it is
 * never recorded: a failure names the account when one has that email, otherwise only a keyed hash
 * of the email (`audit.pseudonym`), enough to see one address tried many times. A lock-out (a wrong
 * password that starts a back-off) is one event; the requests it then refuses are counted by the
 * `portcullis_password_logins_total{outcome="throttled"}` metric, not recorded one by one.
 */
export function createPasswordLogin(deps: {
  accounts: Accounts;
  throttle: LoginThrottle;
  onOutcome?: (outcome: 'success' | 'failure' | 'throttled') => void;
  audit?: Audit;
}) {
  const report = deps.onOutcome ?? (() => {});
  const requestOf = (client: LoginClient): AuditEntry['request'] => ({
    ip: client.ip,
    userAgent: client.get?.('user-agent') || undefined,
    requestId: String(client.state?.['requestId'] ?? '') || undefined,
  });
  /** Who a failed login was about: the account with that email, or a pseudonym of the email. */
  async function about(actorType: ActorType, email: string): Promise<Pick<AuditEntry, 'subject' | 'data'>> {
    const account = await deps.accounts.findByEmail(actorType, email).catch(() => null);
    if (account) return { subject: { type: actorType, id: account.id }, data: {} };
    const normalized = email.trim().toLowerCase();
    return { data: deps.audit ? { email_hash: deps.audit.pseudonym(`${actorType}:${normalized}`) } : {} };
  }

  return async (client: LoginClient, actorType: ActorType, email: string, password: string): Promise<Account | null> => {
    const audit = deps.audit;
    const onLockout = audit
      ? async (lockout: Lockout) => {
          const who = await about(actorType, email);
          await audit.record('auth.login.locked_out', {
            subject: who.subject,
            outcome: 'failure',
            request: requestOf(client),
            data: { actor_type: actorType, ...who.data, cell: lockout.cell, retry_after: lockout.retryAfterSeconds },
          });
        }
      : undefined;
    try {
      const account = await deps.throttle.attempt(
        { ip: client.ip, actorType, email },
        () => deps.accounts.authenticate(actorType, email, password),
        onLockout,
      );
      report(account ? 'success' : 'failure');
      if (account)
        await audit?.record('auth.login.succeeded', {
          actor: { type: actorType, id: account.id },
          subject: { type: actorType, id: account.id },
          request: requestOf(client),
          data: { actor_type: actorType },
        });
      else if (audit) {
        const who = await about(actorType, email);
        await audit.record('auth.login.failed', {
          subject: who.subject,
          outcome: 'failure',
          request: requestOf(client),
          data: { actor_type: actorType, ...who.data, reason: 'invalid_credentials' },
        });
      }
      return account;
    } catch (err) {
      if (err instanceof LoginThrottledError) report('throttled');
      throw err;
    }
  };
}
