import type { Context, Middleware } from 'koa';
import { AppError, RateLimitedError } from '../errors.ts';
import type { Authenticate } from '../principal/authenticate.ts';
import type { Principal } from '../principal/principal.ts';
import { rateLimitHeaders, type Quota, type RateLimitDecision, type RateLimiter } from '../rate-limit/quotas.ts';

declare module 'koa' {
  interface DefaultState {
    /** Set once a request's quota has been spent, so it is never counted twice. */
    rateLimit?: RateLimitDecision;
  }
}

/** Spend one request of a quota; set the RateLimit headers; 429 (with Retry-After) when it is spent. */
export async function enforceQuota(ctx: Context, limiter: RateLimiter, quota: Quota): Promise<RateLimitDecision> {
  const decision = await limiter.consumeQuota(quota);
  applyDecision(ctx, decision);
  return decision;
}

/** Spend one request of the principal's quota, once per request. */
export async function enforcePrincipalQuota(ctx: Context, limiter: RateLimiter, principal: Principal): Promise<RateLimitDecision> {
  if (ctx.state.rateLimit) {
    // Spent already (by an earlier guard, or by the verify fast lane, which leaves refusals to us).
    applyDecision(ctx, ctx.state.rateLimit);
    return ctx.state.rateLimit;
  }
  const decision = await limiter.consume(principal);
  ctx.state.rateLimit = decision;
  applyDecision(ctx, decision);
  return decision;
}

function applyDecision(ctx: Context, decision: RateLimitDecision): void {
  const headers = rateLimitHeaders(decision);
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  if (!decision.allowed) {
    const err = new RateLimitedError(
      decision.retryAfterMs / 1000,
      `Rate limit of ${decision.policy.limit} requests per ${decision.policy.windowSeconds}s exceeded, retry later`,
    );
    // The error boundary renders headers from the error: keep the RateLimit fields on the 429.
    Object.assign(err.headers, headers);
    throw err;
  }
}

/**
 * Before every route of a surface: a request that carries a valid credential spends one request
 * of its subject's quota, whatever the route. A credential that is refused is left to the route's
 * guard (which answers 401 in the surface's dialect); no credential, no quota. A store that could
 * not say (unavailable) fails the request here: asking it again in the guard would only wait out
 * another command timeout.
 */
export function rateLimitAuthenticated(authenticate: Authenticate, limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    let principal: Principal | null = null;
    try {
      principal = await authenticate(ctx);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
    if (principal) await enforcePrincipalQuota(ctx, limiter, principal);
    return next();
  };
}

/**
 * /store: a publishable key that has its own `rate_limit` spends that quota on every request.
 * Keys without one are not limited: a storefront's key is shared by all its visitors.
 */
export function rateLimitPublishableKey(limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    const key = ctx.state.publishableKey;
    const policy = limiter.override(key?.rateLimit);
    if (key && policy) await enforceQuota(ctx, limiter, { subject: `api_key:${key.id}`, policy });
    return next();
  };
}
