import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/port.ts';
import { createRedisStore } from '../../src/store/redis.ts';
import { dropPrefix, privatePrefix, REDIS_URL, redisBinariesMissing } from '../helpers/harness.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';

/**
 * One contract, two implementations: whatever the domain relies on from the store port must hold
 * for the Redis store (real Redis, private prefix) and the embedded one alike.
 * `peer` is a second handle on the same data (a second server instance, for Redis a second connection).
 */
interface Subject {
  store: Store;
  peer: Store;
  /** A store with a different prefix (Redis) or another process's memory (embedded). */
  stranger: Store;
  close(): Promise<void>;
}

/** Three Redis stores: two on one prefix (two instances), one on another; `cleanup` runs after they close. */
async function redisSubject(url: string, prefixes: [string, string], cluster: boolean, cleanup: () => Promise<void>): Promise<Subject> {
  const [store, peer, stranger] = await Promise.all(
    [prefixes[0], prefixes[0], prefixes[1]].map((prefix) => createRedisStore({ url, prefix, cluster })),
  );
  return {
    store: store!,
    peer: peer!,
    stranger: stranger!,
    async close() {
      await Promise.all([store!.close(), peer!.close(), stranger!.close()]);
      await cleanup();
    },
  };
}

const subjects: Record<'redis' | 'redis-cluster' | 'memory', () => Promise<Subject>> = {
  async redis() {
    const prefixes: [string, string] = [privatePrefix('store'), privatePrefix('store-other')];
    return redisSubject(REDIS_URL, prefixes, false, async () => {
      await dropPrefix(prefixes[0]);
      await dropPrefix(prefixes[1]);
    });
  },
  // A private three-node Redis Cluster: every primitive must be single-slot (keys one call
  // touches share a hash tag), or the cluster refuses it (CROSSSLOT).
  async 'redis-cluster'() {
    const cluster = await startRedisCluster();
    return redisSubject(cluster.url, ['pc:', 'other:'], true, () => cluster.stop());
  },
  async memory() {
    const store = createMemoryStore();
    const stranger = createMemoryStore();
    return {
      store,
      peer: store,
      stranger,
      async close() {
        await Promise.all([store.close(), stranger.close()]);
      },
    };
  },
};

for (const kind of ['redis', 'redis-cluster', 'memory'] as const) {
  describe(`store contract: ${kind}`, { skip: kind === 'redis-cluster' && redisBinariesMissing() }, () => {
    let s: Subject;
    let store: Store;
    before(async () => {
      s = await subjects[kind]();
      store = s.store;
    });
    after(() => s.close());

    it(`reports its kind`, () => {
      assert.equal(store.kind, kind === 'redis-cluster' ? 'redis' : kind);
    });

    it('puts, gets, gets many and deletes strings', async () => {
      assert.equal(await store.get('k:{a}:missing'), null);
      assert.equal(await store.put('k:{a}:1', 'one'), true);
      assert.equal(await store.put('k:{a}:2', 'two'), true);
      assert.equal(await store.get('k:{a}:1'), 'one');
      assert.deepEqual(await store.getMany(['k:{a}:1', 'k:{a}:missing', 'k:{a}:2']), ['one', null, 'two']);
      assert.deepEqual(await store.getMany([]), []);
      assert.equal(await store.put('k:{a}:1', 'uno'), true, 'put overwrites');
      assert.equal(await s.peer.get('k:{a}:1'), 'uno', 'a second instance sees the write');
      assert.equal(await store.delete('k:{a}:1', 'k:{a}:2', 'k:{a}:missing'), 2, 'delete counts the keys that existed');
      assert.equal(await store.get('k:{a}:1'), null);
      assert.equal(await store.delete(), 0);
    });

    it('keeps namespaces apart', async () => {
      await store.put('ns:key', 'mine');
      assert.equal(await s.stranger.get('ns:key'), null);
      await s.stranger.put('ns:key', 'theirs');
      assert.equal(await store.get('ns:key'), 'mine');
    });

    it('put ifAbsent claims a key once and leaves the first value in place', async () => {
      assert.equal(await store.put('claim', 'first', { ifAbsent: true }), true);
      assert.equal(await store.put('claim', 'second', { ifAbsent: true }), false);
      assert.equal(await store.get('claim'), 'first');
      // Of many concurrent claims (two instances), exactly one wins.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? s.peer : store).put('claim:race', `c${i}`, { ifAbsent: true })),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.get('claim:race'), `c${results.indexOf(true)}`);
    });

    it('reports TTLs: -2 missing, -1 no expiry, seconds otherwise; expire sets one', async () => {
      assert.equal(await store.ttl('ttl:missing'), -2);
      await store.put('ttl:forever', 'x');
      assert.equal(await store.ttl('ttl:forever'), -1);
      await store.put('ttl:minute', 'x', { ttlSeconds: 60 });
      const t = await store.ttl('ttl:minute');
      assert.ok(t > 55 && t <= 60, `ttl ${t}`);
      await store.expire('ttl:forever', 120);
      const t2 = await store.ttl('ttl:forever');
      assert.ok(t2 > 115 && t2 <= 120, `ttl ${t2}`);
      await store.expire('ttl:missing', 10); // no-op on a missing key
      assert.equal(await store.ttl('ttl:missing'), -2);
    });

    it('forgets every kind of entry when its TTL passes', async () => {
      await store.put('exp:string', 'x', { ttlSeconds: 1 });
      await store.put('exp:claim', 'x', { ttlSeconds: 1, ifAbsent: true });
      await store.put('exp:expire', 'x');
      await store.expire('exp:expire', 1);
      await store.put('exp:cas', 'a');
      assert.equal(await store.compareAndSwap('exp:cas', 'a', 'b', 1), true);
      await store.hashSet('exp:hash', { f: 'v' }, { ttlSeconds: 1 });
      await store.indexAdd('exp:index', 'm', 1);
      await store.expire('exp:index', 1);
      await store.put('exp:consume', 'x', { ttlSeconds: 1 });
      assert.equal(await store.get('exp:string'), 'x');
      await sleep(1300);
      assert.equal(await store.get('exp:string'), null);
      assert.equal(await store.get('exp:expire'), null);
      assert.equal(await store.get('exp:cas'), null);
      assert.equal(await store.consume('exp:consume'), null);
      assert.deepEqual(await store.hashGet('exp:hash', ['f']), [null]);
      assert.deepEqual(await store.hashGetAll('exp:hash'), {});
      assert.deepEqual(await store.indexRange('exp:index', { offset: 0, limit: 10 }), []);
      assert.equal(await store.indexCount('exp:index'), 0);
      assert.equal(await store.ttl('exp:string'), -2);
      assert.equal(await store.compareAndSwap('exp:string', 'x', 'y'), false, 'an expired value cannot be swapped');
      assert.equal(await store.put('exp:claim', 'again', { ifAbsent: true }), true, 'an expired claim can be made again');
    });

    it('consume returns the value once', async () => {
      await store.put('once', 'secret', { ttlSeconds: 60 });
      assert.equal(await store.consume('once'), 'secret');
      assert.equal(await store.consume('once'), null);
      assert.equal(await store.get('once'), null);
      assert.equal(await store.consume('never-there'), null);
    });

    it('consume under concurrency: exactly one of many consumers (on two instances) gets the value', async () => {
      for (let round = 0; round < 5; round++) {
        await store.put(`race:${round}`, `v${round}`, { ttlSeconds: 60 });
        const got = await Promise.all(Array.from({ length: 25 }, (_, i) => (i % 2 ? s.peer : store).consume(`race:${round}`)));
        assert.deepEqual(
          got.filter((v) => v !== null),
          [`v${round}`],
        );
      }
    });

    it('compareAndSwap replaces only the expected value', async () => {
      assert.equal(await store.compareAndSwap('cas:missing', 'a', 'b'), false);
      assert.equal(await store.get('cas:missing'), null, 'a failed swap creates nothing');
      await store.put('cas', 'a');
      assert.equal(await store.compareAndSwap('cas', 'x', 'b'), false);
      assert.equal(await store.get('cas'), 'a');
      assert.equal(await store.compareAndSwap('cas', 'a', 'b'), true);
      assert.equal(await store.get('cas'), 'b');
    });

    it('compareAndDelete deletes only the expected value', async () => {
      assert.equal(await store.compareAndDelete('cad:missing', 'a'), false);
      await store.put('cad', 'a', { ttlSeconds: 60 });
      assert.equal(await store.compareAndDelete('cad', 'x'), false);
      assert.equal(await store.get('cad'), 'a', 'a mismatch deletes nothing');
      assert.equal(await store.compareAndDelete('cad', 'a'), true);
      assert.equal(await store.ttl('cad'), -2);
    });

    it('compareAndSwap keeps the expiry unless given a new one', async () => {
      await store.put('cas:ttl', 'a', { ttlSeconds: 100 });
      assert.equal(await store.compareAndSwap('cas:ttl', 'a', 'b'), true);
      const kept = await store.ttl('cas:ttl');
      assert.ok(kept > 95 && kept <= 100, `kept ${kept}`);
      assert.equal(await store.compareAndSwap('cas:ttl', 'b', 'c', 500), true);
      const set = await store.ttl('cas:ttl');
      assert.ok(set > 495 && set <= 500, `set ${set}`);
      await store.put('cas:forever', 'a');
      assert.equal(await store.compareAndSwap('cas:forever', 'a', 'b'), true);
      assert.equal(await store.ttl('cas:forever'), -1);
    });

    it('compareAndSwap races: of N swaps from one value, exactly one wins', async () => {
      await store.put('cas:race', 'start');
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? s.peer : store).compareAndSwap('cas:race', 'start', `w${i}`)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.get('cas:race'), `w${results.indexOf(true)}`);
    });

    it('compareAndSwap as a counter: N concurrent read-then-swap loops lose no increment', async () => {
      await store.put('cas:counter', '0');
      const increment = async (st: Store) => {
        for (;;) {
          const current = (await st.get('cas:counter'))!;
          if (await st.compareAndSwap('cas:counter', current, String(Number(current) + 1))) return;
        }
      };
      await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? s.peer : store)));
      assert.equal(await store.get('cas:counter'), '20');
    });

    it('hashes: set, get fields, get all, delete fields', async () => {
      await store.hashSet('h', { a: '1', b: '2' });
      await store.hashSet('h', { b: 'two', c: '3' });
      assert.deepEqual(await store.hashGet('h', ['a', 'b', 'missing']), ['1', 'two', null]);
      assert.deepEqual(await store.hashGetAll('h'), { a: '1', b: 'two', c: '3' });
      assert.deepEqual(await store.hashGet('h:missing', ['a']), [null]);
      assert.deepEqual(await store.hashGet('h', []), []);
      assert.deepEqual(await store.hashGetAll('h:missing'), {});
      await store.hashDelete('h', ['a', 'missing']);
      assert.deepEqual(await store.hashGetAll('h'), { b: 'two', c: '3' });
      await store.hashDelete('h', ['b', 'c']);
      assert.equal(await store.ttl('h'), -2, 'a hash without fields is gone');
      await store.hashSet('h:empty', {});
      assert.equal(await store.ttl('h:empty'), -2, 'setting no field creates nothing');
    });

    it('hashSet never shortens the expiry, and extends it when asked for longer', async () => {
      await store.hashSet('h:ttl', { a: '1' }, { ttlSeconds: 100 });
      await store.hashSet('h:ttl', { b: '2' }, { ttlSeconds: 10 });
      const kept = await store.ttl('h:ttl');
      assert.ok(kept > 95 && kept <= 100, `shorter TTL must not shorten: ${kept}`);
      await store.hashSet('h:ttl', { c: '3' });
      const untouched = await store.ttl('h:ttl');
      assert.ok(untouched > 95 && untouched <= 100, `no TTL keeps it: ${untouched}`);
      await store.hashSet('h:ttl', { d: '4' }, { ttlSeconds: 300 });
      const extended = await store.ttl('h:ttl');
      assert.ok(extended > 295 && extended <= 300, `longer TTL extends: ${extended}`);
      assert.deepEqual(Object.keys(await store.hashGetAll('h:ttl')).sort(), ['a', 'b', 'c', 'd']);
    });

    it('hashIncrement adds to a field (a missing one is 0), answers the sum, and extends the expiry as hashSet does', async () => {
      assert.equal(await store.hashIncrement('h:count', 'a', 3, { ttlSeconds: 100 }), 3);
      assert.equal(await store.hashIncrement('h:count', 'a', 4, { ttlSeconds: 10 }), 7);
      assert.equal(await store.hashIncrement('h:count', 'b', 1), 1);
      assert.deepEqual(await store.hashGetAll('h:count'), { a: '7', b: '1' });
      const kept = await store.ttl('h:count');
      assert.ok(kept > 95 && kept <= 100, `shorter TTL must not shorten: ${kept}`);
      await store.hashIncrement('h:count', 'a', 1, { ttlSeconds: 300 });
      const extended = await store.ttl('h:count');
      assert.ok(extended > 295 && extended <= 300, `longer TTL extends: ${extended}`);
      // Concurrent increments from two instances lose nothing.
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : s.peer).hashIncrement('h:count', 'c', 2)));
      assert.equal((await store.hashGet('h:count', ['c']))[0], '40');
    });

    it('expire onlyLonger sets an expiry where there is none, extends a shorter one, never shortens', async () => {
      await store.indexAdd('ix:ttl', 'a', 1);
      await store.expire('ix:ttl', 100, { onlyLonger: true });
      const first = await store.ttl('ix:ttl');
      assert.ok(first > 95 && first <= 100, `a key with no expiry gets this one: ${first}`);
      await store.expire('ix:ttl', 10, { onlyLonger: true });
      const kept = await store.ttl('ix:ttl');
      assert.ok(kept > 95 && kept <= 100, `shorter must not shorten: ${kept}`);
      await store.expire('ix:ttl', 300, { onlyLonger: true });
      const extended = await store.ttl('ix:ttl');
      assert.ok(extended > 295 && extended <= 300, `longer extends: ${extended}`);
      await store.expire('ix:missing', 300, { onlyLonger: true });
      assert.equal(await store.ttl('ix:missing'), -2, 'a missing key stays missing');
      await store.expire('ix:ttl', 10);
      const plain = await store.ttl('ix:ttl');
      assert.ok(plain > 5 && plain <= 10, `without the option the expiry is replaced: ${plain}`);
    });

    it('indexes order members by score, page, reverse, range by score and count', async () => {
      const key = 'idx';
      for (const [m, score] of [
        ['c', 3],
        ['a', 1],
        ['e', 5],
        ['b', 2],
        ['d', 4],
      ] as const)
        await store.indexAdd(key, m, score);
      assert.equal(await store.indexCount(key), 5);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 10 }), ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 2 }), ['a', 'b']);
      assert.deepEqual(await store.indexRange(key, { offset: 2, limit: 2 }), ['c', 'd']);
      assert.deepEqual(await store.indexRange(key, { offset: 4, limit: 2 }), ['e']);
      assert.deepEqual(await store.indexRange(key, { offset: 5, limit: 2 }), []);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 0 }), []);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 2, reverse: true }), ['e', 'd']);
      assert.deepEqual(await store.indexRange(key, { offset: 2, limit: 10, reverse: true }), ['c', 'b', 'a']);
      assert.deepEqual(await store.indexRangeByScore(key, 2, 4), ['b', 'c', 'd'], 'bounds are inclusive');
      assert.deepEqual(await store.indexRangeByScore(key, 6, 10), []);
      await store.indexAdd('idx:prune', 'old', 1);
      await store.indexAdd('idx:prune', 'older', 0);
      await store.indexAdd('idx:prune', 'new', 9);
      assert.equal(await store.indexRemoveByScore('idx:prune', -Infinity, 1), 2);
      assert.deepEqual(await store.indexRange('idx:prune', { offset: 0, limit: 10 }), ['new']);
      assert.equal(await store.indexRemoveByScore('idx:missing', 0, 10), 0);
      // Re-adding a member moves it (its score is replaced, not duplicated).
      await store.indexAdd(key, 'a', 10);
      assert.equal(await store.indexCount(key), 5);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 10 }), ['b', 'c', 'd', 'e', 'a']);
      await store.indexRemove(key, ['c', 'missing']);
      assert.deepEqual(await store.indexRange(key, { offset: 0, limit: 10 }), ['b', 'd', 'e', 'a']);
      assert.equal(await store.indexCount('idx:missing'), 0);
      assert.deepEqual(await store.indexRange('idx:missing', { offset: 0, limit: 10 }), []);
      // A member's score, exactly (sign-ins are scored by an expiry in milliseconds), or null.
      assert.equal(await store.indexScore(key, 'a'), 10);
      await store.indexAdd(key, 'ms', 1_795_000_000_123);
      assert.equal(await store.indexScore(key, 'ms'), 1_795_000_000_123);
      assert.equal(await store.indexScore(key, 'c'), null, 'a removed member');
      assert.equal(await store.indexScore('idx:missing', 'a'), null);
    });

    it('indexes break score ties by member, and keep millisecond timestamps exact', async () => {
      const t = Date.parse('2026-11-22T08:00:00.123Z');
      for (const m of ['m3', 'm1', 'm2']) await store.indexAdd('idx:ties', m, t);
      await store.indexAdd('idx:ties', 'later', t + 1);
      assert.deepEqual(await store.indexRange('idx:ties', { offset: 0, limit: 10 }), ['m1', 'm2', 'm3', 'later']);
      assert.deepEqual(await store.indexRangeByScore('idx:ties', t + 1, t + 1), ['later']);
    });

    it('rateLimit (GCRA) allows the quota, refuses beyond it without spending, and says when to retry', async () => {
      const key = 'rl:{quota}';
      const hourMs = 3_600_000;
      const peek = await store.rateLimit(key, 5, hourMs, 0);
      assert.equal(peek.allowed, true);
      assert.equal(peek.remaining, 5, 'a fresh cell holds the full quota');
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await store.rateLimit(key, 5, hourMs));
      assert.deepEqual(
        answers.map((a) => a.allowed),
        [true, true, true, true, true],
      );
      assert.deepEqual(
        answers.map((a) => a.remaining),
        [4, 3, 2, 1, 0],
      );
      assert.ok(answers.every((a) => a.retryAfterMs === 0));
      const refused = await store.rateLimit(key, 5, hourMs);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 0);
      // One request's worth of time (an hour / 5 = 12 min) until the next one is allowed.
      assert.ok(refused.retryAfterMs > hourMs / 5 - 5000 && refused.retryAfterMs <= hourMs / 5, `retryAfter ${refused.retryAfterMs}`);
      assert.ok(refused.resetMs > hourMs - 5000 && refused.resetMs <= hourMs, `reset ${refused.resetMs}`);
      // A refusal spends nothing: the wait does not grow with each refused attempt.
      const again = await store.rateLimit(key, 5, hourMs);
      assert.equal(again.allowed, false);
      assert.ok(again.retryAfterMs <= refused.retryAfterMs);
      // The cell expires once the quota would be full again: bounded memory.
      const ttl = await store.ttl(key);
      assert.ok(ttl > 3500 && ttl <= 3600, `cell ttl ${ttl}`);
      // Another subject has its own quota.
      assert.equal((await store.rateLimit('rl:{other}', 5, hourMs)).allowed, true);
    });

    it('rateLimit: of many concurrent requests (two instances), exactly the quota passes', async () => {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? s.peer : store).rateLimit('rl:{burst}', 7, 60_000)));
      assert.equal(results.filter((r) => r.allowed).length, 7);
    });

    it('rateLimit refills smoothly: one more request after one interval, not a whole window', async () => {
      const key = 'rl:{refill}';
      // 4 per 800 ms: one request every 200 ms.
      for (let i = 0; i < 4; i++) assert.equal((await store.rateLimit(key, 4, 800)).allowed, true);
      const refused = await store.rateLimit(key, 4, 800);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 200, `retryAfter ${refused.retryAfterMs}`);
      await sleep(refused.retryAfterMs + 60);
      assert.equal((await store.rateLimit(key, 4, 800)).allowed, true, 'one request refilled');
      assert.equal((await store.rateLimit(key, 4, 800)).allowed, false, 'but only one');
      await sleep(900);
      const full = await store.rateLimit(key, 4, 800, 0);
      assert.equal(full.remaining, 4, 'after a whole period the quota is full again');
    });

    it('rateLimit with a cost spends several units at once', async () => {
      assert.equal((await store.rateLimit('rl:{cost}', 10, 60_000, 7)).remaining, 3);
      assert.equal((await store.rateLimit('rl:{cost}', 10, 60_000, 4)).allowed, false);
      assert.equal((await store.rateLimit('rl:{cost}', 10, 60_000, 3)).allowed, true);
    });

    it('publishes to a stream with increasing ids', async () => {
      const first = await store.publish('events:test', { event: 'a' });
      const second = await store.publish('events:test', { event: 'b' });
      assert.ok(typeof first === 'string' && first.length > 0);
      assert.notEqual(first, second);
    });

    it('appends to a hash-chained stream only after its current last entry, and reads it back in order', async () => {
      const stream = 'events:chain';
      const build = (tip: { hash: string; seq: number } | null) => {
        const seq = (tip?.seq ?? 0) + 1;
        return { seq: String(seq), prev: tip?.hash ?? '', hash: `h${seq}` };
      };
      await Promise.all(Array.from({ length: 20 }, () => store.appendChained(stream, build, { maxLen: 1000 })));
      const entries = await store.streamRange(stream, { count: 100 });
      assert.equal(entries.length, 20);
      entries.forEach((e, i) => {
        assert.equal(e.fields.seq, String(i + 1));
        assert.equal(e.fields.prev, i === 0 ? '' : `h${i}`);
      });
      const newest = await store.streamRange(stream, { count: 2, reverse: true });
      assert.deepEqual(
        newest.map((e) => e.fields.seq),
        ['20', '19'],
      );
      const middle = await store.streamRange(stream, { start: entries[5]!.id, end: entries[7]!.id, count: 100 });
      assert.deepEqual(
        middle.map((e) => e.fields.seq),
        ['6', '7', '8'],
      );
    });

    it('trims a hash-chained stream to its retention, keeping the newest entry', async () => {
      const stream = 'events:chain-retention';
      const build = (tip: { hash: string; seq: number } | null) => ({ seq: String((tip?.seq ?? 0) + 1), hash: `h${(tip?.seq ?? 0) + 1}` });
      await store.appendChained(stream, build, { maxLen: 1000, retentionMs: 300 });
      await store.appendChained(stream, build, { maxLen: 1000, retentionMs: 300 });
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await store.appendChained(stream, build, { maxLen: 1000, retentionMs: 300 });
      }
      const entries = await store.streamRange(stream, { count: 100 });
      // The two oldest are 400 ms old, past the 300 ms retention; the chain goes on from them.
      assert.deepEqual(
        entries.map((e) => e.fields.seq),
        ['3', '4'],
      );
    });

    it('answers ping', async () => {
      await store.ping();
    });

    it('is ready', async () => {
      assert.equal(await store.ready(), true);
    });
  });
}

describe('store contract: a closed Redis store', () => {
  it('fails with StoreUnavailableError (the HTTP layer answers 503), not a raw client error', async () => {
    const prefix = privatePrefix('store-closed');
    const store = await createRedisStore({ url: REDIS_URL, prefix });
    await store.close();
    await assert.rejects(store.ping(), { code: 'ERR_STORE_UNAVAILABLE' });
    assert.equal(await store.ready(), false);
    await assert.rejects(store.get('x'), { code: 'ERR_STORE_UNAVAILABLE' });
    await assert.rejects(store.compareAndSwap('x', 'a', 'b'), { code: 'ERR_STORE_UNAVAILABLE' });
    await store.close(); // closing twice is harmless
  });
});
