import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.ts';
import { logRequest, requestIdOf } from '../../http/request-log.ts';
import { API_RESPONSE_HEADERS } from '../../http/security-headers.ts';
import { rateLimitHeaders, type RateLimiter } from '../../rate-limit/quotas.ts';
import type { Credential, CredentialResolver, Principal } from '../../principal/principal.ts';
import { readCredential } from '../../principal/read-credential.ts';
import { forwardAuthHeaders, forwardedRequest } from './forward-auth.ts';
import { verifyResponse } from './auth.ts';

/**
 * The hot path of `GET /v1/auth/verify`: a credential this process has already verified (by a
 * resolver that remembers what it verified, `CredentialResolver.known`: a JWT, first-party or
 * OAuth, or a secret API key, Bearer or Basic) is answered here, ahead of the general
 * pipeline, with one store round trip (its recheck, the revocation record or the key's record,
 * sent together with the quota spend) and one write of the response head. Everything else takes the general pipeline, which stays the reference: the
 * first sight of a token, other credentials, `?scope=`, other methods, a revoked token, a spent
 * quota, a store failure (handed on as the request's authentication failure, so it is not retried).
 * Those fall through before anything is written, and the answer is the same either way (test/e2e/verify-fast-lane.test.ts compares them).
 *
 * Why not only make the pipeline cheaper: most of a verify's cost was Node's per-header
 * validation (setHeader) and Koa's response bookkeeping; writing the head as one array skips both.
 */
export function verifyFastLane(deps: {
  resolvers: readonly CredentialResolver[];
  rateLimiter: RateLimiter;
  logger: Logger;
  metrics?: Metrics;
}): Middleware {
  const { rateLimiter, logger } = deps;
  // The resolvers authenticate() asks, in its order, that remember what they verified; each counts its answers.
  const lanes = deps.resolvers.flatMap((r) => (r.known ? [{ known: r.known, answered: deps.metrics?.fastLaneAnswers(r.name) }] : []));
  const rendered = new WeakMap<Principal, { body: string; tail: string[] }>();
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/v1/auth/verify' || ctx.querystring) return next();
    let credential: Credential | null;
    try {
      credential = readCredential(ctx);
    } catch {
      return next(); // malformed: the pipeline answers it
    }
    if (!credential) return next();
    let token: string | undefined;
    let seen: Principal | undefined;
    let lane: (typeof lanes)[number] | undefined;
    for (lane of lanes) if ((token = lane.known.tokenOf(credential)) !== undefined && (seen = lane.known.principalOf(token))) break;
    if (!seen || !lane || token === undefined) return next();
    const source = lane.known;

    const started = performance.now();
    let principal: Principal | null;
    let decision: Awaited<ReturnType<RateLimiter['consume']>>;
    try {
      // Both in one round trip (what the quota needs of the credential never changes). A token
      // that no longer holds may spend one request of its subject's quota here, once: it is then
      // forgotten, and its next use is refused by the pipeline before any quota.
      [principal, decision] = await Promise.all([source.recheck(token, seen), rateLimiter.consume(seen)]);
    } catch (err) {
      // Final for this request: the pipeline answers it in the /v1 dialect (503 for an
      // unavailable store) without asking the store again and waiting out a second timeout.
      ctx.state.authenticationFailure = err;
      return next();
    }
    if (!principal) {
      source.forget(token);
      return next();
    }
    if (!decision.allowed) {
      // The pipeline renders the 429 from this decision instead of spending again.
      ctx.state.principal = principal;
      ctx.state.rateLimit = decision;
      return next();
    }

    let known = rendered.get(principal);
    if (!known) {
      // A JWT's answer never changes: rendered once per token (as long as its cache entry lives). An
      // API key's Principal is read afresh every time (a scheduled revocation changes expires_at).
      const body = JSON.stringify(verifyResponse(principal));
      const tail: string[] = [];
      for (const [name, value] of Object.entries(forwardAuthHeaders(principal))) tail.push(name, value);
      tail.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)));
      known = { body, tail };
      rendered.set(principal, known);
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
    lane.answered?.();
    logRequest(deps, ctx, started);
  };
}
