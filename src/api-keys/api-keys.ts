import { newId } from '../ids.ts';
import { InvalidRequestError, NotAllowedError, NotFoundError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import { generateToken, redact, sameHash, tokenHash, typeOfToken, type ApiKeyType } from './tokens.ts';

/** What the store keeps. A secret key's clear token is never stored: only its keyed hash. */
export interface ApiKeyRecord {
  id: string;
  title: string;
  type: ApiKeyType;
  /** HMAC-SHA-256(pepper, token): also the record's store key. */
  token_hash: string;
  /** Publishable keys only (they are not secret); "" for secret keys. */
  token: string;
  redacted: string;
  /** Secret keys: what the key may do, within its creator's role. Null for publishable keys. */
  scopes: string[] | null;
  sales_channel_ids: string[];
  expires_at: string | null;
  /** e.g. "100/h": read by the rate limiter through Principal.rateLimit. */
  rate_limit: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** May lie in the future (scheduled revoke): the key works until then. */
  revoked_at: string | null;
  revoked_by: string | null;
  /** Set while the creator's account is disabled: the key is refused, and works again when it is enabled. */
  suspended?: boolean;
}

export class ApiKeyNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`API Key with id: ${id} was not found`);
  }
}

export const isRevoked = (k: Pick<ApiKeyRecord, 'revoked_at'>, now = Date.now()) =>
  k.revoked_at !== null && Date.parse(k.revoked_at) <= now;
export const isExpired = (k: Pick<ApiKeyRecord, 'expires_at'>, now = Date.now()) =>
  k.expires_at !== null && Date.parse(k.expires_at) <= now;

export interface ListFilters {
  q?: string;
  ids?: string[];
  title?: string;
  types?: ApiKeyType[];
  /** true: revoked now; false: usable now (not revoked yet, maybe scheduled). */
  revoked?: boolean;
  /** Medusa's operator map on revoked_at: {$eq: null}, {$ne: null}, {$gt: date}, ... */
  revokedAt?: { op: '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte'; value: string | null }[];
  createdBy?: string;
  order: { field: 'created_at' | 'updated_at' | 'title' | 'revoked_at' | 'last_used_at'; desc: boolean };
  offset: number;
  limit: number;
}

const LAST_USED_WRITE_EVERY_MS = 60_000;
const CAS_ATTEMPTS = 8;

/**
 * The API key lifecycle: create, look up by token (one GET, by keyed hash, compared in
 * constant time), update, revoke (now or scheduled), roll, delete after revoke, sales channels.
 * Nothing here caches a key: a revoke is seen by every process on its next request.
 */
export function createApiKeys(deps: { store: Store; pepper: string; now?: () => number }) {
  const { store, pepper } = deps;
  const now = deps.now ?? Date.now;
  const lastUsedWrites = new Map<string, number>();

  async function byId(id: string): Promise<ApiKeyRecord | null> {
    const hash = await store.get(keys.apiKeyId(id));
    if (!hash) return null;
    const raw = await store.get(keys.apiKeyByHash(hash));
    return raw ? (JSON.parse(raw) as ApiKeyRecord) : null;
  }

  async function mustGet(id: string): Promise<ApiKeyRecord> {
    const key = await byId(id);
    if (!key) throw new ApiKeyNotFoundError(id);
    return key;
  }

  /** Read-modify-write with compare-and-swap, so concurrent changes (revoke vs rename) never lose one. */
  async function mutate(id: string, change: (k: ApiKeyRecord) => ApiKeyRecord): Promise<ApiKeyRecord> {
    const hash = await store.get(keys.apiKeyId(id));
    if (!hash) throw new ApiKeyNotFoundError(id);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const raw = await store.get(keys.apiKeyByHash(hash));
      if (!raw) throw new ApiKeyNotFoundError(id);
      const next = { ...change(JSON.parse(raw) as ApiKeyRecord), updated_at: new Date(now()).toISOString() };
      if (await store.compareAndSwap(keys.apiKeyByHash(hash), raw, JSON.stringify(next))) return next;
    }
    throw new InvalidRequestError(`API Key ${id} is being changed concurrently, retry`);
  }

  async function create(input: {
    type: ApiKeyType;
    title: string;
    createdBy: string;
    scopes?: string[] | null;
    expiresAt?: string | null;
    rateLimit?: string | null;
    salesChannelIds?: string[];
  }): Promise<{ key: ApiKeyRecord; token: string }> {
    const token = generateToken(input.type);
    const hash = tokenHash(pepper, token);
    const at = new Date(now()).toISOString();
    const key: ApiKeyRecord = {
      id: `apk_${newId()}`,
      title: input.title,
      type: input.type,
      token_hash: hash,
      token: input.type === 'publishable' ? token : '',
      redacted: redact(token),
      scopes: input.type === 'secret' ? (input.scopes ?? []) : null,
      sales_channel_ids: input.type === 'publishable' ? (input.salesChannelIds ?? []) : [],
      expires_at: input.expiresAt ?? null,
      rate_limit: input.rateLimit ?? null,
      created_by: input.createdBy,
      created_at: at,
      updated_at: at,
      revoked_at: null,
      revoked_by: null,
    };
    await store.put(keys.apiKeyByHash(hash), JSON.stringify(key), { ifAbsent: true });
    await store.put(keys.apiKeyId(key.id), hash);
    await store.indexAdd(keys.apiKeyIndex(), key.id, Date.parse(at));
    return { key, token };
  }

  async function lastUsed(ids: string[]): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const values = await store.hashGet(keys.apiKeyLastUsed(), ids);
    return new Map(ids.map((id, i) => [id, values[i] ?? null]));
  }

  return {
    get: byId,
    mustGet,
    create,
    lastUsed,

    /**
     * The usable key this token names, or null (unknown, malformed, revoked or expired).
     * One GET by keyed hash; the stored hash is compared again in constant time.
     */
    async authenticate(token: string, type?: ApiKeyType): Promise<ApiKeyRecord | null> {
      const tokenType = typeOfToken(token);
      if (!tokenType || (type && tokenType !== type)) return null;
      const hash = tokenHash(pepper, token);
      const raw = await store.get(keys.apiKeyByHash(hash));
      if (!raw) return null;
      const key = JSON.parse(raw) as ApiKeyRecord;
      if (!sameHash(key.token_hash, hash) || key.type !== tokenType) return null;
      const at = now();
      if (isRevoked(key, at) || isExpired(key, at) || key.suspended) return null;
      return key;
    },

    /**
     * Record a use without a write per request: at most one write per key per minute and process.
     * Fire and forget: a failed write must not fail the request it describes.
     */
    touch(id: string): void {
      const at = now();
      const last = lastUsedWrites.get(id);
      if (last !== undefined && at - last < LAST_USED_WRITE_EVERY_MS) return;
      if (lastUsedWrites.size > 50_000) lastUsedWrites.clear();
      lastUsedWrites.set(id, at);
      store.hashSet(keys.apiKeyLastUsed(), { [id]: new Date(at).toISOString() }).catch(() => lastUsedWrites.delete(id));
    },

    async updateTitle(id: string, title: string): Promise<ApiKeyRecord> {
      return mutate(id, (k) => ({ ...k, title }));
    },

    /** Revoke now, or in `revokeInSeconds` (the key works until then). An already revoked key is refused. */
    async revoke(id: string, by: string, revokeInSeconds = 0): Promise<ApiKeyRecord> {
      return mutate(id, (k) => {
        if (isRevoked(k, now())) throw new InvalidRequestError(`The API key ${id} is already revoked`);
        return { ...k, revoked_at: revokeTime(k, now() + revokeInSeconds * 1000), revoked_by: by };
      });
    },

    /**
     * Suspend (or restore) every key a user created, on the key records themselves: verifying a key
     * stays one read, and a disabled creator's keys are refused at once on every instance.
     */
    async suspendCreatedBy(createdBy: string, suspended: boolean): Promise<number> {
      const { keys: owned } = await this.list({
        createdBy,
        order: { field: 'created_at', desc: false },
        offset: 0,
        limit: Number.MAX_SAFE_INTEGER,
      });
      for (const k of owned) await mutate(k.id, (r) => ({ ...r, suspended }));
      return owned.length;
    },

    /** Revoke now every key of a removed user that is not revoked yet. */
    async revokeCreatedBy(createdBy: string, by: string): Promise<number> {
      const { keys: owned } = await this.list({
        createdBy,
        revoked: false,
        order: { field: 'created_at', desc: false },
        offset: 0,
        limit: Number.MAX_SAFE_INTEGER,
      });
      for (const k of owned) await mutate(k.id, (r) => ({ ...r, revoked_at: new Date(now()).toISOString(), revoked_by: by }));
      return owned.length;
    },

    /** Only revoked keys may be deleted (Medusa's rule), so deleting never silently cuts off a client. */
    async delete(id: string): Promise<void> {
      const hash = await store.get(keys.apiKeyId(id));
      const key = await mustGet(id);
      if (!isRevoked(key, now())) throw new NotAllowedError(`Cannot delete api keys that are not revoked - ${id}`);
      await store.delete(keys.apiKeyByHash(hash!));
      await store.delete(keys.apiKeyId(id));
      await store.indexRemove(keys.apiKeyIndex(), [id]);
      await store.hashDelete(keys.apiKeyLastUsed(), [id]);
    },

    /** Link and unlink sales channels (ids already checked to exist by the caller). */
    async changeSalesChannels(id: string, add: string[], remove: string[]): Promise<ApiKeyRecord> {
      return mutate(id, (k) => {
        if (k.type !== 'publishable') throw new InvalidRequestError('Sales channels can only be associated with publishable API keys');
        const next = k.sales_channel_ids.filter((c) => !remove.includes(c));
        for (const c of add) if (!next.includes(c)) next.push(c);
        return { ...k, sales_channel_ids: next };
      });
    },

    /**
     * Replace a key: a new key with the same title, type, scopes, sales channels, rate limit and
     * expiry, created by `by`; the old one revoked now or after `revokeInSeconds` of overlap.
     */
    async roll(id: string, by: string, revokeInSeconds = 0): Promise<{ key: ApiKeyRecord; token: string; previous: ApiKeyRecord }> {
      const old = await mustGet(id);
      if (isRevoked(old, now())) throw new InvalidRequestError(`The API key ${id} is already revoked`);
      const created = await create({
        type: old.type,
        title: old.title,
        createdBy: by,
        scopes: old.scopes,
        expiresAt: old.expires_at,
        rateLimit: old.rate_limit,
        salesChannelIds: old.sales_channel_ids,
      });
      const previous = await mutate(id, (k) => ({ ...k, revoked_at: revokeTime(k, now() + revokeInSeconds * 1000), revoked_by: by }));
      return { ...created, previous };
    },

    /** Filtered, ordered page of keys. Loads the index (keys are few: tens, not millions); never scans the keyspace. */
    async list(f: ListFilters): Promise<{ keys: ApiKeyRecord[]; lastUsed: Map<string, string | null>; count: number }> {
      const total = await store.indexCount(keys.apiKeyIndex());
      const ids = f.ids ? [...new Set(f.ids)] : await store.indexRange(keys.apiKeyIndex(), { offset: 0, limit: total });
      const loaded = (await Promise.all(ids.map(byId))).filter((k): k is ApiKeyRecord => k !== null);
      const at = now();
      const q = f.q?.toLowerCase();
      const matching = loaded.filter(
        (k) =>
          (!q || k.title.toLowerCase().includes(q) || k.redacted.toLowerCase().includes(q) || k.id.toLowerCase().includes(q)) &&
          (!f.title || k.title === f.title) &&
          (!f.types || f.types.includes(k.type)) &&
          (!f.createdBy || k.created_by === f.createdBy) &&
          (f.revoked === undefined || isRevoked(k, at) === f.revoked) &&
          (!f.revokedAt || f.revokedAt.every((c) => compareOp(k.revoked_at, c.op, c.value))),
      );
      const used = await lastUsed(matching.map((k) => k.id));
      const sortValue = (k: ApiKeyRecord) => (f.order.field === 'last_used_at' ? used.get(k.id) : k[f.order.field]) ?? '';
      matching.sort((a, b) => {
        const x = sortValue(a);
        const y = sortValue(b);
        const c = x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
        return f.order.desc ? -c : c;
      });
      const page = matching.slice(f.offset, f.offset + f.limit);
      return { keys: page, lastUsed: new Map(page.map((k) => [k.id, used.get(k.id) ?? null])), count: matching.length };
    },
  };
}
export type ApiKeys = ReturnType<typeof createApiKeys>;

/** A revoke can bring a scheduled revoke forward, never push it back (that would revive a key's lifetime). */
function revokeTime(k: ApiKeyRecord, wantedMs: number): string {
  const scheduled = k.revoked_at === null ? Infinity : Date.parse(k.revoked_at);
  return new Date(Math.min(scheduled, wantedMs)).toISOString();
}

function compareOp(actual: string | null, op: NonNullable<ListFilters['revokedAt']>[number]['op'], value: string | null): boolean {
  if (value === null) return op === '$eq' ? actual === null : op === '$ne' ? actual !== null : false;
  if (actual === null) return op === '$ne';
  const a = Date.parse(actual);
  const v = Date.parse(value);
  switch (op) {
    case '$eq':
      return a === v;
    case '$ne':
      return a !== v;
    case '$gt':
      return a > v;
    case '$gte':
      return a >= v;
    case '$lt':
      return a < v;
    case '$lte':
      return a <= v;
  }
}
