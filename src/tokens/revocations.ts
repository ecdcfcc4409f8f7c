import type { Store } from '../store/port.ts';
import { keys } from '../store/keys.ts';

const WHOLE_LINEAGE = '*';
/**
 * Verification accepts a JWT this many seconds past its `exp` (clock skew between hosts, jwt.ts):
 * a revocation is kept that much longer than the token it refuses.
 */
const CLOCK_SLACK_SECONDS = 5;

/**
 * Revocation of JWTs we cannot recall. Every JWT carries `sid` (its login session, refresh
 * family or OAuth grant); revoking records the sid or one jti for as long as a token it refuses
 * can live: until `untilMs` (the latest expiry of the tokens the sid was issued, when its owner
 * recorded it), else as long as the longest access token can live. Never shorter than a record
 * already there (hashSet only extends), so the records expire with the tokens they refuse.
 * Checking is one HMGET on one key: the verify path's single round trip.
 */
export function createRevocations(store: Store, rememberSeconds: number, opts: { oauthAccessSeconds?: number } = {}) {
  const longest = rememberSeconds + CLOCK_SLACK_SECONDS;
  // An OAuth grant's access tokens are JWTs stored nowhere, all minted with one lifetime: the latest
  // one a grant revoked now can have issued expires within that lifetime from now.
  const oauthLongest = Math.min(longest, (opts.oauthAccessSeconds ?? rememberSeconds) + CLOCK_SLACK_SECONDS);
  const ttlUntil = (untilMs?: number) =>
    untilMs === undefined ? longest : Math.min(longest, Math.max(1, Math.ceil((untilMs - Date.now()) / 1000) + CLOCK_SLACK_SECONDS));
  return {
    async revokeLineage(sid: string, untilMs?: number): Promise<void> {
      await store.hashSet(keys.revocations(sid), { [WHOLE_LINEAGE]: String(Date.now()) }, { ttlSeconds: ttlUntil(untilMs) });
    },
    /** Refuse the JWT access tokens of an OAuth grant (or client lineage): as long as an OAuth access token can live. */
    async revokeGrant(grantId: string): Promise<void> {
      await store.hashSet(keys.revocations(grantId), { [WHOLE_LINEAGE]: String(Date.now()) }, { ttlSeconds: oauthLongest });
    },
    async revokeToken(sid: string, jti: string): Promise<void> {
      await store.hashSet(keys.revocations(sid), { [jti]: String(Date.now()) }, { ttlSeconds: longest });
    },
    /** Whether a whole lineage was revoked (for what derives from it without a jti of its own: cookie sessions). */
    async isLineageRevoked(sid: string): Promise<boolean> {
      const [lineage] = await store.hashGet(keys.revocations(sid), [WHOLE_LINEAGE]);
      return lineage !== null;
    },
    async isRevoked(sid: string, jti: string): Promise<boolean> {
      const [lineage, token] = await store.hashGet(keys.revocations(sid), [WHOLE_LINEAGE, jti]);
      return lineage !== null || token !== null;
    },
  };
}
export type Revocations = ReturnType<typeof createRevocations>;
