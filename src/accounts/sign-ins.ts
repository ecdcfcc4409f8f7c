import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import { endRefreshFamily } from '../tokens/refresh-families.ts';
import type { Revocations } from '../tokens/revocations.ts';

/**
 * The ways an account is signed in:
 * - `lineage`: first-party JWTs sharing a `sid` (the Medusa token endpoints);
 * - `family`: a refresh-token family and its access tokens (/v1/auth/login);
 * - `session`: a cookie session (by the hash of its id: the id itself is a credential);
 * - `oauth-session`: the user's session at the OAuth authorization server (login once, authorize apps).
 */
export type SignInKind = 'lineage' | 'family' | 'session' | 'oauth-session';

/**
 * Every sign-in of an account, indexed per account, so one call ends them all (a password reset,
 * "sign out everywhere"). One sorted set per account: member `<kind>:<ref>`, score = when the
 * sign-in expires (ms), so what has expired is pruned as new sign-ins arrive and never ended twice.
 * An OAuth session's end also ends the grants apps received through it (a derived credential
 * ends with the sign-in it came from), except those the user allowed offline access.
 */
export function createSignIns(deps: { store: Store; revocations: Revocations; now?: () => number }) {
  const { store, revocations } = deps;
  const now = deps.now ?? Date.now;

  async function end(kind: SignInKind, ref: string): Promise<void> {
    switch (kind) {
      case 'lineage':
        return revocations.revokeLineage(ref);
      case 'family':
        return endRefreshFamily(store, revocations, ref);
      case 'session':
        await store.delete(keys.session(ref));
        return;
      case 'oauth-session': {
        // What apps got through that sign-in ends with it, as at logout: their refresh tokens are
        // bound to the session, their JWT access tokens need their grants' revocation record. A
        // grant the user allowed to outlive the sign-in (offline_access: persistsLogout) stays.
        const raw = await store.get(keys.oauthModel('Session', ref));
        const authorizations = raw ? ((JSON.parse(raw) as { authorizations?: Record<string, { grantId?: string; persistsLogout?: boolean }> }).authorizations ?? {}) : {};
        const grantIds = Object.values(authorizations).flatMap((a) => (a.grantId && !a.persistsLogout ? [a.grantId] : []));
        await Promise.all(grantIds.map((grantId) => revocations.revokeLineage(grantId)));
        await store.delete(keys.oauthModel('Session', ref));
        return;
      }
    }
  }

  return {
    /** Record a sign-in of `accountId` that lasts until `expiresAtMs`. */
    async add(accountId: string, kind: SignInKind, ref: string, expiresAtMs: number): Promise<void> {
      const key = keys.accountSignIns(accountId);
      await Promise.all([
        store.indexAdd(key, `${kind}:${ref}`, expiresAtMs),
        store.indexRemoveByScore(key, -Infinity, now()),
      ]);
      // The index lives as long as its longest sign-in.
      if ((await store.ttl(key)) < Math.ceil((expiresAtMs - now()) / 1000)) await store.expire(key, (expiresAtMs - now()) / 1000);
    },

    /** End every live sign-in of `accountId`; how many were ended. */
    async endAll(accountId: string): Promise<number> {
      const key = keys.accountSignIns(accountId);
      const live = await store.indexRangeByScore(key, now(), Infinity);
      await Promise.all(
        live.map((member) => {
          const at = member.indexOf(':');
          return end(member.slice(0, at) as SignInKind, member.slice(at + 1));
        }),
      );
      // Only what was ended leaves the index: a sign-in recorded meanwhile stays, to be ended next time.
      await store.indexRemove(key, live);
      return live.length;
    },
  };
}
export type SignIns = ReturnType<typeof createSignIns>;
