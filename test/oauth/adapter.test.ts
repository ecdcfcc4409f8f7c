import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors, type Adapter } from 'oidc-provider';
import { createSignIns } from '../../src/accounts/sign-ins.ts';
import { createOAuthAdapterFactory, endOAuthSession } from '../../src/oauth/adapter.ts';
import { createOAuthClients } from '../../src/oauth/clients.ts';
import { createOAuthGrants } from '../../src/oauth/grants.ts';
import { createRecordRefs } from '../../src/oauth/record-refs.ts';
import { keys } from '../../src/store/keys.ts';
import type { Store } from '../../src/store/port.ts';
import { createRevocations } from '../../src/tokens/revocations.ts';
import { dropPrefix, openTestStore, privatePrefix } from '../helpers/harness.ts';

const now = () => Math.floor(Date.now() / 1000);
const tagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
const refOf = createRecordRefs('p'.repeat(32));

/** The oidc-provider adapter contract, against real Redis and the embedded store alike. */
for (const kind of ['redis', 'memory'] as const) {
  describe(`OAuth adapter on the ${kind} store`, () => {
    let store: Store;
    let peer: Store;
    const prefix = privatePrefix('oauth-adapter');
    let adapter: (model: string) => Adapter;
    let peerAdapter: (model: string) => Adapter;
    let revocations: ReturnType<typeof createRevocations>;
    let clients: ReturnType<typeof createOAuthClients>;

    const build = (s: Store) => {
      const r = createRevocations(s, 3600);
      const grants = createOAuthGrants({ store: s, revocations: r });
      const c = createOAuthClients({
        store: s,
        pepper: 'p'.repeat(32),
        offeredScopes: ['openid', 'profile', 'read', 'write'],
        grants,
        revocations: r,
      });
      return {
        r,
        c,
        factory: createOAuthAdapterFactory({
          store: s,
          grants,
          clients: c,
          signIns: createSignIns({ store: s }),
          offeredScopes: { oidc: ['openid', 'profile'] },
          refOf,
        }),
      };
    };

    before(async () => {
      store = await openTestStore(kind, prefix);
      // A second instance: another connection to the same Redis data; the embedded store is one process.
      peer = kind === 'redis' ? await openTestStore('redis', prefix) : store;
      const built = build(store);
      adapter = built.factory;
      revocations = built.r;
      clients = built.c;
      peerAdapter = build(peer).factory;
    });
    after(async () => {
      if (peer !== store) await peer.close();
      await store.close();
      if (kind === 'redis') await dropPrefix(prefix);
    });

    it('stores, finds and expires each record with its model', async () => {
      const codes = adapter('AuthorizationCode');
      await codes.upsert('code-1', { iat: now(), exp: now() + 60, grantId: 'g-ttl', clientId: 'c' }, 60);
      assert.equal((await codes.find('code-1'))?.grantId, 'g-ttl');
      const ttl = await store.ttl(keys.oauthModel('AuthorizationCode', refOf('AuthorizationCode', 'code-1')));
      assert.ok(ttl > 55 && ttl <= 60, `ttl ${ttl}`);
      assert.equal(await codes.find('nope'), undefined);
      await codes.destroy('code-1');
      assert.equal(await codes.find('code-1'), undefined);
    });

    it('stores every credential under a keyed hash of it: no key name or value holds the token, the code or the session id', async () => {
      await adapter('Grant').upsert('g-hash', { accountId: 'cus_h', clientId: 'c-hash' }, 3600);
      await adapter('RefreshToken').upsert(
        'rt-SECRET-1',
        { jti: 'rt-SECRET-1', grantId: 'g-hash', clientId: 'c-hash', exp: now() + 600 },
        600,
      );
      await adapter('AuthorizationCode').upsert(
        'code-SECRET-2',
        { jti: 'code-SECRET-2', grantId: 'g-hash', clientId: 'c-hash', exp: now() + 60 },
        60,
      );
      await adapter('Session').upsert('sess-SECRET-3', { jti: 'sess-SECRET-3', uid: 'uid-h', accountId: 'cus_h', exp: now() + 600 }, 600);
      await adapter('Interaction').upsert(
        'int-SECRET-4',
        { jti: 'int-SECRET-4', session: { uid: 'uid-h', cookie: 'sess-SECRET-3', accountId: 'cus_h' }, exp: now() + 600 },
        600,
      );
      const related = [
        keys.oauthModel('RefreshToken', refOf('RefreshToken', 'rt-SECRET-1')),
        keys.oauthModel('AuthorizationCode', refOf('AuthorizationCode', 'code-SECRET-2')),
        keys.oauthModel('Session', refOf('Session', 'sess-SECRET-3')),
        keys.oauthModel('Interaction', refOf('Interaction', 'int-SECRET-4')),
        keys.oauthSessionUid('uid-h'),
      ];
      const dump = [...related, ...(await Promise.all(related.map((k) => store.get(k)))).map((v) => v ?? 'MISSING')];
      dump.push(
        JSON.stringify(await store.hashGetAll(keys.oauthGrantMembers('g-hash'))),
        ...(await store.indexRangeByScore(keys.accountSignIns('cus_h'), 0, Infinity)),
      );
      assert.ok(!dump.includes('MISSING'), 'every record is stored under its ref');
      for (const secret of ['rt-SECRET-1', 'code-SECRET-2', 'sess-SECRET-3', 'int-SECRET-4'])
        assert.ok(!dump.some((d) => d.includes(secret)), `${secret} stored in clear`);
      // Found by id, the record comes back with its id.
      assert.equal((await adapter('RefreshToken').find('rt-SECRET-1'))?.jti, 'rt-SECRET-1');
      assert.equal((await adapter('Session').findByUid('uid-h'))?.accountId, 'cus_h');
      // Ending the account's sign-ins still ends the session (signins:<account> names its ref).
      const signIns = createSignIns({ store });
      signIns.registerEnd('oauth-session', endOAuthSession({ store, revocations }));
      await signIns.endAll('cus_h');
      assert.equal(await adapter('Session').find('sess-SECRET-3'), undefined);
      await adapter('Grant').destroy('g-hash');
      assert.equal(await adapter('RefreshToken').find('rt-SECRET-1'), undefined, 'revoking the grant finds its hashed members');
      assert.equal(await adapter('AuthorizationCode').find('code-SECRET-2'), undefined);
    });

    it('finds sessions by uid, and destroy removes the uid index', async () => {
      const sessions = adapter('Session');
      await sessions.upsert('sess-1', { uid: 'uid-1', accountId: 'cus_1' }, 600);
      assert.equal((await sessions.findByUid('uid-1'))?.accountId, 'cus_1');
      await sessions.destroy('sess-1');
      assert.equal(await sessions.findByUid('uid-1'), undefined);
    });

    it('consumes once: the second consumer loses, the grant is revoked, its access tokens refused', async () => {
      const rts = adapter('RefreshToken');
      await adapter('Grant').upsert('g-consume', { accountId: 'cus_1', clientId: 'c1' }, 3600);
      await rts.upsert('rt-1', { grantId: 'g-consume', clientId: 'c1', exp: now() + 600 }, 600);
      await rts.upsert('rt-2', { grantId: 'g-consume', clientId: 'c1', exp: now() + 600 }, 600);
      await rts.consume('rt-1');
      assert.ok((await rts.find('rt-1'))?.consumed);
      await assert.rejects(rts.consume('rt-1'), (err) => err instanceof errors.InvalidGrant);
      assert.equal(await rts.find('rt-2'), undefined, 'the grant’s other tokens are gone');
      assert.equal(await adapter('Grant').find('g-consume'), undefined);
      assert.equal(await revocations.isRevoked('g-consume', 'any-jti'), true);
    });

    it('lets exactly one of concurrent consumers (two instances) win', async () => {
      await adapter('AuthorizationCode').upsert('code-race', { grantId: 'g-race', clientId: 'c1', exp: now() + 60 }, 60);
      const attempts = Array.from({ length: 10 }, (_, i) => (i % 2 ? peerAdapter : adapter)('AuthorizationCode').consume('code-race'));
      const settled = await Promise.allSettled(attempts);
      assert.equal(settled.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of settled) if (r.status === 'rejected') assert.ok(r.reason instanceof errors.InvalidGrant);
    });

    it('revokeByGrantId removes that model’s records of the grant only; for access tokens it records a revocation', async () => {
      await adapter('AccessToken').upsert('at-1', { grantId: 'g-rev', clientId: 'c1' }, 600);
      await adapter('RefreshToken').upsert('rt-rev', { grantId: 'g-rev', clientId: 'c1' }, 600);
      await adapter('RefreshToken').upsert('rt-other', { grantId: 'g-other', clientId: 'c1' }, 600);
      await adapter('RefreshToken').revokeByGrantId('g-rev');
      assert.equal(await adapter('RefreshToken').find('rt-rev'), undefined);
      assert.ok(await adapter('AccessToken').find('at-1'));
      assert.ok(await adapter('RefreshToken').find('rt-other'));
      assert.equal(await revocations.isRevoked('g-rev', 'x'), false);
      await adapter('AccessToken').revokeByGrantId('g-rev');
      assert.equal(await adapter('AccessToken').find('at-1'), undefined);
      assert.equal(await revocations.isRevoked('g-rev', 'x'), true);
    });

    it('destroying a grant removes its records and its index entries, and refuses its JWTs', async () => {
      await adapter('Grant').upsert('g-end', { accountId: 'cus_2', clientId: 'c-end' }, 3600);
      await adapter('RefreshToken').upsert('rt-end', { grantId: 'g-end', clientId: 'c-end' }, 600);
      const grantKey = keys.oauthModel('Grant', 'g-end');
      assert.equal(tagOf(grantKey), tagOf(keys.oauthGrantMembers('g-end')), 'a grant and its index share a hash tag');
      assert.ok(Object.keys(await store.hashGetAll(keys.oauthClientGrants('c-end'))).includes('g-end'));
      await adapter('Grant').destroy('g-end');
      assert.equal(await adapter('RefreshToken').find('rt-end'), undefined);
      assert.deepEqual(await store.hashGetAll(keys.oauthGrantMembers('g-end')), {});
      assert.deepEqual(await store.hashGetAll(keys.oauthClientGrants('c-end')), {});
      assert.equal(await revocations.isRevoked('g-end', 'jti'), true);
    });

    it('reads clients from the registry, without the secret', async () => {
      const { secret } = await clients.create({
        clientId: 'reg-client',
        redirectUris: ['https://a.example/cb'],
        scopes: ['openid', 'read'],
      });
      const meta = await adapter('Client').find('reg-client');
      assert.equal(meta?.client_id, 'reg-client');
      assert.notEqual(meta?.client_secret, secret);
      assert.equal(clients.verifySecret(meta?.client_secret as string, secret), true);
      assert.equal(clients.verifySecret(meta?.client_secret as string, 'wrong'), false);
      assert.deepEqual(meta?.api_scopes, ['read']);
      assert.equal(meta?.scope, 'openid');
      assert.equal(await adapter('Client').find('missing'), undefined);
    });
  });
}
