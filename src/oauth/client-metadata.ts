import type { ClientMetadata } from 'oidc-provider';
import type { OAuthClientRecord } from './clients.ts';
import { applicationTypeOf } from './redirect-uris.ts';

/** Client metadata properties of ours that oidc-provider carries along (extraClientMetadata). */
export const EXTRA_CLIENT_METADATA = ['api_scopes', 'login_actor', 'lineage'] as const;

/**
 * Our registry record -> oidc-provider client metadata. `scope` limits the OpenID Connect scopes
 * (openid is always allowed); API scopes travel as `api_scopes` and bound the resource server's
 * scopes for this client. `client_secret` holds the keyed hash, never the secret: the provider's
 * secret comparison is replaced by a hash check (see provider.ts), and no HMAC algorithm that
 * would need the clear secret is enabled.
 */
export function clientMetadata(r: OAuthClientRecord, oidcScopes: string[]): ClientMetadata {
  const allowedOidc = ['openid', ...r.scopes.filter((s) => oidcScopes.includes(s) && s !== 'openid')];
  return {
    client_id: r.client_id,
    ...(r.secret_hash ? { client_secret: r.secret_hash } : {}),
    ...(r.client_name ? { client_name: r.client_name } : {}),
    // For the consent page (validated https at registration).
    ...(r.logo_uri ? { logo_uri: r.logo_uri } : {}),
    ...(r.client_uri ? { client_uri: r.client_uri } : {}),
    ...(r.policy_uri ? { policy_uri: r.policy_uri } : {}),
    ...(r.tos_uri ? { tos_uri: r.tos_uri } : {}),
    // Native apps (RFC 8252): private-use schemes and loopback redirects on any port.
    application_type: applicationTypeOf([...r.redirect_uris, ...r.post_logout_redirect_uris]),
    redirect_uris: r.redirect_uris,
    post_logout_redirect_uris: r.post_logout_redirect_uris,
    grant_types: r.grant_types,
    response_types: r.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    id_token_signed_response_alg: 'RS256',
    scope: allowedOidc.join(' '),
    api_scopes: r.scopes.filter((s) => !oidcScopes.includes(s)),
    login_actor: r.login_actor,
    lineage: r.lineage,
  };
}
