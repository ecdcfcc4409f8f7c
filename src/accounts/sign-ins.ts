import { createHash } from 'node:crypto';
import Bowser from 'bowser';
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

/** Where a sign-in started from, as the route that started it saw it. */
export interface SignInClient {
  ip?: string;
  userAgent?: string;
}

/** What is kept about one sign-in besides its index entry (never a credential). */
interface SignInRecord {
  kind: SignInKind;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

/** One live sign-in as an operator sees it. */
export interface SignInView {
  id: string;
  kind: SignInKind;
  created_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
  ip: string | null;
  user_agent: { raw: string; browser: string | null; os: string | null; device: string | null } | null;
}

/**
 * The id an operator names a sign-in by: a hash of its index entry. The entry's reference is never a
 * credential (a session is indexed by its id's hash, a family or lineage by an id without its
 * secret), and hashing it again keeps even those out of the admin API.
 */
const signInIdOf = (member: string) => `si_${createHash('sha256').update(member).digest('base64url').slice(0, 26)}`;

// "Last used" is written at most once a minute per sign-in and process: it is a hint, not an audit.
const LAST_USED_EVERY_MS = 60_000;
// The record outlives its sign-in by this much, so an extension within the last-used throttle never leaves it missing.
const RECORD_SLACK_SECONDS = 120;
const USER_AGENT_MAX = 512;

function parseUserAgent(raw: string): SignInView['user_agent'] {
  const ua = Bowser.parse(raw);
  const named = (name?: string, version?: string) => (name ? [name, version].filter(Boolean).join(' ') : null);
  return {
    raw,
    browser: named(ua.browser.name, ua.browser.version),
    os: named(ua.os.name, ua.os.versionName ?? ua.os.version),
    device: ua.platform.type ?? null,
  };
}

/**
 * Ends one sign-in of a kind, given the reference it was recorded with and, from its index entry,
 * the account and when its latest credential expires (how long a revocation of it must last).
 */
export type EndSignIn = (ref: string, signIn: { accountId: string; expiresAtMs: number }) => Promise<void>;

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
  const lastUsedWrites = new Map<string, number>();

  const recordKey = (accountId: string, member: string) => keys.signInRecord(accountId, signInIdOf(member));

  /** Create the sign-in's record, or note that it was used (an extension: a refresh, a session use). */
  async function record(accountId: string, member: string, expiresAtMs: number, client?: SignInClient): Promise<void> {
    const key = recordKey(accountId, member);
    const ttlSeconds = Math.max(1, Math.ceil((expiresAtMs - now()) / 1000)) + RECORD_SLACK_SECONDS;
    const at = new Date(now()).toISOString();
    const fresh: SignInRecord = {
      kind: member.slice(0, member.indexOf(':')) as SignInKind,
      created_at: at,
      last_used_at: at,
      expires_at: new Date(expiresAtMs).toISOString(),
      ip: client?.ip ?? null,
      user_agent: client?.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX) : null,
    };
    if (await store.put(key, JSON.stringify(fresh), { ttlSeconds, ifAbsent: true })) {
      lastUsedWrites.set(key, now());
      return;
    }
    await touchRecord(key, { ttlSeconds, expiresAtMs });
  }

  async function touchRecord(key: string, extended?: { ttlSeconds: number; expiresAtMs: number }): Promise<void> {
    if (now() - (lastUsedWrites.get(key) ?? 0) < LAST_USED_EVERY_MS) return;
    lastUsedWrites.set(key, now());
    if (lastUsedWrites.size > 10_000) lastUsedWrites.clear();
    const raw = await store.get(key);
    if (!raw) return;
    const updated: SignInRecord = {
      ...(JSON.parse(raw) as SignInRecord),
      last_used_at: new Date(now()).toISOString(),
      ...(extended ? { expires_at: new Date(extended.expiresAtMs).toISOString() } : {}),
    };
    const ttl = extended?.ttlSeconds ?? (await store.ttl(key));
    if (ttl > 0) await store.put(key, JSON.stringify(updated), { ttlSeconds: ttl });
  }

  /**
   * End one sign-in with the expiry its index entry holds. A credential issued meanwhile moves that
   * expiry later before its issuer checks for a revocation: read again after the end, a later expiry
   * is ended again (revocations only ever extend), so no credential outlives its revocation.
   */
  async function end(accountId: string, member: string, expiresAtMs?: number): Promise<void> {
    const at = member.indexOf(':');
    const endOne = ends.get(member.slice(0, at) as SignInKind);
    if (!endOne) throw new Error(`No end is registered for ${member.slice(0, at)} sign-ins`);
    const index = keys.accountSignIns(accountId);
    let ended = expiresAtMs ?? (await store.indexScore(index, member)) ?? now();
    await endOne(member.slice(at + 1), { accountId, expiresAtMs: ended });
    for (let round = 0; round < 3; round++) {
      const latest = await store.indexScore(index, member);
      if (latest === null || latest <= ended) return;
      ended = latest;
      await endOne(member.slice(at + 1), { accountId, expiresAtMs: ended });
    }
  }

  return {
    /** How sign-ins of `kind` are ended (one function per kind). */
    registerEnd(kind: SignInKind, end: EndSignIn): void {
      if (ends.has(kind)) throw new Error(`The end of a ${kind} sign-in is already registered`);
      ends.set(kind, end);
    },

    /** Record a sign-in of `accountId` that lasts until `expiresAtMs`. */
    async add(accountId: string, kind: SignInKind, ref: string, expiresAtMs: number, client?: SignInClient): Promise<void> {
      const key = keys.accountSignIns(accountId);
      // One round trip: the index lives as long as its longest sign-in, with no read of its expiry first.
      await Promise.all([
        store.indexAdd(key, `${kind}:${ref}`, expiresAtMs),
        store.indexRemoveByScore(key, -Infinity, now()),
        store.expire(key, (expiresAtMs - now()) / 1000, { onlyLonger: true }),
        record(accountId, `${kind}:${ref}`, expiresAtMs, client),
      ]);
    },

    /** Drop a sign-in that ended by itself (its store record was deleted) from the index and its record. */
    async forget(accountId: string, kind: SignInKind, ref: string): Promise<void> {
      const member = `${kind}:${ref}`;
      await Promise.all([store.indexRemove(keys.accountSignIns(accountId), [member]), store.delete(recordKey(accountId, member))]);
    },

    /**
     * End the sign-in of `kind` recorded under `ref` and delete its index entry and record in the
     * same step (a logout); false when the account lists no such sign-in.
     */
    async endRef(accountId: string, kind: SignInKind, ref: string): Promise<boolean> {
      const member = `${kind}:${ref}`;
      const key = keys.accountSignIns(accountId);
      const expiresAtMs = await store.indexScore(key, member);
      if (expiresAtMs === null) return false;
      await end(accountId, member, expiresAtMs);
      await Promise.all([store.indexRemove(key, [member]), store.delete(recordKey(accountId, member))]);
      return true;
    },

    /** The references of the live sign-ins of `kind` of `accountId`. */
    async refsOf(accountId: string, kind: SignInKind): Promise<string[]> {
      const live = await store.indexRangeByScore(keys.accountSignIns(accountId), now(), Infinity);
      return live.filter((m) => m.startsWith(`${kind}:`)).map((m) => m.slice(kind.length + 1));
    },

    /** Note a use of a sign-in that does not extend it (a cookie session's request): at most once a minute. */
    async touch(accountId: string, kind: SignInKind, ref: string): Promise<void> {
      await touchRecord(recordKey(accountId, `${kind}:${ref}`));
    },

    /** Every live sign-in of `accountId`, newest expiry first. */
    async list(accountId: string): Promise<SignInView[]> {
      const live = await store.indexRangeByScore(keys.accountSignIns(accountId), now(), Infinity);
      if (!live.length) return [];
      const records = await Promise.all(live.map((m) => store.get(recordKey(accountId, m))));
      return live
        .map((member, i): SignInView => {
          const rec = records[i] ? (JSON.parse(records[i]) as SignInRecord) : null;
          return {
            id: signInIdOf(member),
            kind: member.slice(0, member.indexOf(':')) as SignInKind,
            created_at: rec?.created_at ?? null,
            last_used_at: rec?.last_used_at ?? null,
            expires_at: rec?.expires_at ?? null,
            ip: rec?.ip ?? null,
            user_agent: rec?.user_agent ? parseUserAgent(rec.user_agent) : null,
          };
        })
        .reverse();
    },

    /** End the one live sign-in of `accountId` named `signInId`; false when there is none. */
    async endOne(accountId: string, signInId: string): Promise<boolean> {
      const key = keys.accountSignIns(accountId);
      const member = (await store.indexRangeByScore(key, now(), Infinity)).find((m) => signInIdOf(m) === signInId);
      if (!member) return false;
      await end(accountId, member);
      await Promise.all([store.indexRemove(key, [member]), store.delete(recordKey(accountId, member)).then(() => undefined)]);
      return true;
    },

    /** The opaque id the sign-in of `kind` recorded under `ref` is listed by (to tell a caller which one is its own). */
    idOf: (kind: SignInKind, ref: string) => signInIdOf(`${kind}:${ref}`),

    /**
     * End every live sign-in of `accountId` but those named in `keep` (opaque ids: "sign out
     * everywhere else"); how many were ended.
     */
    async endAll(accountId: string, keep: ReadonlySet<string> = new Set()): Promise<number> {
      const key = keys.accountSignIns(accountId);
      const live = (await store.indexRangeByScore(key, now(), Infinity)).filter((m) => !keep.has(signInIdOf(m)));
      for (const member of live) {
        const kind = member.slice(0, member.indexOf(':')) as SignInKind;
        if (!ends.has(kind)) throw new Error(`No end is registered for ${kind} sign-ins`);
      }
      await Promise.all(live.map((member) => end(accountId, member)));
      // One key per delete: the records do not share a hash slot.
      await Promise.all(live.map((m) => store.delete(recordKey(accountId, m))));
      // Only what was ended leaves the index: a sign-in recorded meanwhile stays, to be ended next time.
      await store.indexRemove(key, live);
      return live.length;
    },
  };
}
export type SignIns = ReturnType<typeof createSignIns>;
