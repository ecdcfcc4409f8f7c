import type { Store } from '../store/port.ts';
import { keys } from '../store/keys.ts';
import type { Revocations } from '../tokens/revocations.ts';

/** Models whose records belong to a grant (oidc-provider revokes them by grant id). */
export const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const member = (model: string, id: string) => `${model}:${id}`;

/**
 * Grant bookkeeping on the store: which records each grant owns (a hash sharing the grant's hash
 * tag with the Grant record) and which grants each client holds. Revoking a grant deletes its
 * records and records the revocation, so its JWT access tokens, which are stored nowhere, are
 * refused by /v1/auth/verify from then on.
 */
export function createOAuthGrants(deps: { store: Store; revocations: Revocations }) {
  const { store, revocations } = deps;

  async function deleteMembers(grantId: string, only?: string): Promise<void> {
    const membersKey = keys.oauthGrantMembers(grantId);
    const fields = Object.keys(await store.hashGetAll(membersKey)).filter((f) => !only || f.startsWith(`${only}:`));
    // One key per delete: members carry their own hash tag (their id), so this stays cluster-safe.
    await Promise.all(fields.map((f) => store.delete(keys.oauthModel(f.slice(0, f.indexOf(':')), f.slice(f.indexOf(':') + 1)))));
    if (fields.length) await store.hashDelete(membersKey, fields);
  }

  return {
    async addMember(grantId: string, model: string, id: string, ttlSeconds: number | undefined): Promise<void> {
      const expiresAt = ttlSeconds === undefined ? 0 : Date.now() + ttlSeconds * 1000;
      await store.hashSet(
        keys.oauthGrantMembers(grantId),
        { [member(model, id)]: String(expiresAt) },
        ttlSeconds === undefined ? {} : { ttlSeconds },
      );
    },
    async removeMember(grantId: string, model: string, id: string): Promise<void> {
      await store.hashDelete(keys.oauthGrantMembers(grantId), [member(model, id)]);
    },
    async trackForClient(clientId: string, grantId: string, ttlSeconds: number | undefined): Promise<void> {
      await store.hashSet(
        keys.oauthClientGrants(clientId),
        { [grantId]: String(Date.now()) },
        ttlSeconds === undefined ? {} : { ttlSeconds },
      );
    },
    /** Refuse the grant's JWT access tokens from now on (they are stored nowhere). */
    recordRevocation: (grantId: string) => revocations.revokeLineage(grantId),
    /** Delete one model's records of a grant (oidc-provider's revokeByGrantId). */
    revokeTokens: (grantId: string, model: string) => deleteMembers(grantId, model),
    /** The whole grant: its records, the Grant itself, and a revocation record for its JWTs. */
    async revoke(grantId: string): Promise<void> {
      await revocations.revokeLineage(grantId);
      const grantKey = keys.oauthModel('Grant', grantId);
      const raw = await store.get(grantKey);
      await deleteMembers(grantId);
      await store.delete(grantKey, keys.oauthGrantMembers(grantId));
      if (raw) {
        const clientId = (JSON.parse(raw) as { clientId?: string }).clientId;
        if (clientId) await store.hashDelete(keys.oauthClientGrants(clientId), [grantId]);
      }
    },
    /** Every grant a client holds (when the client is deleted). */
    async revokeAllForClient(clientId: string): Promise<number> {
      const grantIds = Object.keys(await store.hashGetAll(keys.oauthClientGrants(clientId)));
      for (const grantId of grantIds) await this.revoke(grantId);
      await store.delete(keys.oauthClientGrants(clientId));
      return grantIds.length;
    },
  };
}
export type OAuthGrants = ReturnType<typeof createOAuthGrants>;
