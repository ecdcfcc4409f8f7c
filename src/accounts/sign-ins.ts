import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';

/**
 * The ways an account is signed in:
 * - `lineage`: first-party JWTs sharing a `sid` (the Medusa token endpoints);
 * - `family`: a refresh-token family and its access tokens (/v1/auth/login);
 * - `session`: a cookie session (by the hash of its id: the id itself is a credential);
 * - `oauth-session`: the user's session at the OAuth authorization server (login once, authorize apps).
 */
export type SignInKind = 'lineage' | 'family' | 'session' | 'oauth-session';

/** Ends one sign-in of a kind, given the reference it was recorded with. */
export type EndSignIn = (ref: string) => Promise<void>;

/**
 * Every sign-in of an account, indexed per account, so one call ends them all (a password reset,
 * "sign out everywhere"). One sorted set per account: member `<kind>:<ref>`, score = when the
 * sign-in expires (ms), so what has expired is pruned as new sign-ins arrive and never ended twice.
 * How a sign-in ends belongs to the module that stores it: each kind registers its end (services.ts
 * wires them), and ending a kind nobody registered fails before anything is ended.
 */
export function createSignIns(deps: { store: Store; now?: () => number }) {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const ends = new Map<SignInKind, EndSignIn>();

  return {
    /** How sign-ins of `kind` are ended (one function per kind). */
    registerEnd(kind: SignInKind, end: EndSignIn): void {
      if (ends.has(kind)) throw new Error(`The end of a ${kind} sign-in is already registered`);
      ends.set(kind, end);
    },

    /** Record a sign-in of `accountId` that lasts until `expiresAtMs`. */
    async add(accountId: string, kind: SignInKind, ref: string, expiresAtMs: number): Promise<void> {
      const key = keys.accountSignIns(accountId);
      await Promise.all([store.indexAdd(key, `${kind}:${ref}`, expiresAtMs), store.indexRemoveByScore(key, -Infinity, now())]);
      // The index lives as long as its longest sign-in.
      if ((await store.ttl(key)) < Math.ceil((expiresAtMs - now()) / 1000)) await store.expire(key, (expiresAtMs - now()) / 1000);
    },

    /** End every live sign-in of `accountId`; how many were ended. */
    async endAll(accountId: string): Promise<number> {
      const key = keys.accountSignIns(accountId);
      const live = await store.indexRangeByScore(key, now(), Infinity);
      const ending = live.map((member) => {
        const at = member.indexOf(':');
        const kind = member.slice(0, at) as SignInKind;
        const end = ends.get(kind);
        if (!end) throw new Error(`No end is registered for ${kind} sign-ins`);
        return () => end(member.slice(at + 1));
      });
      await Promise.all(ending.map((end) => end()));
      // Only what was ended leaves the index: a sign-in recorded meanwhile stays, to be ended next time.
      await store.indexRemove(key, live);
      return live.length;
    },
  };
}
export type SignIns = ReturnType<typeof createSignIns>;
