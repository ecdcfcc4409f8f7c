/**
 * Scopes offered to OAuth clients (OAUTH_SCOPES), split the way oidc-provider needs them:
 * OpenID Connect scopes are about the user (ID token, userinfo); every other scope belongs to
 * our API, the resource server whose JWT access tokens microservices verify.
 */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

export interface ScopeSets {
  /** Everything offered, in configuration order. */
  all: string[];
  /** OpenID Connect scopes (oidc-provider's `scopes`). */
  oidc: string[];
  /** API scopes granted on the default resource (read, write, ...). */
  resource: string[];
}

export function splitScopes(offered: string[]): ScopeSets {
  const all = [...new Set(offered.map((s) => s.trim()).filter(Boolean))];
  // openid must be known to the provider even if not offered, or ID tokens cannot be requested.
  const oidc = [...new Set(['openid', ...all.filter((s) => OIDC_SCOPES.has(s))])];
  return { all, oidc, resource: all.filter((s) => !OIDC_SCOPES.has(s)) };
}

const DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name',
  email: 'See your email address',
  address: 'See your postal address',
  phone: 'See your phone number',
  offline_access: 'Keep access while you are not using it',
  read: 'Read your data',
  write: 'Create and change your data',
  admin: 'Administer your account',
};

/** A scope in words, for the consent page. */
export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Use the “${scope}” permission`;
}
