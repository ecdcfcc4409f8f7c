import { LoginThrottledError, type LoginThrottle } from '../rate-limit/login-throttle.ts';
import type { Audit } from '../audit/audit.ts';
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
 */
export function createPasswordLogin(deps: {
  accounts: Accounts;
  throttle: LoginThrottle;
  onOutcome?: (outcome: 'success' | 'failure' | 'throttled') => void;
  audit?: Audit;
}) {
  const report = deps.onOutcome ?? (() => {});
  // The audit trail is for operators: it keeps the reason class (never the password); clients see one answer.
  const record = (client: LoginClient, actorType: ActorType, email: string, account: Account | null, reason?: string) =>
    deps.audit?.record(account ? 'auth.login.succeeded' : 'auth.login.failed', {
      actor: account ? { type: actorType === 'user' ? 'user' : 'customer', id: account.id } : undefined,
      subject: account ? { type: actorType, id: account.id } : undefined,
      outcome: account ? 'success' : 'failure',
      request: {
        ip: client.ip,
        userAgent: client.get?.('user-agent') || undefined,
        requestId: String(client.state?.['requestId'] ?? '') || undefined,
      },
      data: { actor_type: actorType, ...(account ? {} : { email: email.trim().toLowerCase().slice(0, 254), reason }) },
    });
  return async (client: LoginClient, actorType: ActorType, email: string, password: string): Promise<Account | null> => {
    try {
      const account = await deps.throttle.attempt({ ip: client.ip, actorType, email }, () =>
        deps.accounts.authenticate(actorType, email, password),
      );
      report(account ? 'success' : 'failure');
      await record(client, actorType, email, account, 'invalid_credentials');
      return account;
    } catch (err) {
      if (err instanceof LoginThrottledError) {
        report('throttled');
        await record(client, actorType, email, null, 'throttled');
      }
      throw err;
    }
  };
}
