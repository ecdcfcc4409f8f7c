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
