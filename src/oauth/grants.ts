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
// A field of a grant's member index that is not a member: when it last received a refresh token.
const REFRESHED_AT = 'refreshed_at';

/** A grant as an operator sees it. */
export interface GrantView {
  id: string;
  client_id: string;
  account_id: string | null;
  scopes: string[];
  created_at: string | null;
  last_refreshed_at: string | null;
  expires_at: string | null;
}

interface StoredGrant {
  accountId?: string;
  clientId?: string;
  iat?: number;
  exp?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

function scopesOf(grant: StoredGrant): string[] {
  const all = [grant.openid?.scope ?? '', ...Object.values(grant.resources ?? {})].join(' ').split(' ').filter(Boolean);
  return [...new Set(all)];
}

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
    const fields = Object.keys(await store.hashGetAll(membersKey)).filter((f) => f.includes(':') && (!only || f.startsWith(`${only}:`)));
    // One key per delete: members carry their own hash tag (their id), so this stays cluster-safe.
    await Promise.all(fields.map((f) => store.delete(keys.oauthModel(f.slice(0, f.indexOf(':')), f.slice(f.indexOf(':') + 1)))));
    if (fields.length) await store.hashDelete(membersKey, fields);
  }

  async function view(grantId: string): Promise<GrantView | null> {
    const [raw, [refreshedAt]] = await Promise.all([
      store.get(keys.oauthModel('Grant', grantId)),
      store.hashGet(keys.oauthGrantMembers(grantId), [REFRESHED_AT]),
    ]);
    if (!raw) return null;
    const grant = JSON.parse(raw) as StoredGrant;
    if (!grant.clientId) return null;
    return {
      id: grantId,
      client_id: grant.clientId,
      account_id: grant.accountId ?? null,
      scopes: scopesOf(grant),
      created_at: grant.iat ? new Date(grant.iat * 1000).toISOString() : null,
      last_refreshed_at: refreshedAt ? new Date(Number(refreshedAt)).toISOString() : null,
      expires_at: grant.exp ? new Date(grant.exp * 1000).toISOString() : null,
    };
  }

  /** The live grants named in an index hash; ids whose grant has expired are dropped from it. */
  async function viewsOf(indexKey: string): Promise<GrantView[]> {
    const ids = Object.keys(await store.hashGetAll(indexKey));
    const views = await Promise.all(ids.map(view));
    const gone = ids.filter((_, i) => !views[i]);
    if (gone.length) await store.hashDelete(indexKey, gone);
    return views.filter((v): v is GrantView => v !== null).sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  }

  return {
    async addMember(grantId: string, model: string, id: string, ttlSeconds: number | undefined): Promise<void> {
      const expiresAt = ttlSeconds === undefined ? 0 : Date.now() + ttlSeconds * 1000;
      await store.hashSet(
        keys.oauthGrantMembers(grantId),
        { [member(model, id)]: String(expiresAt), ...(model === 'RefreshToken' ? { [REFRESHED_AT]: String(Date.now()) } : {}) },
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
    async trackForAccount(accountId: string, grantId: string, ttlSeconds: number | undefined): Promise<void> {
      await store.hashSet(
        keys.oauthAccountGrants(accountId),
        { [grantId]: String(Date.now()) },
        ttlSeconds === undefined ? {} : { ttlSeconds },
      );
    },
    /** One grant, or null when it does not exist (or has expired). */
    get: view,
    /** The live grants a client holds, newest first. */
    listForClient: (clientId: string) => viewsOf(keys.oauthClientGrants(clientId)),
    /** The live grants an account gave, newest first. */
    listForAccount: (accountId: string) => viewsOf(keys.oauthAccountGrants(accountId)),
    /** Refuse the grant's JWT access tokens from now on (they are stored nowhere). */
    recordRevocation: (grantId: string) => revocations.revokeGrant(grantId),
    /** Delete one model's records of a grant (oidc-provider's revokeByGrantId). */
    revokeTokens: (grantId: string, model: string) => deleteMembers(grantId, model),
    /** The whole grant: its records, the Grant itself, and a revocation record for its JWTs. */
    async revoke(grantId: string): Promise<void> {
      await revocations.revokeGrant(grantId);
      const grantKey = keys.oauthModel('Grant', grantId);
      const raw = await store.get(grantKey);
      await deleteMembers(grantId);
      await store.delete(grantKey, keys.oauthGrantMembers(grantId));
      if (raw) {
        const { clientId, accountId } = JSON.parse(raw) as StoredGrant;
        if (clientId) await store.hashDelete(keys.oauthClientGrants(clientId), [grantId]);
        if (accountId) await store.hashDelete(keys.oauthAccountGrants(accountId), [grantId]);
      }
    },
    /**
     * Withdraw the grant `grantId` only if `owns` says it belongs to the caller's account or client
     * (one account or client never ends another's grant): the withdrawn grant, or null.
     */
    async revokeIf(grantId: string, owns: (g: GrantView) => boolean): Promise<GrantView | null> {
      const grant = await view(grantId);
      if (!grant || !owns(grant)) return null;
      await this.revoke(grant.id);
      return grant;
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
