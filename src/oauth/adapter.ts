import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { OAuthClients } from './clients.ts';
import { clientMetadata } from './client-metadata.ts';
import { GRANTABLE, type OAuthGrants } from './grants.ts';
import type { SignIns } from '../accounts/sign-ins.ts';

const CONSUME_ATTEMPTS = 5;
const LABELS: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
  PreAuthorizedCode: 'pre-authorized code',
};

const ttlOpt = (expiresIn?: number) => (typeof expiresIn === 'number' && expiresIn > 0 ? { ttlSeconds: expiresIn } : {});

/**
 * oidc-provider's storage on our store port: one key per record, expiring with its model.
 *
 * consume() closes oidc-provider's check-then-consume gap: the library reads `consumed` and then
 * calls consume(), so two instances presenting one refresh token or code at once would both pass
 * the check. Here consume is a compare-and-swap on the stored record: the second consumer loses,
 * its grant is revoked (a replayed code or refresh token, RFC 6749 §4.1.2 / §10.4), and the
 * token request fails with invalid_grant.
 */
export function createOAuthAdapterFactory(deps: { store: Store; grants: OAuthGrants; clients: OAuthClients; signIns: SignIns; offeredScopes: { oidc: string[] } }) {
  const { store, grants, clients } = deps;

  function clientAdapter(): Adapter {
    const readOnly = async () => undefined;
    return {
      async find(id) {
        const record = await clients.get(id);
        return record ? (clientMetadata(record, deps.offeredScopes.oidc) as AdapterPayload) : undefined;
      },
      upsert: readOnly,
      destroy: readOnly,
      consume: readOnly,
      findByUid: readOnly,
      findByUserCode: readOnly,
      revokeByGrantId: readOnly,
    };
  }

  function modelAdapter(model: string): Adapter {
    const key = (id: string) => keys.oauthModel(model, id);
    const read = async (id: string): Promise<AdapterPayload | undefined> => {
      const raw = await store.get(key(id));
      return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
    };

    return {
      async upsert(id, payload, expiresIn) {
        await store.put(key(id), JSON.stringify(payload), ttlOpt(expiresIn));
        const ttl = ttlOpt(expiresIn).ttlSeconds;
        const work: Promise<void>[] = [];
        if (model === 'Session' && payload.uid) work.push(store.put(keys.oauthSessionUid(payload.uid), id, ttlOpt(expiresIn)).then(() => undefined));
        if (model === 'Session' && typeof payload.accountId === 'string' && expiresIn) work.push(deps.signIns.add(payload.accountId, 'oauth-session', id, Date.now() + expiresIn * 1000));
        if (payload.userCode) work.push(store.put(keys.oauthUserCode(payload.userCode), id, ttlOpt(expiresIn)).then(() => undefined));
        if (GRANTABLE.has(model) && payload.grantId) work.push(grants.addMember(payload.grantId, model, id, ttl));
        if (model === 'Grant' && payload.clientId) work.push(grants.trackForClient(payload.clientId, id, ttl));
        await Promise.all(work);
      },

      find: read,

      async findByUid(uid) {
        const id = await store.get(keys.oauthSessionUid(uid));
        return id ? read(id) : undefined;
      },

      async findByUserCode(userCode) {
        const id = await store.get(keys.oauthUserCode(userCode));
        return id ? read(id) : undefined;
      },

      async consume(id) {
        for (let attempt = 0; attempt < CONSUME_ATTEMPTS; attempt++) {
          const raw = await store.get(key(id));
          const payload = raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
          if (!raw || !payload || payload.consumed) {
            // Someone consumed (or revoked) it between oidc-provider's check and now: a replay.
            if (payload?.grantId) await grants.revoke(payload.grantId);
            throw model in LABELS ? new errors.InvalidGrant(`${LABELS[model]} already used`) : new errors.InvalidRequest('request already used');
          }
          const next = JSON.stringify({ ...payload, consumed: Math.floor(Date.now() / 1000) });
          if (await store.compareAndSwap(key(id), raw, next)) return;
        }
        throw new errors.InvalidGrant('could not consume the grant, retry');
      },

      async destroy(id) {
        if (model === 'Grant') {
          // Consent withdrawn, logout, /oauth/revoke of a refresh token, reuse: every way a grant
          // ends comes through here, and its JWT access tokens must stop at once.
          await grants.revoke(id);
          return;
        }
        const payload = await read(id);
        await store.delete(key(id));
        if (!payload) return;
        if (model === 'Session' && payload.uid && (await store.get(keys.oauthSessionUid(payload.uid))) === id) await store.delete(keys.oauthSessionUid(payload.uid));
        if (payload.userCode) await store.delete(keys.oauthUserCode(payload.userCode));
        if (GRANTABLE.has(model) && payload.grantId) await grants.removeMember(payload.grantId, model, id);
      },

      async revokeByGrantId(grantId) {
        await grants.revokeTokens(grantId, model);
        // JWT access tokens are stored nowhere: a revocation record is how they are refused.
        if (model === 'AccessToken') await grants.recordRevocation(grantId);
      },
    };
  }

  return (model: string): Adapter => (model === 'Client' ? clientAdapter() : modelAdapter(model));
}
