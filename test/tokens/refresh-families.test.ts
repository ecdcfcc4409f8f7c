import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createAccounts, type Accounts } from '../../src/accounts/accounts.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { createSignIns } from '../../src/accounts/sign-ins.ts';
import { InvalidTokenError } from '../../src/errors.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { createJwtService } from '../../src/tokens/jwt.ts';
import type { Keystore } from '../../src/tokens/keystore.ts';
import { createRefreshFamilies } from '../../src/tokens/refresh-families.ts';
import { createRevocations } from '../../src/tokens/revocations.ts';
import { AUDIENCE, ISSUER, ROLE_SCOPES, testKeystore } from '../helpers/units.ts';

const passwords = createPasswordHasher();

describe('refresh-token families', () => {
  let keystore: Keystore;
  before(async () => {
    keystore = await testKeystore();
  });

  /** A fresh world per test: store, accounts, families. */
  function world(opts: { reuseGraceSeconds?: number; refreshTtl?: number } = {}) {
    const store = createMemoryStore();
    const revocations = createRevocations(store, 3600);
    const jwt = createJwtService({ keystore, revocations, issuer: ISSUER, audience: AUDIENCE, registrationTtlSeconds: 3600 });
    const accounts = createAccounts({ store, passwords });
    const signIns = createSignIns({ store });
    const families = createRefreshFamilies({
      store,
      jwt,
      revocations,
      signIns,
      accounts,
      roleScopes: ROLE_SCOPES,
      refreshTtl: opts.refreshTtl ?? 3600,
      reuseGraceSeconds: opts.reuseGraceSeconds ?? 0,
    });
    return { store, jwt, accounts, signIns, families };
  }

  async function signIn(w: ReturnType<typeof world>, role: 'admin' | 'member' = 'admin', accounts: Accounts = w.accounts) {
    const user = await accounts.create({ actorType: 'user', email: `${role}-${Math.random()}@example.com`, role });
    const pair = await w.families.start({ sub: user.id, actorType: 'user', scope: ROLE_SCOPES[role], accessTtl: 300, extra: { role } });
    return { user, pair };
  }

  it('starts a family with an access token bound to it and an opaque refresh token', async () => {
    const w = world();
    const { user, pair } = await signIn(w);
    assert.match(pair.refresh_token, /^rt_[0-9A-Z]{26}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(pair.token_type, 'Bearer');
    assert.equal(pair.expires_in, 300);
    const claims = await w.jwt.verify(pair.token);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.sid, pair.refresh_token.slice(3, 29), 'the access token names its family as sid');
    assert.equal(claims.scope, 'read write admin');
  });

  it('rotates: each refresh token gives one new pair in the same family', async () => {
    const w = world();
    const { pair } = await signIn(w);
    const next = await w.families.rotate(pair.refresh_token);
    assert.notEqual(next.refresh_token, pair.refresh_token);
    assert.notEqual(next.token, pair.token);
    assert.equal((await w.jwt.verify(next.token)).sid, (await w.jwt.verify(pair.token)).sid);
    const third = await w.families.rotate(next.refresh_token);
    assert.equal((await w.jwt.verify(third.token)).scope, 'read write admin');
  });

  it('treats a used refresh token presented again as theft: the whole family and its access tokens end', async () => {
    const w = world();
    const { pair } = await signIn(w);
    const next = await w.families.rotate(pair.refresh_token);
    await assert.rejects(
      w.families.rotate(pair.refresh_token),
      (err: Error) => err instanceof InvalidTokenError && /already been used/.test(err.message),
    );
    await assert.rejects(w.families.rotate(next.refresh_token), InvalidTokenError, 'the legitimate successor is dead too');
    await assert.rejects(w.jwt.verify(next.token), InvalidTokenError);
    await assert.rejects(w.jwt.verify(pair.token), InvalidTokenError);
  });

  it('within the reuse grace window, answers a repeated refresh with the same successor pair and ends nothing', async () => {
    const w = world({ reuseGraceSeconds: 30 });
    const { pair } = await signIn(w);
    const next = await w.families.rotate(pair.refresh_token);
    assert.deepEqual(await w.families.rotate(pair.refresh_token), next);
    await w.jwt.verify(next.token);
    assert.ok(await w.families.rotate(next.refresh_token));
  });

  it('past the reuse grace window, a repeated refresh ends the family', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const w = world({ reuseGraceSeconds: 5 });
    const { pair } = await signIn(w);
    const next = await w.families.rotate(pair.refresh_token);
    t.mock.timers.tick(6_000);
    await assert.rejects(w.families.rotate(pair.refresh_token), /already been used/);
    await assert.rejects(w.families.rotate(next.refresh_token), InvalidTokenError);
  });

  it('of two concurrent refreshes with one token, exactly one mints a successor', async () => {
    const w = world();
    const { pair } = await signIn(w);
    const results = await Promise.allSettled([w.families.rotate(pair.refresh_token), w.families.rotate(pair.refresh_token)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('narrows what a refresh mints to the account current role, and never widens it after a promotion', async () => {
    const w = world();
    const admin = await signIn(w, 'admin');
    await w.accounts.update(admin.user.id, { role: 'member' });
    const demoted = await w.jwt.verify((await w.families.rotate(admin.pair.refresh_token)).token);
    assert.equal(demoted.role, 'member');
    assert.equal(demoted.scope, 'read');

    const member = await signIn(w, 'member');
    await w.accounts.update(member.user.id, { role: 'admin' });
    const promoted = await w.jwt.verify((await w.families.rotate(member.pair.refresh_token)).token);
    assert.equal(promoted.role, 'member');
    assert.equal(promoted.scope, 'read');
  });

  it('refuses malformed, unknown and expired refresh tokens as invalid_token', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const w = world({ refreshTtl: 60 });
    const { pair } = await signIn(w);
    const [family, secret] = pair.refresh_token.slice(3).split('.') as [string, string];
    for (const bad of [
      '',
      'rt_',
      'garbage',
      `rt_${family}`,
      `rt_${family}.${'A'.repeat(43)}`,
      `rt_01ARZ3NDEKTSV4RRFFQ69G5FAV.${secret}`,
      `${pair.refresh_token}x`,
    ]) {
      await assert.rejects(w.families.rotate(bad), InvalidTokenError, bad);
    }
    t.mock.timers.tick(61_000);
    await assert.rejects(w.families.rotate(pair.refresh_token), InvalidTokenError, 'the family lives as long as REFRESH_TOKEN_TTL');
  });

  it('revokeFamily ends the family: no more rotation, its access tokens refused', async () => {
    const w = world();
    const { pair } = await signIn(w);
    const sid = (await w.jwt.verify(pair.token)).sid;
    await w.families.revokeFamily(sid);
    await assert.rejects(w.families.rotate(pair.refresh_token), InvalidTokenError);
    await assert.rejects(w.jwt.verify(pair.token), InvalidTokenError);
  });
});
