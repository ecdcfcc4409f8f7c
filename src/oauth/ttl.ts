import type { Configuration } from 'oidc-provider';
import type { Config } from '../config.ts';

const DAY = 86_400;
/** Login and consent must be done this soon after the authorization request. */
const INTERACTION_TTL = 10 * 60;
/** ID tokens live an hour: a signing key stays published at least this long after it stops signing. */
export const ID_TOKEN_TTL = 3600;

/**
 * How long each oidc-provider artifact lives; the adapter expires its key with it.
 * Refresh tokens live REFRESH_TOKEN_TTL from their last rotation, within a grant that lives as
 * long from consent; codes a minute; login/consent interactions ten minutes.
 */
export function ttlConfiguration(config: Config): Configuration['ttl'] {
  return {
    AccessToken: config.ttl.oauthAccess,
    ClientCredentials: config.ttl.oauthAccess,
    AuthorizationCode: 60,
    IdToken: ID_TOKEN_TTL,
    RefreshToken: config.ttl.refresh,
    Grant: config.ttl.refresh,
    // A session nobody signed in to only holds an anonymous logout's state (end-session stores it
    // before checking anything): it lives as long as an interaction, not for days.
    Session: (_ctx, session) => (session.accountId ? Math.min(14 * DAY, config.ttl.refresh) : INTERACTION_TTL),
    // Short: an anonymous /oauth/authorize stores one, so this bounds what a flood leaves behind.
    Interaction: INTERACTION_TTL,
    DeviceCode: 10 * 60,
    BackchannelAuthenticationRequest: 10 * 60,
  };
}
