import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRefusalTally } from '../../src/rate-limit/refusal-tally.ts';
import { keys } from '../../src/store/keys.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError, type Store } from '../../src/store/port.ts';

const HOUR = 3_600_000;

describe('the quota refusal tally', () => {
  it('sums the instances of one store for the current hour and the 24 before it, dropping older hours', async () => {
    const store = createMemoryStore();
    let now = 1000 * HOUR;
    const [a, b] = [createRefusalTally({ store, now: () => now }), createRefusalTally({ store, now: () => now })];
    for (let i = 0; i < 4; i++) a.note();
    b.note();
    assert.equal(await a.lastDay(), 4, 'its own count, written as it is read');
    await b.flush();
    assert.equal(await a.lastDay(), 5);

    now += 24 * HOUR;
    a.note();
    assert.equal(await a.lastDay(), 6, 'an hour 24 hours back still counts');
    now += HOUR;
    assert.equal(await b.lastDay(), 1, 'one 25 hours back does not');
    assert.deepEqual(Object.keys(await store.hashGetAll(keys.quotaRefusalTally())), [String(1024)], 'and its field is gone');
    await store.close();
  });

  it('writes within flushMs of a refusal, once for many', async () => {
    const store = createMemoryStore();
    const tally = createRefusalTally({ store, flushMs: 20 });
    for (let i = 0; i < 50; i++) tally.note();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(Object.values(await store.hashGetAll(keys.quotaRefusalTally())), ['50']);
    await store.close();
  });

  it('keeps a count the store could not take, and writes it with the next flush', async () => {
    const store = createMemoryStore();
    let down = true;
    const flaky: Store = {
      ...store,
      hashIncrement: (...args) => (down ? Promise.reject(new StoreUnavailableError(new Error('down'))) : store.hashIncrement(...args)),
    };
    const tally = createRefusalTally({ store: flaky });
    tally.note();
    tally.note();
    await tally.flush();
    down = false;
    tally.note();
    assert.equal(await tally.lastDay(), 3);
    await store.close();
  });

  it('counts a written refusal once when only the clean-up after it fails', async () => {
    const store = createMemoryStore();
    let reads = 0;
    const flaky: Store = {
      ...store,
      hashGetAll: (...args) => (reads++ === 0 ? Promise.reject(new StoreUnavailableError(new Error('down'))) : store.hashGetAll(...args)),
    };
    const tally = createRefusalTally({ store: flaky });
    tally.note();
    await tally.flush();
    assert.equal(await tally.lastDay(), 1);
    await store.close();
  });
});
