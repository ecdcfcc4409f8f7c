import type { Context } from 'koa';
import { ServiceUnavailableError } from '../../errors.ts';
import { clientAddressKey } from '../../ip-addresses.ts';
import { enforceQuota } from '../rate-limit.ts';
import type { RateLimiter } from '../../rate-limit/quotas.ts';
import { StoreUnavailableError } from '../../store/port.ts';
import { RETRY_AFTER_SECONDS } from '../../oauth/unavailable.ts';

/** The requesting client's address: ctx.ip follows TRUST_PROXY (src/http/client-address.ts). */
const clientAddress = (ctx: Context): string => ctx.ip;

/**
 * The quota of authorization, PAR and end-session requests per client address (an IPv6 /64 counts
 * as one), RATE_LIMIT_OAUTH_AUTHORIZE: each such request makes the provider store an interaction,
 * a pushed request or a logout's state, and no credential is there to count them against.
 * Throws RateLimitedError (429 with Retry-After) when spent.
 */
export function createAuthorizationQuota(deps: { limiter: RateLimiter }): (ctx: Context) => Promise<void> {
  const policy = deps.limiter.defaults.oauthAuthorize;
  return async (ctx) => {
    try {
      await enforceQuota(ctx, deps.limiter, { subject: `oauth-authorize:${clientAddressKey(clientAddress(ctx))}`, policy });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      // As the provider's own 503s (src/oauth/unavailable.ts): temporarily_unavailable with Retry-After.
      const unavailable = new ServiceUnavailableError();
      unavailable.headers['Retry-After'] = String(RETRY_AFTER_SECONDS);
      throw unavailable;
    }
  };
}
