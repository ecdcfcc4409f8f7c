import type { Store } from '../store/port.ts';
import { keys } from '../store/keys.ts';

const WHOLE_LINEAGE = '*';

/**
 * Revocation of JWTs we cannot recall. Every JWT carries `sid` (its login session, refresh
 * family or OAuth grant); revoking records the sid or one jti for as long as the longest
 * access token can live, so the records expire with the tokens they refuse.
 * Checking is one HMGET on one key: the verify path's single round trip.
 */
export function createRevocations(store: Store, rememberSeconds: number) {
  return {
    async revokeLineage(sid: string): Promise<void> {
      await store.hashSet(keys.revocations(sid), { [WHOLE_LINEAGE]: String(Date.now()) }, { ttlSeconds: rememberSeconds });
    },
    async revokeToken(sid: string, jti: string): Promise<void> {
      await store.hashSet(keys.revocations(sid), { [jti]: String(Date.now()) }, { ttlSeconds: rememberSeconds });
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
