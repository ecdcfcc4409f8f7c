import type { Accounts } from '../accounts/accounts.ts';
import type { ApiKeys } from '../api-keys/api-keys.ts';
import type { Config, Role } from '../config.ts';
import { InvalidTokenError } from '../errors.ts';
import type { Credential, CredentialResolver, Principal } from './principal.ts';
import { createVerifiedCache } from '../tokens/verified-cache.ts';
import { createHash } from 'node:crypto';

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

/** How long a process trusts what it last read of a key's creator (their role). */
export const CREATOR_CACHE_MS = 5000;
const CREATOR_CACHE_LIMIT = 10_000;

/**
 * Secret API keys. The key record is read on every request (one GET by keyed hash) and never
 * cached, so a revoke reaches every process at once. The key acts with its creator's role, read
 * from the account and kept for CREATOR_CACHE_MS: verifying a key is then one store lookup, and a
 * demoted or removed user's keys shrink or stop with them within seconds on every instance.
 */
export function apiKeyResolver(deps: {
  apiKeys: ApiKeys;
  accounts: Accounts;
  roleScopes: Config['roleScopes'];
  now?: () => number;
}): CredentialResolver {
  const { apiKeys, accounts, roleScopes } = deps;
  const now = deps.now ?? Date.now;
  // By a hash of the token, not the token: a long-lived secret should not sit in a Map for hours.
  const seen = createVerifiedCache<Principal>();
  const seenKey = (token: string) => createHash('sha256').update(token).digest('base64url');
  const creators = new Map<string, { role: Role | null; until: number }>();
  async function creatorRole(id: string): Promise<Role | null> {
    const cached = creators.get(id);
    if (cached && cached.until > now()) return cached.role;
    const account = await accounts.active(id);
    const role = account && account.actor_type === 'user' && account.role ? account.role : null;
    if (creators.size >= CREATOR_CACHE_LIMIT) creators.clear();
    creators.set(id, { role, until: now() + CREATOR_CACHE_MS });
    return role;
  }
  async function resolveToken(token: string): Promise<Principal> {
    const key = await apiKeys.authenticate(token, 'secret');
    if (!key) throw new InvalidTokenError('The API key is invalid, revoked or expired');
    const role = await creatorRole(key.created_by);
    if (!role) throw new InvalidTokenError('The API key is invalid, revoked or expired');
    const scopes = (key.scopes ?? []).filter((s) => roleScopes[role].includes(s));
    apiKeys.touch(key.id);
    const ends = [key.expires_at, key.revoked_at].filter((d): d is string => d !== null).map(Date.parse);
    const principal: Principal = {
      kind: 'api_key',
      id: key.created_by,
      actorType: 'api-key',
      scopes,
      method: 'api_key',
      expiresAt: ends.length ? new Date(Math.min(...ends)) : null,
      role: narrowRole(role, scopes, roleScopes),
      keyId: key.id,
      ...(key.rate_limit ? { rateLimit: key.rate_limit } : {}),
    };
    seen.set(seenKey(token), principal, principal.expiresAt?.getTime() ?? Infinity);
    return principal;
  }

  return {
    name: 'api-key',
    async resolve(credential) {
      const token = secretKeyOf(credential);
      if (token === undefined) return undefined;
      try {
        return await resolveToken(token);
      } catch (err) {
        if (err instanceof InvalidTokenError) seen.delete(seenKey(token));
        throw err;
      }
    },
    // A key this process verified before (Bearer or Basic): what the fast lane needs of its last
    // Principal (the key id and rate limit, for the quota) never changes; everything that can
    // change is read again by recheck().
    known: {
      tokenOf: secretKeyOf,
      principalOf: (token) => seen.get(seenKey(token)),
      /** Verify the key again (one GET of its record: revoked, expired, deleted; its creator's role from the 5 s cache). */
      async recheck(token) {
        try {
          return await resolveToken(token);
        } catch (err) {
          if (err instanceof InvalidTokenError) return null;
          throw err;
        }
      },
      forget: (token) => seen.delete(seenKey(token)),
    },
  };
}
