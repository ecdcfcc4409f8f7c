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
  const provider = createProvider({ ...s, pages: providerPages(brand) });
  // Behind a trusted proxy the URLs follow X-Forwarded-Proto/Host; otherwise PUBLIC_URL.
  if (s.config.trustProxy.mode === 'off') provider.use(pinPublicOrigin(s.config.issuer));
  const pages = createPagesRouter({
    provider,
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
    provider,
    operations: s.operations,
    brand,
    audit: s.audit,
    resetRequests: s.resetRequests,
    resets: s.passwordResets,
  });
  const findAccount = createFindAccount(s.accounts);
  const mounted = mountProvider(provider, {
    prefix: OAUTH_PREFIX,
    bodyLimit: s.config.bodyLimit,
    extraScopes: splitScopes(s.config.oauth.scopes).resource,
    userinfoForJwt: (ctx) => answerUserinfoForJwt(ctx, { provider, authenticate: s.authenticate, findAccount }),
    authorizationGuard: createAuthorizationQuota({ limiter: s.rateLimiter }),
  });
  return { provider: mounted, pages, recovery };
}
