import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSignIns, type SignInKind } from '../../src/accounts/sign-ins.ts';
import { keys } from '../../src/store/keys.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { startTestServer } from '../helpers/harness.ts';

describe('sign-ins: each kind ends the way its own module registered', () => {
  it('ends every live sign-in through the end registered for its kind', async () => {
    const store = createMemoryStore();
    const signIns = createSignIns({ store });
    const ended: string[] = [];
    signIns.registerEnd('lineage', async (ref) => void ended.push(`lineage:${ref}`));
    signIns.registerEnd('session', async (ref) => void ended.push(`session:${ref}`));
    const later = Date.now() + 60_000;
    await signIns.add('cus_1', 'lineage', 'sid-a', later);
    await signIns.add('cus_1', 'session', 'hash-b', later);
    assert.equal(await signIns.endAll('cus_1'), 2);
    assert.deepEqual(ended.sort(), ['lineage:sid-a', 'session:hash-b']);
    assert.deepEqual(await store.indexRangeByScore(keys.accountSignIns('cus_1'), 0, Infinity), []);
    await store.close();
  });

  it('refuses to end a kind nobody registered, before ending any other (no half-done sign-out)', async () => {
    const store = createMemoryStore();
    const signIns = createSignIns({ store });
    const ended: string[] = [];
    signIns.registerEnd('lineage', async (ref) => void ended.push(ref));
    const later = Date.now() + 60_000;
    await signIns.add('cus_2', 'lineage', 'sid-a', later);
    await signIns.add('cus_2', 'family', 'fam-b', later);
    await assert.rejects(signIns.endAll('cus_2'), /family/);
    assert.deepEqual(ended, []);
    assert.equal((await store.indexRangeByScore(keys.accountSignIns('cus_2'), 0, Infinity)).length, 2, 'nothing left the index');
    assert.throws(() => signIns.registerEnd('lineage', async () => {}), /already registered/);
    await store.close();
  });

  it('keeps when and where each sign-in started; "last used" moves at most once a minute; ending it drops its record', async () => {
    const store = createMemoryStore();
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const signIns = createSignIns({ store, now: () => clock });
    signIns.registerEnd('session', async () => {});
    const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    await signIns.add('usr_1', 'session', 'hash-a', clock + 3_600_000, { ip: '203.0.113.9', userAgent: ua });
    const [started] = await signIns.list('usr_1');
    assert.equal(started!.kind, 'session');
    assert.equal(started!.ip, '203.0.113.9');
    assert.equal(started!.user_agent!.browser, 'Firefox 128.0');
    assert.equal(started!.user_agent!.os, 'Linux');
    assert.equal(started!.created_at, '2026-01-01T00:00:00.000Z');
    assert.equal(started!.last_used_at, started!.created_at);
    assert.doesNotMatch(started!.id, /hash-a/);

    clock += 30_000;
    await signIns.touch('usr_1', 'session', 'hash-a');
    assert.equal((await signIns.list('usr_1'))[0]!.last_used_at, '2026-01-01T00:00:00.000Z', 'not within the minute');
    clock += 31_000;
    await signIns.touch('usr_1', 'session', 'hash-a');
    assert.equal((await signIns.list('usr_1'))[0]!.last_used_at, '2026-01-01T00:01:01.000Z');
    // A later start of the same sign-in (a refresh) keeps where it started.
    clock += 61_000;
    await signIns.add('usr_1', 'session', 'hash-a', clock + 3_600_000, { ip: '198.51.100.1' });
    const extended = (await signIns.list('usr_1'))[0]!;
    assert.equal(extended.ip, '203.0.113.9');
    assert.equal(extended.expires_at, new Date(clock + 3_600_000).toISOString());

    assert.equal(await signIns.endOne('usr_1', 'si_unknown'), false);
    assert.equal(await signIns.endOne('usr_1', started!.id), true);
    assert.deepEqual(await signIns.list('usr_1'), []);
    assert.equal(await store.get(keys.signInRecord('usr_1', started!.id)), null);
    await store.close();
  });

  it('services.ts registers an end for every kind of sign-in', async () => {
    const srv = await startTestServer({ store: 'memory' });
    try {
      const kinds: SignInKind[] = ['lineage', 'family', 'session', 'oauth-session'];
      for (const kind of kinds) await srv.services.signIns.add('cus_3', kind, `ref-${kind}`, Date.now() + 60_000);
      assert.equal(await srv.services.signIns.endAll('cus_3'), kinds.length);
    } finally {
      await srv.close();
    }
  });
});
