import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { added, assertOnlyRevocationLeft, bytesOf, census, CLOCK_SLACK_SECONDS } from '../helpers/key-census.ts';

const PASSWORD = 'medusa storage ends with the sign-in';
/** Back-office tokens live ten minutes here; the longest token of any kind (customers') a day, the old marker's life. */
const ADMIN_TTL_SECONDS = 600;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const cookieOf = (res: { headers: Headers }) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
const sidOf = (token: string) => decodeJwt(token)['sid'] as string;
const expOf = (token: string) => decodeJwt(token).exp!;

/**
 * What a Medusa sign-in (a login lineage of /auth/user/emailpass and /admin/auth/token tokens) and a
 * cookie session started from it keep in Redis, counted key by key on the test's private prefix:
 * while they live, the session, each one's entry among the account's sign-ins and its record; once
 * ended (DELETE /auth/session, /v1/auth/logout, an admin's sign-out), only the lineage's revocation,
 * which expires when the latest token the lineage issued would.
 */
describe('the storage of a Medusa sign-in and its cookie session ends with them', () => {
  let srv: TestServer;
  let redis: ReturnType<typeof createClient>;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const snapshot = () => census(redis, srv.prefix);
  const verify = async (token: string) => (await api('/v1/auth/verify', { headers: bearer(token) })).status;

  async function emailpass(email: string): Promise<string> {
    const res = await api('/auth/user/emailpass', { method: 'POST', json: { email, password: PASSWORD } });
    assert.equal(res.status, 200, res.text);
    return res.json.token as string;
  }
  async function refreshed(token: string): Promise<string> {
    const res = await api('/auth/token/refresh', { method: 'POST', headers: bearer(token) });
    assert.equal(res.status, 200, res.text);
    return res.json.token as string;
  }
  const signInKeys = (m: Map<string, unknown>) => [...m.keys()].filter((k) => k.startsWith('signins:') || k.startsWith('signin:'));

  before(async () => {
    srv = await startTestServer({ env: { ADMIN_TOKEN_TTL: String(ADMIN_TTL_SECONDS), CUSTOMER_TOKEN_TTL: '24h' } });
    for (const email of ['bearer@example.com', 'cookie@example.com', 'v1@example.com', 'ended@example.com'])
      await srv.services.accounts.create({ actorType: 'user', email, password: PASSWORD, role: 'member' });
    await srv.services.accounts.create({ actorType: 'user', email: 'boss@example.com', password: PASSWORD, role: 'admin' });
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await srv?.close();
  });

  it('DELETE /auth/session with a Bearer token: only the revocation remains, until the latest token of the lineage expires', async () => {
    const baseline = await snapshot();
    const first = await emailpass('bearer@example.com');
    const second = await refreshed(first);
    const latest = await refreshed(second);
    const sid = sidOf(first);
    const live = added(baseline, await snapshot());
    assert.equal(signInKeys(live).length, 2, `the index and the record: ${[...live.keys()].join(', ')}`);
    assert.ok(![...live.keys()].some((k) => k.startsWith('rev:')));

    // Logged out with the oldest token: the marker must cover the latest one.
    const out = await api('/auth/session', { method: 'DELETE', headers: bearer(first) });
    assert.equal(out.status, 200, out.text);
    const left = added(baseline, await snapshot());
    assertOnlyRevocationLeft(left, sid, expOf(latest));
    assert.ok(left.get(`rev:{${sid}}`)!.pttl < 24 * 3600 * 1000 - 60_000, "the marker keeps the lineage's own lifetime, not a day");
    for (const token of [first, second, latest]) assert.equal(await verify(token), 401);
    assert.equal((await api('/auth/token/refresh', { method: 'POST', headers: bearer(latest) })).status, 401);
  });

  it('a cookie session: DELETE /auth/session with the cookie leaves only the revocation of its sign-in', async () => {
    const baseline = await snapshot();
    const token = await emailpass('cookie@example.com');
    const latest = await refreshed(token);
    const started = await api('/auth/session', { method: 'POST', headers: bearer(latest) });
    assert.equal(started.status, 200, started.text);
    const cookie = cookieOf(started);
    assert.equal((await api('/v1/auth/verify', { headers: { cookie } })).status, 200);
    const live = added(baseline, await snapshot());
    assert.ok(
      [...live.keys()].some((k) => k.startsWith('session:')),
      `the session is stored: ${[...live.keys()].join(', ')}`,
    );
    // One index for the account, a record for the lineage and one for the session.
    assert.equal(signInKeys(live).length, 3, [...live.keys()].join(', '));
    // The session's entry is short enough for Redis's compact encoding of the account's index.
    const index = [...live.keys()].find((k) => k.startsWith('signins:'))!;
    assert.ok(['listpack', 'ziplist'].includes((await redis.objectEncoding(srv.prefix + index))!), 'the index stays compact');

    const out = await api('/auth/session', {
      method: 'DELETE',
      headers: { cookie, origin: new URL(srv.url).origin, 'content-type': 'application/json' },
    });
    assert.equal(out.status, 200, out.text);
    const left = added(baseline, await snapshot());
    assertOnlyRevocationLeft(left, sidOf(token), expOf(latest));
    assert.ok(bytesOf(left) < bytesOf(live) / 4, `${bytesOf(left)} bytes left of ${bytesOf(live)}`);
    assert.equal((await api('/v1/auth/verify', { headers: { cookie } })).status, 401);
    assert.equal(await verify(latest), 401);
  });

  it('/v1/auth/logout of a Medusa token (from /admin/auth/token) ends its lineage and the cookie session started from it', async () => {
    const baseline = await snapshot();
    const login = await api('/admin/auth/token', { method: 'POST', json: { email: 'v1@example.com', password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    const token = login.json.token as string;
    const latest = await refreshed(token);
    const cookie = cookieOf(await api('/auth/session', { method: 'POST', headers: bearer(latest) }));
    assert.equal((await api('/v1/auth/verify', { headers: { cookie } })).status, 200);
    assert.equal(signInKeys(added(baseline, await snapshot())).length, 3);
    const out = await api('/v1/auth/logout', { method: 'POST', headers: bearer(token), json: {} });
    assert.equal(out.status, 204, out.text);
    assertOnlyRevocationLeft(added(baseline, await snapshot()), sidOf(token), expOf(latest));
    assert.equal(await verify(latest), 401);
    assert.equal((await api('/v1/auth/verify', { headers: { cookie } })).status, 401);
  });

  it("an admin's sign-out of a user ends the lineage and its cookie session: only the revocation remains", async () => {
    const admin = await emailpass('boss@example.com');
    const baseline = await snapshot();
    const token = await emailpass('ended@example.com');
    const latest = await refreshed(token);
    const cookie = cookieOf(await api('/auth/session', { method: 'POST', headers: bearer(latest) }));
    assert.equal(signInKeys(added(baseline, await snapshot())).length, 3);
    const id = decodeJwt(token).sub!;
    const out = await api(`/admin/users/${id}/sign-out`, { method: 'POST', headers: bearer(admin), json: {} });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.json.sign_ins_ended, 2);
    assertOnlyRevocationLeft(added(baseline, await snapshot()), sidOf(token), expOf(latest));
    assert.equal(await verify(latest), 401);
    assert.equal((await api('/v1/auth/verify', { headers: { cookie } })).status, 401);
  });
});

describe('a revocation lasts as long as the latest token of its sign-in, and no longer', () => {
  let srv: TestServer;
  let redis: ReturnType<typeof createClient>;

  before(async () => {
    // Back-office tokens live a few seconds, so the test can watch the latest one expire.
    srv = await startTestServer({ env: { ADMIN_TOKEN_TTL: '4', CUSTOMER_TOKEN_TTL: '24h' } });
    await srv.services.accounts.create({ actorType: 'user', email: 'brief@example.com', password: PASSWORD, role: 'member' });
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await srv?.close();
  });

  it('a token issued just before logout is refused until its own expiry; then the marker is gone', async () => {
    const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
    const login = await api('/auth/user/emailpass', { method: 'POST', json: { email: 'brief@example.com', password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    const latest = (await api('/auth/token/refresh', { method: 'POST', headers: bearer(login.json.token) })).json.token as string;
    assert.equal((await api('/v1/auth/verify', { headers: bearer(latest) })).status, 200);
    const out = await api('/auth/session', { method: 'DELETE', headers: bearer(login.json.token) });
    assert.equal(out.status, 200, out.text);

    const marker = `${srv.prefix}rev:{${sidOf(latest)}}`;
    // Verification accepts a token up to the clock slack past its `exp`: until then, the marker must be there.
    const acceptedUntilMs = (expOf(latest) + CLOCK_SLACK_SECONDS) * 1000;
    let checks = 0;
    while (Date.now() < acceptedUntilMs - 250) {
      assert.equal((await api('/v1/auth/verify', { headers: bearer(latest) })).status, 401, 'the logged-out token is refused');
      if (Date.now() < acceptedUntilMs - 250) assert.equal(await redis.exists(marker), 1, 'the marker outlives the token it refuses');
      checks++;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(checks > 3, 'the token was watched during its life');
    // Then it goes: no more than a second of rounding later.
    while ((await redis.exists(marker)) === 1) {
      assert.ok(Date.now() < acceptedUntilMs + 3000, 'the marker expires with the token');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
