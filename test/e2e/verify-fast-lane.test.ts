import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropPrefix, http, privatePrefix, startTestServer, type TestServer } from '../helpers/harness.ts';

// A token's first verification takes the general pipeline; its repeats take the fast lane
// (src/routes/v1/verify-fast-lane.ts). Callers must not be able to tell them apart.
const VOLATILE = new Set(['date', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset']);
const stableHeaders = (h: Headers) =>
  Object.fromEntries([...(h as unknown as Iterable<[string, string]>)].filter(([name]) => !VOLATILE.has(name)).sort());

for (const storeKind of ['redis', 'memory'] as const) {
  describe(`/v1/auth/verify repeated (fast lane), ${storeKind} store`, () => {
    let a: TestServer;
    let b: TestServer;
    const prefix = privatePrefix('fastlane');
    // One issuer for both instances, as behind a load balancer.
    const env = { RATE_LIMIT_JWT: '20/h', PUBLIC_URL: 'http://portcullis.test' };
    before(async () => {
      a = await startTestServer({ store: storeKind, prefix, env });
      // Redis: a second instance on the same data, where the logout happens. Memory: the same one.
      b = storeKind === 'redis' ? await startTestServer({ store: storeKind, prefix, env }) : a;
      await a.services.accounts.create({ actorType: 'user', email: 'fast@example.com', password: 'fast lane pw', role: 'admin' });
    });
    after(async () => {
      if (b !== a) await b.close();
      await a.close();
      if (storeKind === 'redis') await dropPrefix(prefix); // shared by both instances: the harness leaves it to us
    });

    const login = async () =>
      (await http(`${a.origin}/v1/auth/login`, { method: 'POST', json: { username: 'fast@example.com', password: 'fast lane pw' } })).json;
    const verify = (srv: TestServer, token: string, init: RequestInit = {}) =>
      http(`${srv.origin}/v1/auth/verify`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

    it('answers a repeat exactly like the first verification, spends one request each, and sees a revocation on another instance at once', async () => {
      const tokenA = (await login()).token;
      const first = await verify(a, tokenA, { headers: { 'x-request-id': 'first-call' } });
      const repeat = await verify(a, tokenA, { headers: { 'x-request-id': 'repeat-call' } });
      assert.equal(first.status, 200);
      assert.equal(repeat.status, 200);
      assert.deepEqual(repeat.json, first.json);
      assert.deepEqual(stableHeaders(repeat.headers), stableHeaders(first.headers));
      assert.equal(first.headers.get('x-request-id'), 'first-call');
      assert.equal(repeat.headers.get('x-request-id'), 'repeat-call');
      assert.equal(repeat.headers.get('x-auth-user-id'), first.json.user_id);
      assert.equal(repeat.headers.get('cache-control'), 'no-store');
      assert.equal(first.headers.get('ratelimit-remaining'), '19');
      assert.equal(repeat.headers.get('ratelimit-remaining'), '18');

      assert.equal(
        (await http(`${b.origin}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${tokenA}` } })).status,
        204,
      ); // 17
      for (let i = 0; i < 5; i++) {
        const refused = await verify(a, tokenA);
        assert.equal(refused.status, 401);
        assert.equal(refused.json.error, 'invalid_token');
        assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      }
      // The revoked token spent at most one request of its user's quota (the first refusal), not five.
      const tokenB = (await login()).token;
      const afterwards = await verify(a, tokenB);
      assert.equal(afterwards.status, 200);
      assert.equal(afterwards.headers.get('ratelimit-remaining'), '15');
    });

    it('does the same for an OAuth access token: identical repeats, refused at once when its client secret rotates on another instance', async () => {
      const { client, secret } = await a.services.oauthClients.create({
        name: 'worker',
        grantTypes: ['client_credentials'],
        scopes: ['read'],
      });
      const issued = await http(`${a.origin}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read',
      });
      assert.equal(issued.status, 200);
      const token = issued.json.access_token;
      const first = await verify(a, token);
      const repeat = await verify(a, token);
      assert.equal(first.status, 200);
      assert.equal(first.json.auth_method, 'oauth');
      assert.deepEqual(repeat.json, first.json);
      assert.deepEqual(stableHeaders(repeat.headers), stableHeaders(first.headers));
      assert.equal(repeat.headers.get('x-auth-client-id'), client.client_id);
      assert.equal(Number(first.headers.get('ratelimit-remaining')) - 1, Number(repeat.headers.get('ratelimit-remaining')));

      await b.services.oauthClients.rotateSecret(client.client_id);
      const refused = await verify(a, token);
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error, 'invalid_token');
    });

    it('does the same for a secret API key: identical repeats, a scheduled revocation shows at once, a revocation on another instance refuses at once', async () => {
      const admin = (await a.services.accounts.findByEmail('user', 'fast@example.com'))!;
      const key = await a.services.apiKeys.create({ type: 'secret', title: 'fast job', createdBy: admin.id });
      const first = await verify(a, key.token);
      const repeat = await verify(a, key.token);
      // As the js-sdk sends a secret key: Basic base64("sk_…:").
      const basic = await http(`${a.origin}/v1/auth/verify`, {
        headers: { authorization: `Basic ${Buffer.from(`${key.token}:`).toString('base64')}` },
      });
      assert.equal(first.status, 200);
      assert.deepEqual(basic.json, first.json);
      assert.deepEqual(stableHeaders(basic.headers), stableHeaders(first.headers));
      assert.equal(first.json.auth_method, 'api_key');
      assert.equal(first.json.key_id, key.key.id);
      assert.deepEqual(repeat.json, first.json);
      assert.deepEqual(stableHeaders(repeat.headers), stableHeaders(first.headers));
      assert.equal(Number(first.headers.get('ratelimit-remaining')) - 1, Number(repeat.headers.get('ratelimit-remaining')));
      assert.equal(Number(repeat.headers.get('ratelimit-remaining')) - 1, Number(basic.headers.get('ratelimit-remaining')));
      assert.equal(first.json.expires_at, null);

      // The key's record is read on every verification, fast lane included: a revocation scheduled
      // on the other instance is its expiry at once, and the key still works until then.
      const scheduled = await b.services.apiKeys.revoke(key.key.id, admin.id, 3600);
      const soon = await verify(a, key.token);
      assert.equal(soon.status, 200);
      assert.equal(soon.json.expires_at, scheduled.revoked_at);

      const other = await a.services.apiKeys.create({ type: 'secret', title: 'fast job 2', createdBy: admin.id });
      assert.equal((await verify(a, other.token)).status, 200);
      assert.equal((await verify(a, other.token)).status, 200);
      await b.services.apiKeys.revoke(other.key.id, admin.id);
      for (let i = 0; i < 3; i++) {
        const refused = await verify(a, other.token);
        assert.equal(refused.status, 401);
        assert.equal(refused.json.error, 'invalid_token');
      }
    });

    it('answers a spent quota with the same 429 on repeats, and ?scope= checks', async () => {
      const tokenC = (await login()).token;
      let res = await verify(a, tokenC);
      while (res.status === 200) res = await verify(a, tokenC);
      assert.equal(res.status, 429);
      assert.equal(res.json.error, 'rate_limit_exceeded');
      assert.equal(res.headers.get('ratelimit-remaining'), '0');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      const again = await verify(a, tokenC);
      assert.equal(again.status, 429);
      assert.deepEqual(stableHeaders(again.headers), stableHeaders(res.headers));
    });
  });
}

describe('/v1/auth/verify repeated with ?scope= and other methods', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ store: 'memory' });
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: 'member pw 123', role: 'member' });
  });
  after(() => srv.close());

  it('still checks scopes and answers POST the same way on a token seen before', async () => {
    const { token } = (
      await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'member@example.com', password: 'member pw 123' } })
    ).json;
    const headers = { authorization: `Bearer ${token}` };
    const get = await http(`${srv.url}/v1/auth/verify`, { headers });
    assert.equal(get.status, 200);
    const weak = await http(`${srv.url}/v1/auth/verify?scope=write`, { headers });
    assert.equal(weak.status, 403);
    assert.equal(weak.json.error, 'insufficient_scope');
    const post = await http(`${srv.url}/v1/auth/verify`, { method: 'POST', headers });
    assert.equal(post.status, 200);
    assert.deepEqual(post.json, get.json);
    const tampered = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token.slice(0, -3)}abc` } });
    assert.equal(tampered.status, 401);
  });
});

describe('/v1/auth/verify repeated: every kind of credential takes the fast lane', () => {
  let srv: TestServer;
  const METRICS_TOKEN = 'lane-metrics-token-123';
  before(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN } });
  });
  after(() => srv.close());

  /** The fast lane's answers so far, by the resolver that knew the credential (from /metrics). */
  async function laneAnswers(): Promise<Record<string, number>> {
    const res = await http(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    const counts: Record<string, number> = {};
    for (const [, credential, value] of (res.text as string).matchAll(
      /^portcullis_verify_fast_lane_total\{credential="([^"]+)"\} (\S+)$/gm,
    ))
      counts[credential!] = Number(value);
    return counts;
  }
  /** Verifies twice: the first through the general pipeline, the repeat through the lane. Returns which lane counters moved, by how much. */
  async function laneOfRepeat(authorization: string): Promise<Record<string, number>> {
    const before = await laneAnswers();
    const first = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization } });
    assert.equal(first.status, 200);
    assert.deepEqual(await laneAnswers(), before, 'a first verification takes the general pipeline');
    const repeat = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization } });
    assert.equal(repeat.status, 200);
    assert.deepEqual(repeat.json, first.json);
    const after = await laneAnswers();
    return Object.fromEntries(
      Object.keys(after)
        .filter((k) => after[k] !== before[k])
        .map((k) => [k, after[k]! - before[k]!]),
    );
  }

  it('counts each resolver that remembers what it verified, from zero', async () => {
    assert.deepEqual(await laneAnswers(), { 'api-key': 0, 'first-party-jwt': 0, 'oauth-access-token': 0 });
  });

  it('answers a repeated first-party JWT there', async () => {
    await srv.services.accounts.create({ actorType: 'user', email: 'lane@example.com', password: 'lane password', role: 'admin' });
    const login = await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'lane@example.com', password: 'lane password' },
    });
    assert.equal(login.status, 200);
    assert.deepEqual(await laneOfRepeat(`Bearer ${login.json.token}`), { 'first-party-jwt': 1 });
  });

  it('answers a repeated OAuth access token (at+jwt) there', async () => {
    const { client, secret } = await srv.services.oauthClients.create({
      name: 'lane worker',
      grantTypes: ['client_credentials'],
      scopes: ['read'],
    });
    const issued = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=read',
    });
    assert.equal(issued.status, 200);
    assert.deepEqual(await laneOfRepeat(`Bearer ${issued.json.access_token}`), { 'oauth-access-token': 1 });
  });

  it('answers a repeated secret API key there, as Bearer and as Basic (raw and as the js-sdk sends it)', async () => {
    const admin = (await srv.services.accounts.findByEmail('user', 'lane@example.com'))!;
    for (const authorization of [
      (t: string) => `Bearer ${t}`,
      (t: string) => `Basic ${t}`,
      (t: string) => `Basic ${Buffer.from(`${t}:`).toString('base64')}`,
    ]) {
      const key = await srv.services.apiKeys.create({ type: 'secret', title: 'lane job', createdBy: admin.id });
      assert.deepEqual(await laneOfRepeat(authorization(key.token)), { 'api-key': 1 }, authorization('sk_…'));
    }
  });

  it('never answers a registration token there', async () => {
    const registered = await http(`${srv.url}/auth/customer/emailpass/register`, {
      method: 'POST',
      json: { email: 'lane-reg@example.com', password: 'lane password' },
    });
    assert.equal(registered.status, 200);
    const before = await laneAnswers();
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${registered.json.token}` } })).status,
        401,
      );
    assert.deepEqual(await laneAnswers(), before);
  });
});
