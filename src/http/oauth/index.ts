import type { Middleware } from 'koa';
import type Router from '@koa/router';
import type { Services } from '../../services.ts';
import { mountProvider } from './mount.ts';
import { createPagesRouter } from './pages.ts';
import { createProvider, OAUTH_PREFIX } from '../../oauth/provider.ts';
import { splitScopes } from '../../oauth/scopes.ts';
import { createFindAccount } from '../../oauth/accounts.ts';
import { answerUserinfoForJwt } from './userinfo-jwt.ts';
import { createAuthorizationQuota } from './authorization-quota.ts';
import { providerPages } from './provider-pages.ts';
import { pinPublicOrigin } from './public-origin.ts';
import { createRecoveryRouter } from './recovery-pages.ts';

/**
 * The OAuth 2.0 / OpenID Connect surface: the provider mounted at /oauth (plus the discovery
 * documents), and our login/consent pages, which app.ts mounts as the /oauth surface after it.
 */
export function createOAuth(s: Services): { provider: Middleware; pages: Router; recovery: Router } {
  const brand = s.config.branding;
  const build = () => {
    const built = createProvider({ ...s, pages: providerPages(brand) });
    // Behind a trusted proxy the URLs follow X-Forwarded-Proto/Host; otherwise PUBLIC_URL.
    if (s.config.trustProxy.mode === 'off') built.use(pinPublicOrigin(s.config.issuer));
    // /oauth/jwks is cacheable as /.well-known/jwks.json is (JWKS_MAX_AGE).
    built.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'jwks' && ctx.status === 200) ctx.set('Cache-Control', `public, max-age=${s.config.jwksMaxAge}`);
    });
    return built;
  };
  // oidc-provider takes its keys at construction and has no public way to change them: a change of
  // the signing keys builds a new instance, which the next request uses (one in flight finishes on
  // the old one). Both read sessions, grants and clients from the store, so they agree on state.
  let provider = build();
  s.signingKeys.onChange(() => {
    try {
      provider = build();
    } catch (err) {
      s.logger.error({ err: { message: (err as Error).message } }, 'oauth: cannot rebuild the provider with the new signing keys');
    }
  });
  const current = () => provider;
  const pages = createPagesRouter({
    provider: current,
    operations: s.operations,
    cookieSecret: s.config.cookieSecret,
    // The throttled password login every login surface shares.
    login: (ctx, actorType, email, password) => s.passwordLogin(ctx, actorType, email, password),
    findAccount: (id) => s.accounts.get(id),
    audit: s.audit,
    brand,
    issuer: s.config.issuer,
    signup: s.config.customerSignup
      ? {
          admit: (ctx) => s.anonymousQuotas.admitRegistration(ctx.ip),
          createCustomer: (email, password) => s.accounts.create({ actorType: 'customer', email, password }),
        }
      : undefined,
  });
  // "Forgot password?" and the emailed link's page (/account/forgot, /account/reset).
  const recovery = createRecoveryRouter({
    provider: current,
    operations: s.operations,
    brand,
    audit: s.audit,
    resetRequests: s.resetRequests,
    resets: s.passwordResets,
  });
  const findAccount = createFindAccount(s.accounts);
  const mounted = mountProvider(current, {
    prefix: OAUTH_PREFIX,
    bodyLimit: s.config.bodyLimit,
    extraScopes: splitScopes(s.config.oauth.scopes).resource,
    userinfoForJwt: (ctx) => answerUserinfoForJwt(ctx, { provider: current(), authenticate: s.authenticate, findAccount }),
    authorizationGuard: createAuthorizationQuota({ limiter: s.rateLimiter }),
  });
  return { provider: mounted, pages, recovery };
}
