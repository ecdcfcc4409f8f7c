import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { added, assertOnlyRevocationLeft, bytesOf, census } from '../helpers/key-census.ts';

const PASSWORD = 'storage ends with the sign-in';
const ACCESS_TTL_SECONDS = 600;

/**
 * What a /v1 sign-in keeps in Redis, counted key by key on the test's private prefix: while it lives,
 * its family, its refresh tokens and their index, its entry among the account's sign-ins and its
 * record; once it ends (logout, sign-out everywhere, reuse of a refresh token) only the revocation
 * of its access tokens, which expires when the latest of them would. The audit trail and the
 * account's request quota (a GCRA cell that empties by itself within its period) are not the
 * sign-in's storage and are left out of the count.
 */
describe('the storage of a sign-in ends with it', () => {
  let srv: TestServer;
  let redis: ReturnType<typeof createClient>;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);

  const snapshot = () => census(redis, srv.prefix);

  async function login(username: string) {
    const res = await api('/v1/auth/login', { method: 'POST', json: { username, password: PASSWORD } });
    assert.equal(res.status, 200, res.text);
    return res.json as { token: string; refresh_token: string };
  }
  async function refresh(refreshToken: string) {
    const res = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: refreshToken } });
    assert.equal(res.status, 200, res.text);
    return res.json as { token: string; refresh_token: string };
  }
  const verify = async (token: string) => (await api('/v1/auth/verify', { headers: { authorization: `Bearer ${token}` } })).status;
  const sidOf = (token: string) => decodeJwt(token)['sid'] as string;

  before(async () => {
    // The longest token of any kind lives a day (the old marker's life): ours lives 10 minutes.
    srv = await startTestServer({ env: { ACCESS_TOKEN_TTL: String(ACCESS_TTL_SECONDS), ADMIN_TOKEN_TTL: '24h' } });
    for (const email of ['logout@example.com', 'everywhere@example.com', 'reuse@example.com'])
      await srv.services.accounts.create({ actorType: 'user', email, password: PASSWORD, role: 'member' });
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await srv?.close();
  });

  it('logout: only the revocation remains, until the latest access token the sign-in issued expires', async () => {
    const baseline = await snapshot();
    const first = await login('logout@example.com');
    const sid = sidOf(first.token);
    // Rotated twice: three refresh tokens and three access tokens; the latest expires last.
    const second = await refresh(first.refresh_token);
    const latest = await refresh(second.refresh_token);
    const live = added(baseline, await snapshot());
    assert.ok(live.has(`rtf:{${sid}}`) && live.has(`rtf:{${sid}}:tokens`), [...live.keys()].join(', '));
    assert.equal([...live.keys()].filter((k) => k.startsWith(`rtf:{${sid}}:t:`)).length, 3, 'one record per refresh token');
    assert.ok([...live.keys()].some((k) => k.startsWith('signins:')) && [...live.keys()].some((k) => k.startsWith('signin:')));
    assert.ok(![...live.keys()].some((k) => k.startsWith('lt:')), 'a correct login keeps no throttle cell');

    // Logged out with the oldest access token: the marker must cover the latest one.
    const out = await api('/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${first.token}` }, json: {} });
    assert.equal(out.status, 204);
    const left = added(baseline, await snapshot());
    assertOnlyRevocationLeft(left, sid, decodeJwt(latest.token).exp!);
    assert.ok(bytesOf(left) < bytesOf(live) / 4, `${bytesOf(left)} bytes left of ${bytesOf(live)}`);
    // Every token the sign-in issued is refused, the latest included, until it expires by itself.
    for (const pair of [first, second, latest]) assert.equal(await verify(pair.token), 401);
    assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: latest.refresh_token } })).status, 401);
  });

  it('sign-out everywhere: the revocation of each sign-in remains, nothing else', async () => {
    const baseline = await snapshot();
    const other = await login('everywhere@example.com');
    const otherLatest = await refresh(other.refresh_token);
    const here = await login('everywhere@example.com');
    assert.ok(added(baseline, await snapshot()).size > 4);
    const out = await api('/v1/auth/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${here.token}` },
      json: { everywhere: true },
    });
    assert.equal(out.status, 204);
    const left = added(baseline, await snapshot());
    assert.deepEqual([...left.keys()].sort(), [`rev:{${sidOf(here.token)}}`, `rev:{${sidOf(other.token)}}`].sort());
    assertOnlyRevocationLeft(
      new Map([...left].filter(([k]) => k.includes(sidOf(other.token)))),
      sidOf(other.token),
      decodeJwt(otherLatest.token).exp!,
    );
    assertOnlyRevocationLeft(
      new Map([...left].filter(([k]) => k.includes(sidOf(here.token)))),
      sidOf(here.token),
      decodeJwt(here.token).exp!,
    );
    assert.equal(await verify(otherLatest.token), 401);
    assert.equal(await verify(here.token), 401);
  });

  it('reuse of a refresh token: the family ends, only its revocation remains', async () => {
    const baseline = await snapshot();
    const first = await login('reuse@example.com');
    const latest = await refresh(first.refresh_token);
    const reused = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: first.refresh_token } });
    assert.equal(reused.status, 401);
    assertOnlyRevocationLeft(added(baseline, await snapshot()), sidOf(first.token), decodeJwt(latest.token).exp!);
    assert.equal(await verify(latest.token), 401);
  });

  it('failed logins keep their throttle cells; the correct login after them clears the account cell', async () => {
    const baseline = await snapshot();
    const wrong = await api('/v1/auth/login', { method: 'POST', json: { username: 'reuse@example.com', password: 'not the password' } });
    assert.equal(wrong.status, 401);
    const cells = [...added(baseline, await snapshot()).keys()].filter((k) => k.startsWith('lt:')).sort();
    assert.equal(cells.length, 2, 'the account and the address each remember the failure');
    await login('reuse@example.com');
    const after = [...added(baseline, await snapshot()).keys()].filter((k) => k.startsWith('lt:'));
    assert.deepEqual(
      after,
      cells.filter((k) => k.startsWith('lt:{ip:')),
      "the address keeps its failure; the account's cell is gone",
    );
  });
});
