import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { ServiceUnavailableError } from '../../src/errors.ts';
import { http, startTestServer } from '../helpers/harness.ts';

/** The nice value of thread `tid` of this process (Linux). */
const nice = (tid: string) => {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};

describe('password hashing under a flood', () => {
  it('caps hashing in flight and answers 503 with Retry-After past the queue, instead of piling up', async () => {
    // The length bound alone: no deadline a slow machine could reach first.
    const hasher = createPasswordHasher({ maxConcurrent: 1, maxQueued: 2, maxWaitMs: 60_000 });
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

  it('refuses (503 + Retry-After) a login that would wait for a thread past the deadline, at once when the pace says so', async () => {
    const hasher = createPasswordHasher({ maxConcurrent: 1, maxQueued: 100, maxWaitMs: 0 });
    const stored = await hasher.hash('the password');
    // The pace is known now (one hash measured): a second login at once would wait, so it is refused without queueing.
    const [first, second] = await Promise.allSettled([hasher.verify(stored, 'the password'), hasher.verify(stored, 'the password')]);
    assert.deepEqual(first, { status: 'fulfilled', value: true });
    assert.equal(second.status, 'rejected');
    const refused = (second as PromiseRejectedResult).reason;
    assert.ok(refused instanceof ServiceUnavailableError);
    assert.ok(Number(refused.headers['Retry-After']) >= 1);
    assert.deepEqual(hasher.stats(), { active: 0, queued: 0, maxConcurrent: 1 });
  });

  it('a login queued before the pace was known is refused when its deadline passes, not served late; setting a password waits its turn', async () => {
    const stored = await createPasswordHasher().hash('one');
    const fresh = createPasswordHasher({ maxConcurrent: 1, maxQueued: 100, maxWaitMs: 0 });
    const settled = await Promise.allSettled([
      fresh.verify(stored, 'one'),
      fresh.verify(stored, 'one'),
      fresh.hash('two'),
      fresh.verify(stored, 'one'),
    ]);
    assert.deepEqual(settled[0], { status: 'fulfilled', value: true });
    for (const late of [settled[1]!, settled[3]!]) {
      assert.equal(late.status, 'rejected');
      assert.ok((late as PromiseRejectedResult).reason instanceof ServiceUnavailableError);
    }
    assert.equal(settled[2]!.status, 'fulfilled', 'a password being set is not refused for time');
  });

  it(
    'hashes on every core, in threads at the lowest CPU priority, the event loop keeping its own (Linux)',
    { skip: process.platform !== 'linux' },
    async () => {
      const before = new Set(readdirSync('/proc/self/task'));
      const hasher = createPasswordHasher();
      assert.equal(hasher.stats().maxConcurrent, availableParallelism());
      // As many hashes at once as there are cores: every thread starts.
      const stored = await Promise.all(Array.from({ length: availableParallelism() }, (_, i) => hasher.hash(`warm ${i}`)));
      assert.equal(stored.length, availableParallelism());
      const started = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
      const lowest = started.filter((tid) => nice(tid) === 19);
      assert.equal(
        lowest.length,
        availableParallelism(),
        `one thread at nice 19 per core (new threads: ${started.map((t) => `${t}:${nice(t)}`).join(' ')})`,
      );
      assert.equal(nice(String(process.pid)), getPriority(), 'the event loop keeps its priority');
      assert.ok(getPriority() < 19);
    },
  );

  it('PASSWORD_HASH_NICE sets how far below request handling a login hashes (Linux)', { skip: process.platform !== 'linux' }, async () => {
    const srv = await startTestServer({ env: { PASSWORD_HASH_NICE: '5' } });
    try {
      const before = new Set(readdirSync('/proc/self/task'));
      await srv.services.accounts.create({ actorType: 'user', email: 'nice@example.com', password: 'a nice password', role: 'member' });
      const logins = await Promise.all(
        Array.from({ length: availableParallelism() }, () =>
          http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'nice@example.com', password: 'a nice password' } }),
        ),
      );
      assert.deepEqual(
        logins.map((l) => l.status),
        logins.map(() => 200),
      );
      const started = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
      const hashing = started.filter((tid) => nice(tid) === Math.min(19, getPriority() + 5));
      assert.equal(hashing.length, availableParallelism(), `new threads: ${started.map((t) => `${t}:${nice(t)}`).join(' ')}`);
      assert.equal(started.filter((tid) => nice(tid) === 19).length, 0, 'none at the default 19');
    } finally {
      await srv.close();
    }
  });
});
