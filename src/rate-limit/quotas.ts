import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { Principal } from '../principal/principal.ts';
import { keys } from '../store/keys.ts';
import type { RateLimitResult, Store } from '../store/port.ts';
import { formatPolicyHeader, parseRatePolicy, policyId, RatePolicyError, type RatePolicy } from './policy.ts';

/** Who a request's quota belongs to, and the quota. */
export interface Quota {
  /** Stable id of what is counted: minting new tokens for the same subject shares one count. */
  subject: string;
  policy: RatePolicy;
}

export interface RateLimitDecision extends RateLimitResult {
  policy: RatePolicy;
}

/**
 * Per-method quotas (rate limiting consumes the Principal). What is counted:
 * - an API key: the key itself (its own `rate_limit` when set, else RATE_LIMIT_API_KEY);
 * - an OAuth access token: the grant's user and client together (RATE_LIMIT_OAUTH);
 * - a first-party JWT or session: the user or customer (RATE_LIMIT_JWT), so logging in again
 *   does not reset the count.
 */
export function createRateLimiter(deps: { store: Store; rateLimits: Config['rateLimits']; onRefused?: (subject: string) => void }) {
  const { store } = deps;
  const read = (name: string, value: string) => {
    try {
      return parseRatePolicy(value);
    } catch (err) {
      throw new ConfigError(`${name}: ${(err as RatePolicyError).message}`);
    }
  };
  const defaults = {
    apiKey: read('RATE_LIMIT_API_KEY', deps.rateLimits.apiKey),
    oauth: read('RATE_LIMIT_OAUTH', deps.rateLimits.oauth),
    jwt: read('RATE_LIMIT_JWT', deps.rateLimits.jwt),
    oauthAuthorize: read('RATE_LIMIT_OAUTH_AUTHORIZE', deps.rateLimits.oauthAuthorize),
  };
  // Per-key overrides are parsed once; a malformed one (never accepted by the admin routes)
  // falls back to the default rather than failing every request of that key.
  const overrides = new Map<string, RatePolicy | null>();
  const override = (value: string | undefined): RatePolicy | null => {
    if (!value) return null;
    if (!overrides.has(value)) {
      if (overrides.size > 1000) overrides.clear();
      let policy: RatePolicy | null = null;
      try {
        policy = parseRatePolicy(value);
      } catch {
        /* fall back to the method's default */
      }
      overrides.set(value, policy);
    }
    return overrides.get(value)!;
  };

  function quotaOf(p: Principal): Quota {
    switch (p.method) {
      case 'api_key':
        return { subject: `api_key:${p.keyId ?? p.id}`, policy: override(p.rateLimit) ?? defaults.apiKey };
      case 'oauth':
        return { subject: `oauth:${p.id}:${p.clientId ?? '-'}`, policy: override(p.rateLimit) ?? defaults.oauth };
      case 'jwt':
      case 'session':
        return { subject: `${p.actorType}:${p.id}`, policy: override(p.rateLimit) ?? defaults.jwt };
    }
  }

  async function consumeQuota(quota: Quota, cost = 1): Promise<RateLimitDecision> {
    const { subject, policy } = quota;
    const result = await store.rateLimit(keys.rateLimit(subject, policyId(policy)), policy.limit, policy.windowSeconds * 1000, cost);
    if (!result.allowed) deps.onRefused?.(subject);
    return { ...result, policy };
  }

  return {
    defaults,
    quotaOf,
    /** A key's own `rate_limit`, parsed; null when unset or malformed. */
    override,
    /** Spend one request of `p`'s quota (one atomic store round trip; a refusal writes nothing). */
    consume: (p: Principal, cost = 1) => consumeQuota(quotaOf(p), cost),
    consumeQuota,
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): Reset is seconds
 * until the full quota is available again (delta seconds, not an epoch time).
 */
export function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(d.policy.limit),
    'RateLimit-Remaining': String(Math.max(0, d.remaining)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(d.resetMs / 1000))),
    'RateLimit-Policy': formatPolicyHeader(d.policy),
  };
}
