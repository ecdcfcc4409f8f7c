import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Audit } from '../audit/audit.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/port.ts';
import { ALLOWED_ALGS, type Keystore } from '../tokens/keystore.ts';
import { CLAIMS, createFindAccount } from './accounts.ts';
import { createOAuthAdapterFactory } from './adapter.ts';
import { EXTRA_CLIENT_METADATA } from './client-metadata.ts';
import type { OAuthClients } from './clients.ts';
import { featuresConfiguration, type ProviderPages } from './features.ts';
import type { OAuthGrants } from './grants.ts';
import { interactionsConfiguration } from './interactions.ts';
import { splitScopes } from './scopes.ts';
import { extraTokenClaims } from './token-claims.ts';
import { ttlConfiguration } from './ttl.ts';
import { authorizationParamLimits } from './request-limits.ts';
import type { SignIns } from '../accounts/sign-ins.ts';
import { createRecordRefs } from './record-refs.ts';
import { createOutageGuard } from './unavailable.ts';

export const OAUTH_PREFIX = '/oauth';

/** Endpoint paths under /oauth. */
const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  jwks: '/jwks',
  introspection: '/introspect',
  revocation: '/revoke',
  userinfo: '/userinfo',
  end_session: '/end-session',
  pushed_authorization_request: '/par',
} as const;

export interface ProviderDeps {
  config: Config;
  store: Store;
  logger: Logger;
  keystore: Keystore;
  accounts: Accounts;
  oauthClients: OAuthClients;
  oauthGrants: OAuthGrants;
  signIns: SignIns;
  pages: ProviderPages;
  audit: Audit;
}

/**
 * The oidc-provider instance, assembled from configuration split by concern (features, clients,
 * accounts, TTLs, interactions). It is mounted under /oauth by src/http/oauth/mount.ts.
 */
export function createProvider(d: ProviderDeps): Provider {
  const { config } = d;
  const scopes = splitScopes(config.oauth.scopes);
  const outage = createOutageGuard(d.logger);
  const findAccount = createFindAccount(d.accounts);
  const roleGoverned = new Set(Object.values(config.roleScopes).flat());
  const configuration: Configuration = {
    adapter: createOAuthAdapterFactory({
      store: d.store,
      grants: d.oauthGrants,
      clients: d.oauthClients,
      signIns: d.signIns,
      offeredScopes: scopes,
      refOf: createRecordRefs(config.apiKeyPepper),
      outage,
    }),
    jwks: d.keystore.privateJwks as Configuration['jwks'],
    // Secure follows the request (ctx.secure): TLS, X-Forwarded-Proto with TRUST_PROXY=1, or always
    // in production and with an https PUBLIC_URL (app.ts). Forcing it here instead would make every
    // flow fail with a 500 on a plain-http hop that Koa does not count as secure.
    cookies: {
      keys: [config.cookieSecret],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    routes: ROUTES,
    scopes: scopes.oidc,
    claims: CLAIMS,
    findAccount: (ctx, sub, token) => outage.call(async () => findAccount(ctx, sub, token)),
    features: featuresConfiguration(config, scopes, d.pages, {
      // A scope some role holds (ROLE_SCOPES) is the account's only if its role holds it now; a
      // scope no role names (an OAuth-only scope of OAUTH_SCOPES) is the client's and the consent's.
      scopeAllowedFor: async (id) => {
        const account = await d.accounts.active(id);
        const held = new Set(account ? config.roleScopes[account.actor_type === 'user' ? (account.role ?? 'member') : 'customer'] : []);
        return (scope) => held.has(scope) || !roleGoverned.has(scope);
      },
    }),
    ttl: ttlConfiguration(config),
    interactions: interactionsConfiguration(),
    clients: [],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    responseTypes: ['code'],
    // PKCE (S256, the only method v9 knows) is required of public clients and optional for
    // confidential ones, so the reference document's flow without PKCE works as written.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    // What we sign with: the algorithms our keys may have (src/tokens/keystore.ts); discovery lists those a key exists for.
    enabledJWA: {
      idTokenSigningAlgValues: [...ALLOWED_ALGS],
      userinfoSigningAlgValues: [...ALLOWED_ALGS],
      introspectionSigningAlgValues: [...ALLOWED_ALGS],
      authorizationSigningAlgValues: [...ALLOWED_ALGS],
      // What clients sign with (request objects, private_key_jwt): unchanged by our keys.
      requestObjectSigningAlgValues: ['RS256', 'ES256'],
      clientAuthSigningAlgValues: ['RS256', 'ES256'],
    },
    // Refresh tokens for every client registered with the refresh_token grant, no offline_access
    // needed; they rotate on every use (reuse revokes the grant).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // What an app gets ends with the sign-in it came from: logout at end-session revokes the
    // session's grants, and a refresh token stops when its session is gone (sign-out everywhere,
    // a password reset, another account signing in). Only offline_access, which the user allows
    // on the consent page as "keep access while you are not using it" (OpenID Connect Core §11),
    // makes a grant outlive the sign-in; it is then withdrawn per app.
    expiresWithSession: async (_ctx, token) => !token.scopes.has('offline_access'),
    rotateRefreshToken: true,
    extraTokenClaims,
    renderError: d.pages.renderError,
    // Browsers may call userinfo (and, for public clients, the token endpoint) from the origin of
    // one of the client's redirect URIs.
    clientBasedCORS: (ctx, origin, client) =>
      origin !== 'null' &&
      (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') &&
      client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin),
    conformIdTokenClaims: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    extraParams: authorizationParamLimits(),
  };

  const provider = new Provider(config.issuer, configuration);
  // The provider runs on our app's context (src/http/oauth/mount.ts), whose ctx.ip/protocol/host already follow
  // TRUST_PROXY (src/http/client-address.ts); its own Koa app must not apply Koa's leftmost-entry rule.
  provider.proxy = false;
  provider.use(outage.middleware);

  // Client secrets are stored as keyed hashes: compare a presented secret against the hash.
  const clients = d.oauthClients;
  (
    provider.Client.prototype as unknown as { compareClientSecret: (this: { clientSecret?: string }, actual: string) => Promise<boolean> }
  ).compareClientSecret = async function compareClientSecret(actual) {
    return clients.verifySecret(this.clientSecret, actual);
  };

  provider.on('server_error', (_ctx: unknown, err: Error) => d.logger.error({ err }, 'oauth: server error'));
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    void d.audit.record('oauth_grant.revoked', {
      actor: ctx.oidc?.client ? { type: 'oauth_client', id: ctx.oidc.client.clientId } : undefined,
      subject: { type: 'oauth_grant', id: grantId },
      request: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: (ctx.state as { requestId?: string }).requestId },
      data: { via: ctx.oidc?.route ?? '' },
    });
  });
  // Signing out at the OAuth server (RP-initiated logout) is a logout like the other surfaces'.
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc?.session?.accountId;
    if (!accountId) return;
    const actor = { type: accountId.startsWith('cus_') ? 'customer' : 'user', id: accountId } as const;
    void d.audit.record('auth.logout', {
      actor,
      subject: actor,
      request: { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: (ctx.state as { requestId?: string }).requestId },
      data: { surface: 'oauth', ...(ctx.oidc?.client ? { client_id: ctx.oidc.client.clientId } : {}) },
    });
  });
  return provider;
}
