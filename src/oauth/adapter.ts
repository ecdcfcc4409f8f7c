import { Provider, errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { OAuthClients } from './clients.ts';
import { clientMetadata } from './client-metadata.ts';
import { GRANTABLE, type OAuthGrants } from './grants.ts';
import type { EndSignIn, SignInClient, SignIns } from '../accounts/sign-ins.ts';
import type { Revocations } from '../tokens/revocations.ts';
import type { RecordRef } from './record-refs.ts';
import type { OutageGuard } from './unavailable.ts';

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
 * What is stored of a record: its payload without the id (`jti`: the token itself), and for an
 * interaction without the session cookie's value, which oidc-provider copies into it and never reads.
 */
function storable(model: string, payload: AdapterPayload): AdapterPayload {
  const { jti: _id, ...rest } = payload;
  if (model === 'Interaction' && rest.session && typeof rest.session === 'object') {
    const { cookie: _cookie, ...session } = rest.session as Record<string, unknown>;
    rest.session = session as AdapterPayload['session'];
  }
  return rest;
}

/** Where the request saving a model comes from (the provider runs on our context: ctx.ip follows TRUST_PROXY). */
function requestClient(): SignInClient | undefined {
  const ctx = Provider.ctx;
  if (!ctx) return undefined;
  const userAgent = ctx.get('user-agent');
  return { ip: ctx.ip, ...(userAgent ? { userAgent } : {}) };
}

/** The adapter's methods with the store's unavailability turned into `temporarily_unavailable`. */
function guarded(adapter: Adapter, outage: OutageGuard | undefined): Adapter {
  if (!outage) return adapter;
  const wrapped = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(adapter))
    wrapped[name] = (...args: unknown[]) => outage.call(() => (method as (...a: unknown[]) => Promise<unknown>)(...args));
  return wrapped as unknown as Adapter;
}

/**
 * How an OAuth session recorded as a sign-in (by its record's ref) ends: what apps got through it
 * ends with it, as at logout. Their refresh tokens are bound to the session, their JWT access tokens
 * need their grants' revocation record. A grant the user allowed to outlive the sign-in
 * (offline_access: persistsLogout) stays.
 */
export function endOAuthSession(deps: { store: Store; revocations: Revocations }): EndSignIn {
  const { store, revocations } = deps;
  return async (recordRef) => {
    const raw = await store.get(keys.oauthModel('Session', recordRef));
    const authorizations = raw
      ? ((JSON.parse(raw) as { authorizations?: Record<string, { grantId?: string; persistsLogout?: boolean }> }).authorizations ?? {})
      : {};
    const grantIds = Object.values(authorizations).flatMap((a) => (a.grantId && !a.persistsLogout ? [a.grantId] : []));
    await Promise.all(grantIds.map((grantId) => revocations.revokeGrant(grantId)));
    await store.delete(keys.oauthModel('Session', recordRef));
  };
}

/**
 * oidc-provider's storage on our store port: one key per record, expiring with its model, named by
 * the keyed hash of its id (record-refs.ts) wherever the id appears: the record's key, the grant's
 * member index, the session-uid index and the account's sign-ins.
 *
 * consume() closes oidc-provider's check-then-consume gap: the library reads `consumed` and then
 * calls consume(), so two instances presenting one refresh token or code at once would both pass
 * the check. Here consume is a compare-and-swap on the stored record: the second consumer loses,
 * its grant is revoked (a replayed code or refresh token, RFC 6749 §4.1.2 / §10.4), and the
 * token request fails with invalid_grant.
 */
export function createOAuthAdapterFactory(deps: {
  store: Store;
  grants: OAuthGrants;
  clients: OAuthClients;
  signIns: SignIns;
  offeredScopes: { oidc: string[] };
  refOf: RecordRef;
  outage?: OutageGuard;
}) {
  const { store, grants, clients, refOf } = deps;

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
    const ref = (id: string) => refOf(model, id);
    const key = (id: string) => keys.oauthModel(model, ref(id));
    const readRef = async (recordRef: string): Promise<AdapterPayload | undefined> => {
      const raw = await store.get(keys.oauthModel(model, recordRef));
      return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
    };
    // The id is not stored: the caller knows it, and gets it back in the payload.
    const read = async (id: string): Promise<AdapterPayload | undefined> => {
      const payload = await readRef(ref(id));
      return payload ? { ...payload, jti: id } : undefined;
    };

    return {
      async upsert(id, payload, expiresIn) {
        const recordRef = ref(id);
        await store.put(keys.oauthModel(model, recordRef), JSON.stringify(storable(model, payload)), ttlOpt(expiresIn));
        const ttl = ttlOpt(expiresIn).ttlSeconds;
        const work: Promise<void>[] = [];
        if (model === 'Session' && payload.uid)
          work.push(store.put(keys.oauthSessionUid(payload.uid), recordRef, ttlOpt(expiresIn)).then(() => undefined));
        if (model === 'Session' && typeof payload.accountId === 'string' && expiresIn)
          work.push(deps.signIns.add(payload.accountId, 'oauth-session', recordRef, Date.now() + expiresIn * 1000, requestClient()));
        if (payload.userCode)
          work.push(store.put(keys.oauthUserCode(refOf('UserCode', payload.userCode)), recordRef, ttlOpt(expiresIn)).then(() => undefined));
        if (GRANTABLE.has(model) && payload.grantId) work.push(grants.addMember(payload.grantId, model, recordRef, ttl));
        if (model === 'Grant' && payload.clientId) work.push(grants.trackForClient(payload.clientId, id, ttl));
        if (model === 'Grant' && typeof payload.accountId === 'string') work.push(grants.trackForAccount(payload.accountId, id, ttl));
        await Promise.all(work);
      },

      find: read,

      // Found by an index, the record's id is unknown here: oidc-provider only reads these (the
      // session's account and grants; the device flow, which would need the id, is off).
      async findByUid(uid) {
        const recordRef = await store.get(keys.oauthSessionUid(uid));
        return recordRef ? readRef(recordRef) : undefined;
      },

      async findByUserCode(userCode) {
        const recordRef = await store.get(keys.oauthUserCode(refOf('UserCode', userCode)));
        return recordRef ? readRef(recordRef) : undefined;
      },

      async consume(id) {
        for (let attempt = 0; attempt < CONSUME_ATTEMPTS; attempt++) {
          const raw = await store.get(key(id));
          const payload = raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
          if (!raw || !payload || payload.consumed) {
            // Someone consumed (or revoked) it between oidc-provider's check and now: a replay.
            if (payload?.grantId) await grants.revoke(payload.grantId);
            throw model in LABELS
              ? new errors.InvalidGrant(`${LABELS[model]} already used`)
              : new errors.InvalidRequest('request already used');
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
        const recordRef = ref(id);
        const payload = await readRef(recordRef);
        await store.delete(keys.oauthModel(model, recordRef));
        if (!payload) return;
        if (model === 'Session' && payload.uid && (await store.get(keys.oauthSessionUid(payload.uid))) === recordRef)
          await store.delete(keys.oauthSessionUid(payload.uid));
        // A session renamed at login or ended at logout is no live sign-in any more.
        if (model === 'Session' && typeof payload.accountId === 'string')
          await deps.signIns.forget(payload.accountId, 'oauth-session', recordRef);
        if (payload.userCode) await store.delete(keys.oauthUserCode(refOf('UserCode', payload.userCode)));
        if (GRANTABLE.has(model) && payload.grantId) await grants.removeMember(payload.grantId, model, recordRef);
      },

      async revokeByGrantId(grantId) {
        await grants.revokeTokens(grantId, model);
        // JWT access tokens are stored nowhere: a revocation record is how they are refused.
        if (model === 'AccessToken') await grants.recordRevocation(grantId);
      },
    };
  }

  return (model: string): Adapter => guarded(model === 'Client' ? clientAdapter() : modelAdapter(model), deps.outage);
}
