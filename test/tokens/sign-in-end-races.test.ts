import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createSignIns } from '../../src/accounts/sign-ins.ts';
import { keys } from '../../src/store/keys.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { startTestServer } from '../helpers/harness.ts';

/**
 * A sign-in's revocation must outlive every token it issued, also when a token is minted while the
 * sign-in ends: the end reads the latest expiry, the issuer moves it later. Both orders are covered.
 */
describe('ending a sign-in while it issues a token', () => {
  it('endRef ends with the expiry its entry holds, deletes the entry and record, and false for a sign-in not listed', async () => {
    const store = createMemoryStore();
    const signIns = createSignIns({ store });
    const ended: [string, number][] = [];
    signIns.registerEnd('lineage', async (ref, s) => void ended.push([ref, s.expiresAtMs]));
    const exp = Date.now() + 60_000;
    await signIns.add('usr_1', 'lineage', 'sid-a', exp);
    assert.equal(await signIns.endRef('usr_1', 'lineage', 'sid-b'), false);
    assert.equal(await signIns.endRef('usr_1', 'lineage', 'sid-a'), true);
    assert.deepEqual(ended, [['sid-a', exp]]);
    assert.equal(await store.indexScore(keys.accountSignIns('usr_1'), 'lineage:sid-a'), null);
    assert.deepEqual(await signIns.list('usr_1'), []);
    await store.close();
  });

  it('a token issued while the end runs (its expiry recorded after the end read it): the end runs again with the later expiry', async () => {
    const store = createMemoryStore();
    const signIns = createSignIns({ store });
    const ended: number[] = [];
    const first = Date.now() + 60_000;
    const later = first + 600_000;
    signIns.registerEnd('lineage', async (_ref, s) => {
      ended.push(s.expiresAtMs);
      // The issuer records its token's expiry between the end's read and its revocation.
      if (ended.length === 1) await store.indexAdd(keys.accountSignIns('usr_2'), 'lineage:sid-a', later);
    });
    await signIns.add('usr_2', 'lineage', 'sid-a', first);
    assert.equal(await signIns.endAll('usr_2'), 1);
    assert.deepEqual(ended, [first, later]);
    await store.close();
  });

  it('a Medusa token refreshed after its sign-in ended is not handed out, and the revocation is extended to cover it', async () => {
    const srv = await startTestServer({ store: 'memory', env: { ADMIN_TOKEN_TTL: '600' } });
    try {
      const s = srv.services;
      const account = await s.accounts.create({
        actorType: 'user',
        email: 'race@example.com',
        password: 'a race to the end',
        role: 'member',
      });
      const issued = await s.actorTokens.issue(account);
      const sid = decodeJwt(issued.token)['sid'] as string;
      // The end read an expiry a second away (before the refresh below recorded its own) and revoked until then.
      await s.revocations.revokeLineage(sid, Date.now() + 1000);
      const signIn = { sid, endsAt: new Date(Date.now() + 3600_000), scopes: ['read'] };
      await assert.rejects(s.actorTokens.issue(account, signIn), /ended/);
      const life = await s.store.ttl(keys.revocations(sid));
      assert.ok(life >= 600, `the revocation (${life} s) covers the token minted meanwhile (600 s)`);
      assert.equal(await s.store.indexScore(keys.accountSignIns(account.id), `lineage:${sid}`), null, 'no entry is left for it');
    } finally {
      await srv.close();
    }
  });
});
