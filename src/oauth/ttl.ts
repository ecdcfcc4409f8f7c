import type { Configuration } from 'oidc-provider';
import type { Config } from '../config.ts';

const DAY = 86_400;

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
    IdToken: 3600,
    RefreshToken: config.ttl.refresh,
    Grant: config.ttl.refresh,
    Session: Math.min(14 * DAY, config.ttl.refresh),
    // Short: an anonymous /oauth/authorize stores one, so this bounds what a flood leaves behind.
    Interaction: 10 * 60,
    DeviceCode: 10 * 60,
    BackchannelAuthenticationRequest: 10 * 60,
  };
}
