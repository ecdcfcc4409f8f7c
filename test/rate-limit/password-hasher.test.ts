import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { ServiceUnavailableError } from '../../src/errors.ts';

describe('password hashing under a flood', () => {
  it('caps hashing in flight and answers 503 with Retry-After past the queue, instead of piling up', async () => {
    const hasher = createPasswordHasher({ maxConcurrent: 1, maxQueued: 2 });
    await hasher.verify(undefined, 'warm up');
    const settling = Promise.allSettled(Array.from({ length: 6 }, (_, i) => hasher.verify(undefined, `guess ${i}`)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(hasher.stats(), { active: 1, queued: 2, maxConcurrent: 1 });
    const settled = await settling;
    const refused = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(refused.length, 3);
    for (const r of refused) {
      assert.ok(r.reason instanceof ServiceUnavailableError);
      assert.equal(r.reason.headers['Retry-After'], '1');
    }
    assert.ok(settled.filter((r) => r.status === 'fulfilled').every((r) => (r as PromiseFulfilledResult<boolean>).value === false));
  });

  it('hashes in threads of lower CPU priority than the event loop (Linux)', { skip: process.platform !== 'linux' }, async () => {
    const hasher = createPasswordHasher();
    await hasher.hash('warm the pool up');
    await new Promise((r) => setTimeout(r, 50));
    const nice = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const threads = readdirSync('/proc/self/task').map((tid) => ({
      tid,
      name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
    }));
    const pool = threads.filter((t) => t.name === 'libuv-worker');
    assert.ok(pool.length > 0);
    assert.ok(
      pool.every((t) => nice(t.tid) > nice(String(process.pid))),
      'pool threads are niced below the main thread',
    );
  });
});
