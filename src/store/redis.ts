import { createHash } from 'node:crypto';
import { createClient, createCluster, type RedisClientType } from 'redis';
import { StoreUnavailableError, type ChainTip, type Store } from './port.ts';
import { sharedReadiness } from './readiness.ts';

const SCRIPTS = {
  // KEYS[1] ARGV: expected, next, ttlSeconds ('' keeps the current expiry)
  compareAndSwap: `
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
    else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
    return 1`,
  // KEYS[1] ARGV: expected
  compareAndDelete: `
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    return redis.call('DEL', KEYS[1])`,
  // KEYS[1] ARGV: ttlSeconds ('' none), field, value, field, value...
  hashSetExtend: `
    for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
    if ARGV[1] ~= '' then
      local ttl = tonumber(ARGV[1])
      local current = redis.call('TTL', KEYS[1])
      if current < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
    end
    return 1`,
  // KEYS[1] ARGV: ttl seconds. The longer of its current expiry and this one (none counts as shorter).
  expireExtend: `
    local ttl = tonumber(ARGV[1])
    local current = redis.call('TTL', KEYS[1])
    if current ~= -2 and current < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
    return 1`,
  // GCRA, the same arithmetic as gcra.ts; the server's clock so every instance agrees.
  // KEYS[1] ARGV: limit, periodMs, cost. Returns {allowed, remaining, retryAfterMs, resetMs}.
  rateLimit: `
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local limit, period, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    local interval = period / limit
    local tat = tonumber(redis.call('GET', KEYS[1]) or now)
    if tat < now then tat = now end
    local newTat = tat + interval * cost
    local allowAt = newTat - period
    if now < allowAt then
      return {0, 0, math.ceil(allowAt - now), math.ceil(tat - now)}
    end
    if cost > 0 then
      redis.call('SET', KEYS[1], tostring(newTat), 'PX', math.max(1, math.ceil(newTat - now)))
    end
    return {1, math.max(0, math.floor((period - (newTat - now)) / interval)), 0, math.ceil(newTat - now)}`,
  // Append to a hash-chained stream only if its last entry is still the one the caller chained to.
  // KEYS[1] ARGV: expected last hash ('' = empty stream), maxLen, retentionMs ('' none), field, value...
  // Returns {1, id} or {0, lastHash, lastSeq}. Trimming follows the append, so the chain's last
  // link always survives; MINID is exact (cheap: it stops at the first young entry).
  appendChained: `
    local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
    local hash, seq = '', '0'
    if #last > 0 then
      local f = last[1][2]
      for i = 1, #f, 2 do
        if f[i] == 'hash' then hash = f[i + 1] elseif f[i] == 'seq' then seq = f[i + 1] end
      end
    end
    if hash ~= ARGV[1] then return {0, hash, seq} end
    local entry = {}
    for i = 4, #ARGV do entry[#entry + 1] = ARGV[i] end
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
    if ARGV[3] ~= '' then
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      redis.call('XTRIM', KEYS[1], 'MINID', tostring(now - tonumber(ARGV[3])))
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
    end
    return {1, id}`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
/** Each attempt lost a race to another process's append; past this many the store is unhealthy. */
const MAX_CHAIN_ATTEMPTS = 100;
const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, src]) => [name, createHash('sha1').update(src).digest('hex')]),
) as Record<ScriptName, string>;

export interface RedisStoreOptions {
  url: string;
  prefix: string;
  /** Called when the connection errors; the client reconnects by itself. */
  onError?: (err: Error) => void;
  /**
   * How long to wait for the first connection (default: until connected, retrying meanwhile).
   * After that the store is returned anyway and keeps connecting: until it succeeds every command
   * fails fast as unavailable, so a server starts, answers 503 (and /ready 503), and recovers by
   * itself when Redis comes up.
   */
  connectWaitMs?: number;
  /**
   * A command not answered in this time fails with StoreUnavailableError (the HTTP layer's 503)
   * instead of waiting: a Redis that keeps its connections open but stops answering (paused, hung,
   * partitioned without a reset) must not hang every request. Default 3000.
   */
  commandTimeoutMs?: number;
  onReady?: () => void;
  /**
   * Redis Cluster: `url` names one node, the client discovers the others and routes each command
   * to its key's slot. Keys that one command or script touches share a hash tag (keys.ts), so
   * every primitive is single-slot.
   */
  cluster?: boolean;
}

/** What the store needs of a connection: node-redis's single-node client, or a cluster client. */
interface Connection {
  /** The key commands (same API on a cluster client, routed by the first key). */
  commands: RedisClientType;
  ping(): Promise<unknown>;
  /** Whether every command could be served now (see Store.ready). */
  ready(): Promise<boolean>;
  connect(): Promise<unknown>;
  /** Close after the replies still awaited, or at once if Redis does not give them within waitMs. */
  close(waitMs: number): Promise<void>;
}

/** What closing needs of one node-redis client (a single node, or one node of a cluster). */
interface ClosableClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  ping(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

/**
 * A graceful close waits for every reply still awaited: from a Redis that stopped answering, for
 * ever (a stopping server never exited). Replies come in order, so once a PING is answered nothing
 * sent before it is still awaited and the graceful close is quick; a Redis that does not answer
 * within waitMs gets its connection dropped. A client still trying to connect has nothing to flush.
 */
async function closeClient(client: ClosableClient, waitMs: number): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
  const answered =
    client.isReady &&
    (await Promise.race([
      client.ping().then(
        () => true,
        () => false,
      ),
      late,
    ]));
  clearTimeout(timer);
  if (answered) await client.close();
  else if (client.isOpen) client.destroy();
}

const reconnectDelayMs = (retries: number) => Math.min(50 * 2 ** retries, 2000);
const SOCKET = { connectTimeout: 5000, reconnectStrategy: reconnectDelayMs };

function connectionTo(opts: RedisStoreOptions): Connection {
  if (!opts.cluster) {
    const client = createClient({ url: opts.url, disableOfflineQueue: true, socket: SOCKET });
    client.on('error', (err: Error) => opts.onError?.(err));
    client.on('ready', () => opts.onReady?.());
    return {
      commands: client as unknown as RedisClientType,
      ping: () => client.ping(),
      ready: async () => client.isReady && (await client.ping()) === 'PONG',
      connect: () => client.connect(),
      close: (waitMs) => closeClient(client, waitMs),
    };
  }
  const cluster = createCluster({ rootNodes: [{ url: opts.url }], defaults: { disableOfflineQueue: true, socket: SOCKET } });
  cluster.on('error', (err: Error) => opts.onError?.(err));
  let closed = false;
  return {
    commands: cluster as unknown as RedisClientType,
    ping: () => cluster.sendCommand(undefined, true, ['PING']),
    // Any one node answers PING even while the cluster refuses commands (CLUSTERDOWN) or one of its
    // masters is gone: ask every master the client routes to for the cluster's own verdict.
    async ready() {
      const masters = cluster.masters;
      if (!masters.length) return false;
      const infos = await Promise.all(
        masters.map(async (master) => String(await (await cluster.nodeClient(master)).sendCommand(['CLUSTER', 'INFO']))),
      );
      return infos.every(servesEverySlot);
    },
    // Topology discovery fails outright when no node answers: retry until it works (or close).
    async connect() {
      for (let attempt = 0; !closed; attempt++) {
        try {
          await cluster.connect();
          opts.onReady?.();
          return;
        } catch (err) {
          opts.onError?.(err as Error);
          await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(attempt)));
        }
      }
    },
    async close(waitMs) {
      closed = true;
      if (!cluster.isOpen) return;
      // Node by node (a lost or frozen master must not hold the others up), then the cluster's own state.
      await Promise.all(cluster.masters.map((master) => master.client && closeClient(master.client, waitMs)));
      await cluster.close();
    },
  };
}

/** A node's CLUSTER INFO says the cluster is up and every one of the 16384 slots is served (none failing). */
const servesEverySlot = (info: string) => /^cluster_state:ok\r?$/m.test(info) && /^cluster_slots_ok:16384\r?$/m.test(info);

/** Readiness checks: answer reused this long; a check slower than this (or the command timeout) is "not ready". */
const READY_REUSE_MS = 1000;
const READY_TIMEOUT_MS = 1000;

/**
 * The Redis implementation of the store port. Each primitive is one command or one Lua script.
 * With the offline queue disabled, commands fail fast while Redis is down (503s, /ready false)
 * instead of piling up behind a dead connection.
 */
export async function createRedisStore(opts: RedisStoreOptions): Promise<Store> {
  const connection = connectionTo(opts);
  const client = connection.commands;
  const connecting = connection.connect();
  if (opts.connectWaitMs === undefined) await connecting;
  else {
    connecting.catch(() => {}); // failures reach onError; the client keeps retrying
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((resolve) => (timer = setTimeout(resolve, opts.connectWaitMs)))]).catch(() => {});
    clearTimeout(timer);
  }

  const p = (key: string) => opts.prefix + key;
  const score = (n: number) => (n === Infinity ? '+inf' : n === -Infinity ? '-inf' : n);
  const commandTimeoutMs = opts.commandTimeoutMs ?? 3000;
  const deadlines = createCommandDeadlines(commandTimeoutMs);
  const guard = <T>(op: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const untrack = deadlines.track(reject);
      const failed = (err: unknown) => {
        untrack();
        reject(new StoreUnavailableError(err));
      };
      let pending: Promise<T>;
      try {
        pending = op();
      } catch (err) {
        // The client throws some errors (a closed client) instead of rejecting: unavailable too.
        return failed(err);
      }
      pending.then((value) => {
        untrack();
        resolve(value);
      }, failed);
    });
  const chainTips = new Map<string, ChainTip>();
  const appendQueues = new Map<string, Promise<unknown>>();
  const run = (name: ScriptName, keys: string[], args: (string | number)[]) =>
    guard(async () => {
      const options = { keys: keys.map(p), arguments: args.map(String) };
      try {
        return await client.evalSha(SHAS[name], options);
      } catch (err) {
        if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
        return client.eval(SCRIPTS[name], options);
      }
    });

  return {
    kind: 'redis',
    get: (key) => guard(() => client.get(p(key))),
    getMany: (keys) => guard(async () => (keys.length ? ((await client.mGet(keys.map(p))) as (string | null)[]) : [])),
    put: (key, value, o = {}) =>
      guard(async () => {
        const res = await client.set(p(key), value, {
          ...(o.ttlSeconds !== undefined ? { expiration: { type: 'EX' as const, value: Math.max(1, Math.ceil(o.ttlSeconds)) } } : {}),
          ...(o.ifAbsent ? { condition: 'NX' as const } : {}),
        });
        return res === 'OK';
      }),
    delete: (...keys) => guard(async () => (keys.length ? client.del(keys.map(p)) : 0)),
    consume: (key) => guard(() => client.getDel(p(key))),
    compareAndSwap: async (key, expected, next, ttlSeconds) =>
      (await run('compareAndSwap', [key], [expected, next, ttlSeconds === undefined ? '' : Math.max(1, Math.ceil(ttlSeconds))])) === 1,
    compareAndDelete: async (key, expected) => (await run('compareAndDelete', [key], [expected])) === 1,
    ttl: (key) => guard(() => client.ttl(p(key))),
    expire: async (key, ttlSeconds, o = {}) => {
      const seconds = Math.max(1, Math.ceil(ttlSeconds));
      if (o.onlyLonger) await run('expireExtend', [key], [seconds]);
      else await guard(async () => void (await client.expire(p(key), seconds)));
    },
    hashGet: (key, fields) => guard(async () => (fields.length ? ((await client.hmGet(p(key), fields)) as (string | null)[]) : [])),
    hashGetAll: (key) => guard(async () => ({ ...(await client.hGetAll(p(key))) })),
    hashSet: async (key, entries, o = {}) => {
      const flat = Object.entries(entries).flat();
      if (!flat.length) return;
      await run('hashSetExtend', [key], [o.ttlSeconds === undefined ? '' : Math.ceil(o.ttlSeconds), ...flat]);
    },
    // HINCRBY, then the expiry extended as expire({ onlyLonger }) does: sent together, one round trip.
    hashIncrement: async (key, field, by, o = {}) => {
      const [total] = await Promise.all([
        guard(() => client.hIncrBy(p(key), field, Math.trunc(by))),
        o.ttlSeconds === undefined ? undefined : run('expireExtend', [key], [Math.max(1, Math.ceil(o.ttlSeconds))]),
      ]);
      return Number(total);
    },
    hashDelete: (key, fields) => guard(async () => void (fields.length && (await client.hDel(p(key), fields)))),
    indexAdd: (key, member, score) => guard(async () => void (await client.zAdd(p(key), { score, value: member }))),
    indexRemove: (key, members) => guard(async () => void (members.length && (await client.zRem(p(key), members)))),
    indexRange: (key, { offset, limit, reverse }) =>
      guard(async () => (limit <= 0 ? [] : client.zRange(p(key), offset, offset + limit - 1, reverse ? { REV: true } : undefined))),
    indexRangeByScore: (key, min, max) => guard(() => client.zRangeByScore(p(key), min, max)),
    indexRemoveByScore: (key, min, max) => guard(() => client.zRemRangeByScore(p(key), score(min), score(max))),
    indexCount: (key) => guard(() => client.zCard(p(key))),
    indexScore: (key, member) => guard(() => client.zScore(p(key), member)),
    rateLimit: async (key, limit, periodMs, cost = 1) => {
      const [allowed, remaining, retryAfterMs, resetMs] = (await run('rateLimit', [key], [limit, periodMs, cost])) as number[];
      return { allowed: allowed === 1, remaining, retryAfterMs, resetMs };
    },
    publish: (stream, fields, maxLen = 10_000) =>
      guard(() => client.xAdd(p(stream), '*', fields, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: maxLen } })),
    appendChained: (stream, build, o) => {
      // One process appends to a stream one entry at a time (its tip is then usually right the
      // first time); the script refuses a stale tip, so other processes interleave safely.
      const previous = appendQueues.get(stream) ?? Promise.resolve();
      const next = previous.then(async () => {
        let tip = chainTips.get(stream) ?? null;
        for (let attempt = 0; attempt < MAX_CHAIN_ATTEMPTS; attempt++) {
          const fields = build(tip);
          const args = [tip?.hash ?? '', o.maxLen, o.retentionMs === undefined ? '' : Math.max(1, Math.ceil(o.retentionMs))];
          const res = (await run('appendChained', [stream], [...args, ...Object.entries(fields).flat()])) as (string | number)[];
          if (res[0] === 1) {
            chainTips.set(stream, { hash: fields.hash ?? '', seq: Number(fields.seq ?? 0) });
            return String(res[1]);
          }
          tip = res[1] === '' ? null : { hash: String(res[1]), seq: Number(res[2]) };
        }
        throw new StoreUnavailableError(new Error(`stream ${stream}: too many concurrent appends`));
      });
      appendQueues.set(
        stream,
        next.catch(() => undefined),
      );
      return next;
    },
    streamRange: (stream, { start = '-', end = '+', count, reverse }) =>
      guard(async () => {
        if (count <= 0) return [];
        const entries = reverse
          ? await client.xRevRange(p(stream), end, start, { COUNT: count })
          : await client.xRange(p(stream), start, end, { COUNT: count });
        return entries.map((e) => ({ id: e.id, fields: { ...(e.message as Record<string, string>) } }));
      }),
    ping: () => guard(async () => void (await connection.ping())),
    ready: sharedReadiness(() => connection.ready(), { reuseMs: READY_REUSE_MS, timeoutMs: Math.min(READY_TIMEOUT_MS, commandTimeoutMs) }),
    close: async () => {
      deadlines.stop();
      await connection.close(commandTimeoutMs);
    },
  };
}

/**
 * Fails commands Redis has not answered in `timeoutMs` (at most a quarter more), without a timer
 * per command: calls in flight are kept in generations that a sweeper rotates four times per
 * timeout; what is still in the oldest generation when it expires is rejected as unavailable.
 * (A timer and a race per command cost ~2 µs each, twice per verify on the hot path.)
 */
function createCommandDeadlines(timeoutMs: number) {
  const GENERATIONS = 4;
  const generations: Set<(err: Error) => void>[] = Array.from({ length: GENERATIONS + 1 }, () => new Set());
  const sweeper = setInterval(
    () => {
      const expired = generations.shift()!;
      generations.push(new Set());
      for (const reject of expired) reject(new StoreUnavailableError(new Error(`Redis did not answer within ${timeoutMs} ms`)));
    },
    Math.max(1, Math.round(timeoutMs / GENERATIONS)),
  );
  sweeper.unref();
  return {
    /** Track a call in flight; the returned function stops tracking it (call it when it settles). */
    track(reject: (err: Error) => void): () => void {
      const generation = generations[GENERATIONS]!;
      generation.add(reject);
      return () => generation.delete(reject);
    },
    stop: () => clearInterval(sweeper),
  };
}
