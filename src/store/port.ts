/**
 * The storage port: the atomic primitives the domain needs, not raw Redis commands.
 * `redis.ts` implements each with one command or one Lua script; `memory.ts` in-process.
 * Keys passed here are unprefixed; the store adds REDIS_PREFIX. Build keys with `keys.ts`.
 *
 * Cluster rule: an operation that takes several keys (getMany, deleteMany, ...) must only be
 * given keys that share a hash tag (`{...}`), so it stays one slot on Redis Cluster.
 */
/** The store could not be reached or failed (any implementation); the HTTP layer answers 503, never 500. */
export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(cause: unknown) {
    super('The store is unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

export interface RateLimitResult {
  allowed: boolean;
  /** Requests still allowed right now after this one. */
  remaining: number;
  /** Milliseconds until a request would be allowed again (0 when allowed). */
  retryAfterMs: number;
  /** Milliseconds until the full quota is available again. */
  resetMs: number;
}

/** The chain fields of a hash-chained stream's last entry. */
export interface ChainTip {
  hash: string;
  seq: number;
}
export interface AppendChainedOptions {
  maxLen: number;
  retentionMs?: number;
}
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

export interface Store {
  readonly kind: 'redis' | 'memory';

  get(key: string): Promise<string | null>;
  /** Several keys in one round trip. Keys must share a hash tag. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /** Set a value; ttlSeconds omitted = no expiry. With ifAbsent, returns false when the key exists. */
  put(key: string, value: string, opts?: { ttlSeconds?: number; ifAbsent?: boolean }): Promise<boolean>;
  /** Delete keys; returns how many existed. Keys must share a hash tag. */
  delete(...keys: string[]): Promise<number>;
  /** Get and delete in one step: of two concurrent consumers, exactly one gets the value. */
  consume(key: string): Promise<string | null>;
  /**
   * Replace the value only if it is still `expected` (atomic compare-and-swap).
   * ttlSeconds omitted keeps the key's current expiry.
   */
  compareAndSwap(key: string, expected: string, next: string, ttlSeconds?: number): Promise<boolean>;
  /** Delete the key only if its value is still `expected` (atomic); whether it was deleted. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** Seconds until the key expires; -1 no expiry; -2 missing. */
  ttl(key: string): Promise<number>;
  /**
   * Expire the key in `ttlSeconds`. With `onlyLonger`, only when that is later than its current
   * expiry (a key with none gets this one): many writers may each ask for their own lifetime in
   * the same round trip as their write, with no read first, and the longest wins.
   */
  expire(key: string, ttlSeconds: number, opts?: { onlyLonger?: boolean }): Promise<void>;

  /** Hash fields. hashSet never shortens the key's expiry: it extends it to at least ttlSeconds. */
  hashGet(key: string, fields: string[]): Promise<(string | null)[]>;
  hashGetAll(key: string): Promise<Record<string, string>>;
  hashSet(key: string, entries: Record<string, string>, opts?: { ttlSeconds?: number }): Promise<void>;
  hashDelete(key: string, fields: string[]): Promise<void>;
  /** Adds `by` to a hash field (a missing one counts as 0) and answers the sum; extends the expiry as hashSet does. */
  hashIncrement(key: string, field: string, by: number, opts?: { ttlSeconds?: number }): Promise<number>;

  /** Ordered index (sorted set). */
  indexAdd(key: string, member: string, score: number): Promise<void>;
  indexRemove(key: string, members: string[]): Promise<void>;
  /** Members ordered by score; reverse = highest first. */
  indexRange(key: string, opts: { offset: number; limit: number; reverse?: boolean }): Promise<string[]>;
  /** Members with score in [min, max]. */
  indexRangeByScore(key: string, min: number, max: number): Promise<string[]>;
  /** Remove the members with score in [min, max]; how many went. */
  indexRemoveByScore(key: string, min: number, max: number): Promise<number>;
  indexCount(key: string): Promise<number>;
  /** A member's score, or null when it is not in the index. */
  indexScore(key: string, member: string): Promise<number | null>;

  /**
   * GCRA rate limit: `limit` requests per `periodMs`, smoothly refilled (no fixed-window
   * boundary that lets twice the quota through). One atomic step; a refused request writes nothing.
   * `cost` 0 only reads the state.
   */
  rateLimit(key: string, limit: number, periodMs: number, cost?: number): Promise<RateLimitResult>;

  /** Append to a stream (capped), for events other services read. */
  publish(stream: string, fields: Record<string, string>, maxLen?: number): Promise<string>;
  /**
   * Append to a hash-chained stream, atomically from any number of processes: `build` gets the
   * stream's last entry's `hash` and `seq` fields (null on an empty stream) and returns the new
   * entry, which is added only if that entry is still the last (else `build` runs again with the
   * new last one). Trimmed to about `maxLen` entries and, with `retentionMs`, to entries younger
   * than that (the stream itself expires after `retentionMs` without an append). Returns its id.
   */
  appendChained(stream: string, build: (tip: ChainTip | null) => Record<string, string>, opts: AppendChainedOptions): Promise<string>;
  /** Stream entries with ids in [start, end] ('-' / '+' = unbounded), oldest first or (reverse) newest first. */
  streamRange(stream: string, opts: { start?: string; end?: string; count: number; reverse?: boolean }): Promise<StreamEntry[]>;

  ping(): Promise<void>;
  /**
   * Whether the store can serve every request now (for /ready): a single Redis answers; a Redis
   * Cluster says `cluster_state:ok` with every slot served, on every master. Never throws; a
   * check is short and its answer reused for a second, so probes cost the store almost nothing.
   */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
