import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.ts';
import { logRequest, requestIdOf } from '../../http/request-log.ts';
import { API_RESPONSE_HEADERS } from '../../http/security-headers.ts';
import { principalOfClaims } from '../../principal/first-party-jwt.ts';
import { rateLimitHeaders, type RateLimiter } from '../../rate-limit/quotas.ts';
import type { FirstPartyClaims, JwtService } from '../../tokens/jwt.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Revocations } from '../../tokens/revocations.ts';
import { forwardAuthHeaders, forwardedRequest } from './forward-auth.ts';
import { verifyResponse } from './auth.ts';

const BEARER = /^Bearer ([^\s]+)$/i;

/** Tokens whose signature and claims a resolver has already checked, as the Principal they stand for. */
export interface KnownTokens {
  signatureChecked(token: string): Principal | undefined;
  forget(token: string): void;
}

/** First-party JWTs as KnownTokens: one Principal object per cached claims object. */
export function knownFirstPartyTokens(jwt: JwtService): KnownTokens {
  const principals = new WeakMap<FirstPartyClaims, Principal>();
  return {
    signatureChecked(token) {
      const claims = jwt.signatureChecked(token);
      if (!claims) return undefined;
      let principal = principals.get(claims);
      if (!principal) principals.set(claims, (principal = principalOfClaims(claims)));
      return principal;
    },
    forget: (token) => jwt.forget(token),
  };
}

/**
 * The hot path of `GET /v1/auth/verify`: a JWT (first-party or OAuth access token) this process
 * has already verified (signature, claims, expiry) is answered here, ahead of the general pipeline, with one store
 * round trip (the revocation check and the quota spend, sent together) and one write of the
 * response head. Everything else takes the general pipeline, which stays the reference: the
 * first sight of a token, other credentials, `?scope=`, other methods, a revoked token, a spent
 * quota, a store failure. Those fall through before anything is written, and the answer is the
 * same either way (test/e2e/verify-fast-lane.test.ts compares them).
 *
 * Why not only make the pipeline cheaper: most of a verify's cost was Node's per-header
 * validation (setHeader) and Koa's response bookkeeping; writing the head as one array skips both.
 */
export function verifyFastLane(deps: { known: KnownTokens[]; revocations: Revocations; rateLimiter: RateLimiter; logger: Logger; metrics?: Metrics }): Middleware {
  const { known: sources, revocations, rateLimiter, logger } = deps;
  const rendered = new WeakMap<Principal, { body: string; tail: string[] }>();
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/v1/auth/verify' || ctx.querystring) return next();
    const token = BEARER.exec(ctx.get('authorization'))?.[1];
    if (token === undefined) return next();
    let principal: Principal | undefined;
    let source: KnownTokens | undefined;
    for (source of sources) if ((principal = source.signatureChecked(token))) break;
    if (!principal || !source) return next();

    const started = performance.now();
    let known = rendered.get(principal);
    if (!known) {
      // What a token's answer always is, rendered once per token (it lives as long as its cache entry).
      const body = JSON.stringify(verifyResponse(principal));
      const tail: string[] = [];
      for (const [name, value] of Object.entries(forwardAuthHeaders(principal))) tail.push(name, value);
      tail.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)));
      known = { body, tail };
      rendered.set(principal, known);
    }
    let revoked: boolean;
    let decision: Awaited<ReturnType<RateLimiter['consume']>>;
    try {
      // Both in one round trip. A revoked token may spend one request of its subject's quota here,
      // once: it leaves the cache, so its next use is refused by the pipeline before any quota.
      [revoked, decision] = await Promise.all([revocations.isRevoked(principal.sid!, principal.jti!), rateLimiter.consume(principal)]);
    } catch {
      return next(); // the pipeline meets the same store failure and answers it in the /v1 dialect
    }
    if (revoked) {
      source.forget(token);
      return next();
    }
    if (!decision.allowed) {
      // The pipeline renders the 429 from this decision instead of spending again.
      ctx.state.principal = principal;
      ctx.state.rateLimit = decision;
      return next();
    }

    const id = requestIdOf(ctx);
    if (logger.isLevelEnabled('debug')) {
      const forwarded = forwardedRequest(ctx);
      if (forwarded) logger.debug({ reqId: id, forwarded, method: principal.method }, 'forward auth');
    }
    const head: string[] = ['X-Request-Id', id, ...API_RESPONSE_HEADERS];
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) head.push(name, value);
    head.push(...known.tail);
    ctx.respond = false;
    ctx.res.writeHead(200, head);
    ctx.res.end(known.body);
    logRequest(deps, ctx, started);
  };
}
