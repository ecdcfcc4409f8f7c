import { errors, type Configuration } from 'oidc-provider';
import type { Config } from '../config.ts';
import { refuseScopeNarrowedToNothing } from './scope-request.ts';
import type { ScopeSets } from './scopes.ts';

type Features = NonNullable<Configuration['features']>;
type RpInitiatedLogout = NonNullable<Features['rpInitiatedLogout']>;

/** The pages the provider renders itself, in our look: supplied by the HTTP side (src/http/oauth/provider-pages.ts). */
export interface ProviderPages {
  /** The logout confirmation form of end-session. */
  logoutSource: NonNullable<RpInitiatedLogout['logoutSource']>;
  /** What a browser sees after end-session without a post_logout_redirect_uri. */
  postLogoutSuccessSource: NonNullable<RpInitiatedLogout['postLogoutSuccessSource']>;
  /** The provider's error page. */
  renderError: NonNullable<Configuration['renderError']>;
}

/**
 * Which oidc-provider features are on, and the API resource server. Every access token for our
 * API is a JWT (RFC 9068) for the default resource, whose audience is OAUTH_RESOURCE_AUDIENCE;
 * a request for OpenID Connect scopes only gets an opaque token for /oauth/userinfo instead.
 *
 * Every feature oidc-provider v9 turns on by default is named here with our decision (README,
 * "OAuth features enabled"); the others stay off as the library ships them.
 */
export function featuresConfiguration(
  config: Config,
  scopes: ScopeSets,
  pages: ProviderPages,
  deps: {
    /** Which API scopes an account's role allows now (ROLE_SCOPES); none for an account that is gone. */
    scopeAllowedFor?: (accountId: string) => Promise<(scope: string) => boolean>;
  } = {},
): Features {
  const audience = config.oauth.resourceAudience;
  const offered = new Set([...scopes.oidc, ...scopes.resource]);
  const oidcScopes = new Set(scopes.oidc);
  return {
    // On by default in the library: the development login pages (ours replace them) ...
    devInteractions: { enabled: false },
    // ... and DPoP: a DPoP-bound token is only as safe as every place that checks the proof, and
    // /v1/auth/verify, userinfo and the Medusa surfaces take Bearer tokens; so no DPoP binding.
    dPoP: { enabled: false },
    // PAR (RFC 9126), on by default: kept; request objects (JAR) stay off, as the library ships them.
    pushedAuthorizationRequests: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // A client learns about its own tokens only.
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    userinfo: { enabled: true },
    registration: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: pages.logoutSource,
      postLogoutSuccessSource: pages.postLogoutSuccessSource,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => (oneOf ? (oneOf.includes(audience) ? audience : oneOf[0]!) : audience),
      // Use the granted resource (a JWT) whenever the grant holds API scopes; a grant of OpenID
      // scopes alone keeps the library's behaviour: an opaque access token for userinfo.
      useGrantedResource: async (_ctx, model) => {
        const granted = 'scopes' in model ? (model.scopes as Set<string>) : new Set<string>();
        return scopes.resource.some((s) => granted.has(s));
      },
      getResourceServerInfo: async (ctx, resource, client) => {
        if (resource !== audience) throw new errors.InvalidTarget();
        // The library ignores scopes it does not know; asking for one we do not offer is an error.
        const unknown = ctx.oidc.params?.scope
          ? String(ctx.oidc.params.scope)
              .split(' ')
              .find((s) => s && !offered.has(s))
          : undefined;
        if (unknown) throw new errors.InvalidScope('requested scope is not offered', unknown);
        const allowed = new Set((client.metadata().api_scopes as string[] | undefined) ?? []);
        // An app acts for the signed-in account, never with more than its role allows now: asked
        // at authorization (the session's account), at the code exchange and at every refresh (the
        // token's account). Client credentials have no account: the client's scopes.
        const accountId = ctx.oidc.account?.accountId ?? ctx.oidc.session?.accountId;
        const roleAllows = accountId && deps.scopeAllowedFor ? await deps.scopeAllowedFor(accountId) : () => true;
        refuseScopeNarrowedToNothing(ctx, oidcScopes, new Set([...allowed].filter((s) => roleAllows(s))));
        return {
          scope: scopes.resource.filter((s) => allowed.has(s) && roleAllows(s)).join(' '),
          audience,
          accessTokenTTL: config.ttl.oauthAccess,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  };
}
