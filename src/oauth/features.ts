import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { ScopeSets } from './scopes.ts';
import { esc, layout, logoutPage, messagePage } from './views.ts';

type Features = NonNullable<Configuration['features']>;

/**
 * Which oidc-provider features are on, and the API resource server. Every access token for our
 * API is a JWT (RFC 9068) for the default resource, whose audience is OAUTH_RESOURCE_AUDIENCE;
 * a request for OpenID Connect scopes only gets an opaque token for /oauth/userinfo instead.
 */
export function featuresConfiguration(config: Config, scopes: ScopeSets): Features {
  const audience = config.oauth.resourceAudience;
  return {
    devInteractions: { enabled: false },
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
      logoutSource: async (ctx, form) => {
        ctx.type = 'html';
        ctx.body = logoutPage(form, ctx.host);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.type = 'html';
        ctx.body = messagePage('Signed out', 'You have signed out.');
      },
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
      getResourceServerInfo: async (_ctx, resource, client) => {
        if (resource !== audience) throw new errors.InvalidTarget();
        const allowed = new Set((client.metadata().api_scopes as string[] | undefined) ?? []);
        return {
          scope: scopes.resource.filter((s) => allowed.has(s)).join(' '),
          audience,
          accessTokenTTL: config.ttl.oauthAccess,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  };
}

/** The library's error page, in our look. */
export async function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, _error: Error): Promise<void> {
  ctx.type = 'html';
  ctx.body = layout(
    'Something went wrong',
    `<h1>Something went wrong</h1><p>${esc(out.error_description ?? 'The request could not be completed.')}</p><p class="muted">Error: ${esc(out.error)}</p>`,
  );
}
