import type Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import type { Dialect } from './http/dialects.ts';
import { mountSurface } from './http/surface.ts';
import { requestLog } from './http/request-log.ts';
import { trustForwardedHeaders } from './http/client-address.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createOperationsRouter } from './routes/operations.ts';
import { createV1AuthRouter } from './routes/v1/auth.ts';
import { createV1AccountRouter } from './routes/v1/account.ts';
import { adminBefore, createAdminRouters } from './routes/admin/index.ts';
import { authBefore, createMedusaAuthRouter } from './routes/auth/index.ts';
import { createStoreRouter, storeBefore } from './routes/store/index.ts';
import type { Services } from './services.ts';
import { rateLimitAuthenticated, rateLimitPublishableKey } from './http/rate-limit.ts';
import { createOAuth } from './http/oauth/index.ts';
import { createOpenApiRouter } from './openapi/router.ts';
import { deadline } from './http/deadline.ts';
import { verifyFastLane } from './routes/v1/verify-fast-lane.ts';
import { cookieWriteGuard } from './http/cookie-writes.ts';
import { allowedMethods } from './http/allowed-methods.ts';
import { requireValidHost } from './http/host-header.ts';
import { SESSION_COOKIE } from './principal/session.ts';
import { createAccountPagesRouter } from './http/account/pages.ts';
import { consolePages } from './http/console/pages.ts';

/** Longest the server works on one request before answering 503 (argon2 queues included). */
const REQUEST_DEADLINE_MS = 20_000;

interface SurfaceParts {
  prefix: string;
  dialect: Dialect;
  /** CORS, guards and rate limits that run before every route of the surface. */
  before: Middleware[];
  routers: Router[];
}

/**
 * Build the Koa app from its parts: the one place that wires surfaces to services.
 * Each surface (src/http/surface.ts) gets its prefix, error dialect, body limit and routes.
 */
export async function createApp(s: Services): Promise<Koa> {
  const { config, logger } = s;
  const app = new Koa({ keys: [config.cookieSecret] });
  app.silent = true;
  // ctx.ip, ctx.protocol and ctx.host follow TRUST_PROXY (hops or proxy list), read from the right.
  trustForwardedHeaders(app, config.trustProxy);
  // Clients reach an https PUBLIC_URL over TLS even when the last hop (a TLS-terminating proxy
  // without TRUST_PROXY) is plain http, and production runs on https (config.ts): the request
  // counts as secure, so every cookie, ours and oidc-provider's alike, is Secure. Otherwise it is
  // secure when the socket is TLS or X-Forwarded-Proto from a trusted proxy says https.
  if (config.secureCookies) Object.defineProperty(app.request, 'secure', { get: () => true });

  // Ahead of everything: repeat verifications of a known credential (the hot path) answer here.
  app.use(verifyFastLane({ ...s, resolvers: s.credentialResolvers }));
  app.use(requestLog(s));
  app.use(securityHeaders());
  app.use(deadline(REQUEST_DEADLINE_MS, logger));
  // Before anything builds a URL from the Host header (the provider's discovery and redirects).
  app.use(requireValidHost((path) => dialectOf(path)));

  // OAuth 2.0 / OIDC: oidc-provider mounted at /oauth, plus the discovery documents.
  // It parses its own bodies, so it runs before every surface's body parser; what it does not
  // answer (our login/consent pages, unknown paths) falls through to the /oauth surface below.
  const oauth = createOAuth(s);
  app.use(oauth.provider);

  // Every request carrying a valid credential spends its subject's quota (after CORS, so a 429 is readable cross-origin).
  const quota = rateLimitAuthenticated(s.authenticate, s.rateLimiter);
  // Writes authenticated by the session cookie come from trusted origins only (after CORS, whose origins it trusts).
  const cookieWrites = cookieWriteGuard({
    sessionCookie: SESSION_COOKIE,
    trustedOrigins: [new URL(config.publicUrl).origin],
    readOnlyPaths: ['/v1/auth/verify'],
  });
  const surfaces: SurfaceParts[] = [
    { prefix: '/v1', dialect: 'v1', before: [cookieWrites, quota], routers: [createV1AuthRouter(s), createV1AccountRouter(s)] },
    { prefix: '/admin', dialect: 'medusa', before: [...adminBefore(s), cookieWrites, quota], routers: [...createAdminRouters(s)] },
    {
      prefix: '/store',
      dialect: 'medusa',
      before: [...storeBefore(s), cookieWrites, rateLimitPublishableKey(s.rateLimiter), quota],
      routers: [createStoreRouter(s)],
    },
    { prefix: '/auth', dialect: 'medusa', before: [...authBefore(s), cookieWrites, quota], routers: [createMedusaAuthRouter(s)] },
    { prefix: '/oauth', dialect: 'oauth', before: [], routers: [oauth.pages] },
    // The password-reset pages; ahead of any /account surface, which would otherwise own these paths.
    { prefix: '/account/forgot', dialect: 'plain', before: [], routers: [oauth.recovery] },
    { prefix: '/account/reset', dialect: 'plain', before: [], routers: [oauth.recovery] },
    // The account page: HTML forms with their own CSRF tokens and Origin check (src/http/account/form-guard.ts).
    { prefix: '/account', dialect: 'plain', before: [], routers: [createAccountPagesRouter(s)] },
  ];
  for (const surface of surfaces) {
    app.use(mountSurface({ ...surface, logger, bodyLimit: config.bodyLimit }));
  }
  /** The error dialect of a path, for what is answered before the surfaces. */
  function dialectOf(path: string): Dialect {
    const surface = surfaces.find((x) => path === x.prefix || path.startsWith(x.prefix + '/'));
    return surface?.dialect ?? (path.startsWith('/.well-known/') ? 'oauth' : 'plain');
  }

  // The admin console (/app) and its assets; `/` sends a browser there.
  app.use(consolePages(logger));

  const operations = createOperationsRouter(s);
  app.use(operations.routes());
  app.use(allowedMethods(operations));
  // After every surface: the document describes each route defined above.
  app.use(createOpenApiRouter({ operations: s.operations, publicUrl: config.publicUrl }).routes());
  return app;
}
