import type { SignIns } from '../accounts/sign-ins.ts';
import type { RefreshFamilies } from './refresh-families.ts';

/**
 * Logging out of the sign-in a first-party JWT belongs to, whichever kind it is: a Medusa login
 * lineage (its revocation kept until its latest token expires, its index entry and record deleted
 * in the same step) or a /v1 refresh family (which ends itself the same way). A sid the account
 * lists under neither kind (a lineage older than the sign-in index) is still revoked, for as long
 * as the longest access token can live.
 */
export function createSignOut(deps: { signIns: SignIns; refreshFamilies: RefreshFamilies }) {
  return {
    async endSignInOf(accountId: string, sid: string): Promise<void> {
      if (await deps.signIns.endRef(accountId, 'lineage', sid)) return;
      await deps.refreshFamilies.revokeFamily(sid);
    },
  };
}
