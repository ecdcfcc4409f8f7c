import { createAccounts } from './accounts/accounts.ts';
import { createAccountAdministration } from './accounts/administration.ts';
import { createApiKeys } from './api-keys/api-keys.ts';
import { createSalesChannels } from './api-keys/sales-channels.ts';
import { createPasswordHasher } from './accounts/passwords.ts';
import { longestAccessTtl, type Config } from './config.ts';
import { OperationRegistry } from './http/route.ts';
import type { Logger } from './logger.ts';
import { createAuthenticator } from './principal/authenticate.ts';
import { apiKeyResolver } from './principal/api-key.ts';
import { firstPartyJwtResolver } from './principal/first-party-jwt.ts';
import { createSessions, SESSION_COOKIE, sessionResolver } from './principal/session.ts';
import type { Store } from './store/port.ts';
import { createJwtService } from './tokens/jwt.ts';
import { createSigningKeys } from './tokens/signing-keys-for-config.ts';
import { createRefreshFamilies } from './tokens/refresh-families.ts';
import { createSignOut } from './tokens/sign-out.ts';
import { createRevocations } from './tokens/revocations.ts';
import { createLoginThrottle } from './rate-limit/login-throttle.ts';
import { createPasswordLogin } from './accounts/password-login.ts';
import { createRateLimiter } from './rate-limit/quotas.ts';
import { createRefusalTally } from './rate-limit/refusal-tally.ts';
import { createAnonymousQuotas } from './rate-limit/anonymous-quotas.ts';
import { createOAuthClients } from './oauth/clients.ts';
import { createOAuthGrants } from './oauth/grants.ts';
import { endOAuthSession } from './oauth/adapter.ts';
import { createSignIns } from './accounts/sign-ins.ts';
import { createPendingIdentities } from './accounts/pending-identities.ts';
import { createPasswordResets } from './accounts/password-resets.ts';
import { createMetrics } from './metrics.ts';
import { oauthAccessTokenResolver } from './principal/oauth-access-token.ts';
import { registrationTokenResolver } from './principal/registration-token.ts';
import { createActorTokens } from './tokens/actor-tokens.ts';
import { createAudit } from './audit/audit.ts';
import { createResetRequests } from './accounts/reset-requests.ts';
import { createOverview } from './audit/overview.ts';
import { createGrantAdministration } from './oauth/grant-administration.ts';
import { createWebhookNotifier } from './notify/webhook.ts';
import { createPasswordChange } from './accounts/password-change.ts';
import { createConnectedApps } from './oauth/connected-apps.ts';

/**
 * The domain libraries, built from config and a store: the one place that decides which
 * implementation each part gets. Routes and tests take what they need from here.
 */
/** What tests may replace beyond the configuration. */
export interface ServiceOverrides {
  /** The failed-login back-off's clock, so a test decides when a back-off has passed. */
  loginThrottleClock?: () => number;
}

export async function createServices(config: Config, store: Store, logger: Logger, overrides: ServiceOverrides = {}) {
  const passwords = createPasswordHasher({ maxWaitMs: config.loginQueueTimeout * 1000, nice: config.passwordHashNice });
  const metrics = createMetrics({ passwordHasherStats: passwords.stats });
  const accounts = createAccounts({ store, passwords });
  const revocations = createRevocations(store, longestAccessTtl(config), { oauthAccessSeconds: config.ttl.oauthAccess });
  const webhook = createWebhookNotifier({ url: config.notifyWebhookUrl, logger });
  const signIns = createSignIns({ store });
  const audit = createAudit({
    store,
    logger,
    retentionMs: config.auditRetention * 1000,
    notify: webhook,
    pseudonymKey: config.apiKeyPepper,
  });
  // Signing keys in memory, kept in step with the store (rotation, revocation) by a poll: docs/signing-keys.md.
  const signingKeys = await createSigningKeys(config, { store, logger, audit });
  const keystore = signingKeys.keystore;
  const jwt = createJwtService({
    keystore,
    revocations,
    issuer: config.issuer,
    audience: config.audience,
    registrationTtlSeconds: config.ttl.customer,
  });
  const refreshFamilies = createRefreshFamilies({
    store,
    onReuseDetected: (family) =>
      audit.record('auth.refresh_token_reused', {
        subject: { type: family.actorType, id: family.sub },
        outcome: 'failure',
        data: { family_revoked: true },
      }),
    jwt,
    revocations,
    signIns,
    accounts,
    roleScopes: config.roleScopes,
    refreshTtl: config.ttl.refresh,
    reuseGraceSeconds: config.refreshReuseGrace,
  });
  const apiKeys = createApiKeys({ store, pepper: config.apiKeyPepper });
  const salesChannels = createSalesChannels({ store });
  const sessions = createSessions({ store, signIns });
  const pendingIdentities = createPendingIdentities({ store });
  const passwordResets = createPasswordResets({
    store,
    accounts,
    signIns,
    logger,
    notify: webhook,
    resetUrl: (token) => config.resetUrlTemplate.replace('{token}', encodeURIComponent(token)),
  });
  // Each kind of sign-in ends the way the module that stores it says ("sign out everywhere", a password reset).
  signIns.registerEnd('lineage', (sid, signIn) => revocations.revokeLineage(sid, signIn.expiresAtMs));
  signIns.registerEnd('family', (familyId) => refreshFamilies.revokeFamily(familyId));
  signIns.registerEnd('session', (ref) => sessions.endSignIn(ref));
  signIns.registerEnd('oauth-session', endOAuthSession({ store, revocations }));
  const actorTokens = createActorTokens({ jwt, signIns, revocations, roleScopes: config.roleScopes, ttl: config.ttl });
  const signOut = createSignOut({ signIns, sessions, refreshFamilies });
  // One list for authenticate() and the verify fast lane, so no kind of credential can miss either.
  const credentialResolvers = [
    apiKeyResolver({ apiKeys, accounts, roleScopes: config.roleScopes }),
    firstPartyJwtResolver(jwt, revocations),
    sessionResolver({ sessions, accounts, revocations, roleScopes: config.roleScopes }),
    registrationTokenResolver(jwt),
    oauthAccessTokenResolver({ keystore, revocations, issuer: config.issuer, audience: config.oauth.resourceAudience }),
  ];
  const authenticate = createAuthenticator(credentialResolvers, { sessionCookie: SESSION_COOKIE });

  // Quotas per credential and the throttled password login every login surface uses.
  const refusalTally = createRefusalTally({ store });
  const rateLimiter = createRateLimiter({
    store,
    rateLimits: config.rateLimits,
    onRefused: (subject) => {
      metrics.rateLimited(subject.slice(0, subject.indexOf(':')));
      refusalTally.note();
    },
  });
  const loginThrottle = createLoginThrottle({ store, now: overrides.loginThrottleClock });
  const anonymousQuotas = createAnonymousQuotas({ store });
  const resetRequests = createResetRequests({ admit: anonymousQuotas.admitResetRequest, resets: passwordResets, audit });

  const passwordLogin = createPasswordLogin({
    accounts,
    throttle: loginThrottle,
    onOutcome: metrics.login,
    audit,
  });

  // OAuth clients and grants; the provider itself is built by src/oauth for app.ts.
  const oauthGrants = createOAuthGrants({ store, revocations });
  const oauthClients = createOAuthClients({
    store,
    pepper: config.apiKeyPepper,
    offeredScopes: config.oauth.scopes,
    grants: oauthGrants,
    revocations,
    production: config.env === 'production',
  });

  const accountAdministration = createAccountAdministration({ store, accounts, apiKeys, signIns });
  const grantAdministration = createGrantAdministration({ oauthGrants, oauthClients, audit });

  // What a signed-in person does to their own account (the account page and /v1/account).
  const passwordChange = createPasswordChange({ accounts, throttle: loginThrottle, signIns });
  const connectedApps = createConnectedApps({ grants: oauthGrants, clients: oauthClients });
  // The console's overview: counts from existing indexes, the audit stream and the shared refusal tally.
  const overview = createOverview({ store, apiKeys, quotaRefusals: refusalTally.lastDay });

  // Every route defined with defineRoute lands here: the source of /openapi.json.
  const operations = new OperationRegistry();

  return {
    config,
    store,
    logger,
    metrics,
    operations,
    keystore,
    signingKeys,
    passwords,
    accounts,
    signIns,
    revocations,
    jwt,
    credentialResolvers,
    refreshFamilies,
    actorTokens,
    signOut,
    pendingIdentities,
    passwordResets,
    authenticate,
    apiKeys,
    salesChannels,
    sessions,
    rateLimiter,
    refusalTally,
    loginThrottle,
    anonymousQuotas,
    resetRequests,
    passwordLogin,
    oauthGrants,
    oauthClients,
    audit,
    accountAdministration,
    passwordChange,
    connectedApps,
    overview,
    grantAdministration,
  };
}
export type Services = Awaited<ReturnType<typeof createServices>>;
