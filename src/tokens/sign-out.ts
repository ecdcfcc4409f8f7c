import type { SignIns } from '../accounts/sign-ins.ts';
import type { Sessions } from '../principal/session.ts';
import type { RefreshFamilies } from './refresh-families.ts';

/**
 * Logging out of the sign-in a first-party JWT belongs to, whichever kind it is: a Medusa login
 * lineage (its revocation kept until its latest token expires, its index entry and record deleted
 * in the same step) or a /v1 refresh family (which ends itself the same way). A sid the account
 * lists under neither kind (a lineage older than the sign-in index) is still revoked, for as long
 * as the longest access token can live. The cookie sessions started from the sign-in end with it:
 * its revocation already refuses them, and their records would otherwise stay until they expire.
 */
export function createSignOut(deps: { signIns: SignIns; sessions: Sessions; refreshFamilies: RefreshFamilies }) {
  const { signIns, sessions } = deps;
  return {
    async endSignInOf(accountId: string, sid: string): Promise<void> {
      if (!(await signIns.endRef(accountId, 'lineage', sid))) await deps.refreshFamilies.revokeFamily(sid);
      const refs = await signIns.refsOf(accountId, 'session');
      const from = await Promise.all(refs.map((ref) => sessions.signInOf(ref)));
      await Promise.all(refs.filter((_, i) => from[i] === sid).map((ref) => signIns.endRef(accountId, 'session', ref)));
    },
  };
}
