import type { Accounts } from '../accounts/accounts.ts';
import type { ApiKeys } from '../api-keys/api-keys.ts';
import type { Config, Role } from '../config.ts';
import { InvalidTokenError } from '../http/errors.ts';
import type { Credential, CredentialResolver } from './principal.ts';

const ROLE_ORDER: Role[] = ['member', 'developer', 'admin'];

/** The secret key a credential carries, if it carries one: `Bearer sk_…`, `Basic sk_…` or `Basic base64(sk_…:)`. */
export function secretKeyOf(credential: Credential): string | undefined {
  if (credential.scheme === 'bearer') return credential.value.startsWith('sk_') ? credential.value : undefined;
  if (credential.scheme !== 'basic') return undefined;
  if (credential.value.startsWith('sk_')) return credential.value.replace(/:$/, '');
  const decoded = Buffer.from(credential.value, 'base64').toString('utf8');
  const user = decoded.slice(0, decoded.includes(':') ? decoded.indexOf(':') : undefined);
  return user.startsWith('sk_') ? user : undefined;
}

/**
 * The highest role whose scopes the key holds, never above its creator's role: an admin's key
 * scoped to "read" acts as a member. Undefined when the scopes amount to no role at all.
 */
export function narrowRole(creatorRole: Role, keyScopes: string[], roleScopes: Config['roleScopes']): Role | undefined {
  for (let i = ROLE_ORDER.indexOf(creatorRole); i >= 0; i--) {
    const role = ROLE_ORDER[i]!;
    if (roleScopes[role].every((s) => keyScopes.includes(s))) return role;
  }
  return undefined;
}

/**
 * Secret API keys. The key record is read on every request (one GET by keyed hash) and never
 * cached, so a revoke reaches every process at once; then the creator is read, so a key acts with
 * its creator's current role (a demoted or removed user's keys shrink or stop with them).
 */
export function apiKeyResolver(deps: { apiKeys: ApiKeys; accounts: Accounts; roleScopes: Config['roleScopes'] }): CredentialResolver {
  const { apiKeys, accounts, roleScopes } = deps;
  return {
    name: 'api-key',
    async resolve(credential) {
      const token = secretKeyOf(credential);
      if (token === undefined) return undefined;
      const key = await apiKeys.authenticate(token, 'secret');
      if (!key) throw new InvalidTokenError('The API key is invalid, revoked or expired');
      const creator = await accounts.get(key.created_by);
      if (!creator || creator.actor_type !== 'user' || !creator.role) throw new InvalidTokenError('The API key is invalid, revoked or expired');
      const scopes = (key.scopes ?? []).filter((s) => roleScopes[creator.role!].includes(s));
      apiKeys.touch(key.id);
      const ends = [key.expires_at, key.revoked_at].filter((d): d is string => d !== null).map(Date.parse);
      return {
        kind: 'api_key',
        id: creator.id,
        actorType: 'api-key',
        scopes,
        method: 'api_key',
        expiresAt: ends.length ? new Date(Math.min(...ends)) : null,
        role: narrowRole(creator.role, scopes, roleScopes),
        keyId: key.id,
        ...(key.rate_limit ? { rateLimit: key.rate_limit } : {}),
      };
    },
  };
}
