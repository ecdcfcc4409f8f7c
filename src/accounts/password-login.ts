import { LoginThrottledError, type LoginThrottle } from '../rate-limit/login-throttle.ts';
import type { Account, Accounts, ActorType } from './accounts.ts';

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
}) {
  const report = deps.onOutcome ?? (() => {});
  return async (client: { ip: string }, actorType: ActorType, email: string, password: string): Promise<Account | null> => {
    try {
      const account = await deps.throttle.attempt({ ip: client.ip, actorType, email }, () =>
        deps.accounts.authenticate(actorType, email, password),
      );
      report(account ? 'success' : 'failure');
      return account;
    } catch (err) {
      if (err instanceof LoginThrottledError) report('throttled');
      throw err;
    }
  };
}
