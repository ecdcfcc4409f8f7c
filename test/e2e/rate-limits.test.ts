import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keys } from '../../src/store/keys.ts';
import { dropPrefix, http, privatePrefix, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Quotas per credential, enforced across two instances sharing one Redis namespace: requests
 * alternate between the instances and the count is one.
 */
describe('rate limits across two instances sharing Redis', () => {
  const prefix = privatePrefix('rl');
  const env = { PUBLIC_URL: 'http://portcullis.test', RATE_LIMIT_JWT: '5/m', RATE_LIMIT_API_KEY: '4/m', RATE_LIMIT_OAUTH: '3/m' };
  let a: TestServer;
  let b: TestServer;
  let userId: string;
  before(async () => {
    a = await startTestServer({ prefix, env });
    b = await startTestServer({ prefix, env });
    userId = (await a.services.accounts.create({ actorType: 'user', email: 'quota@example.com', password: 'correct horse', role: 'admin' }))
      .id;
    await a.services.accounts.create({ actorType: 'user', email: 'other@example.com', password: 'correct horse', role: 'developer' });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  const login = async (srv: TestServer, email: string) => {
    const res = await http(`${srv.origin}/v1/auth/login`, { method: 'POST', json: { username: email, password: 'correct horse' } });
    assert.equal(res.status, 200);
    return res.json.token as string;
  };
  const verify = (srv: TestServer, authorization: string) => http(`${srv.origin}/v1/auth/verify`, { headers: { authorization } });

  it('counts a first-party user across instances, with the RateLimit headers, and refuses with 429 + Retry-After', async () => {
    const token = await login(a, 'quota@example.com');
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await verify(i % 2 ? b : a, `Bearer ${token}`);
      assert.equal(res.status, 200, `request ${i + 1} of 5 is allowed`);
      assert.equal(res.headers.get('ratelimit-limit'), '5');
      assert.equal(res.headers.get('ratelimit-policy'), '5;w=60');
      const reset = Number(res.headers.get('ratelimit-reset'));
      assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset is delta seconds within the window, got ${reset}`);
      assert.equal(res.headers.get('retry-after'), null);
      seen.push(Number(res.headers.get('ratelimit-remaining')));
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);

    const refused = await verify(b, `Bearer ${token}`);
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error, 'rate_limit_exceeded');
    assert.equal(refused.json.code, 429);
    assert.equal(typeof refused.json.message, 'string');
    assert.ok(Date.parse(refused.json.timestamp));
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 12, `Retry-After is about one interval (60s/5), got ${retryAfter}`);
    assert.equal(refused.headers.get('ratelimit-remaining'), '0');
    assert.equal(refused.headers.get('ratelimit-limit'), '5');
    assert.equal(refused.headers.get('ratelimit-policy'), '5;w=60');

    // A new JWT for the same user does not reset the count; another user has its own.
    const fresh = await login(b, 'quota@example.com');
    assert.equal((await verify(a, `Bearer ${fresh}`)).status, 429);
    const other = await login(a, 'other@example.com');
    assert.equal((await verify(b, `Bearer ${other}`)).status, 200);
  });

  it('spends the same quota on every surface, each answering 429 in its own dialect', async () => {
    const id = (
      await a.services.accounts.create({ actorType: 'user', email: 'surfaces@example.com', password: 'correct horse', role: 'admin' })
    ).id;
    const token = await login(a, 'surfaces@example.com');
    for (let i = 0; i < 5; i++) assert.equal((await verify(i % 2 ? a : b, `Bearer ${token}`)).status, 200);
    const admin = await http(`${b.origin}/admin/users/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(admin.status, 429);
    assert.deepEqual(Object.keys(admin.json).sort(), ['message', 'type']);
    assert.equal(admin.json.type, 'too_many_requests');
    assert.ok(Number(admin.headers.get('retry-after')) >= 1);
    assert.equal(admin.headers.get('ratelimit-limit'), '5');
  });

  it('counts an API key by key, with its own rate_limit overriding RATE_LIMIT_API_KEY', async () => {
    const plain = await a.services.apiKeys.create({ type: 'secret', title: 'default quota', createdBy: userId, scopes: ['read', 'write'] });
    const custom = await a.services.apiKeys.create({
      type: 'secret',
      title: 'own quota',
      createdBy: userId,
      scopes: ['read'],
      rateLimit: '2/m',
    });
    for (let i = 0; i < 4; i++) {
      const res = await verify(i % 2 ? a : b, `Bearer ${plain.token}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-policy'), '4;w=60');
    }
    const over = await verify(a, `Basic ${Buffer.from(`${plain.token}:`).toString('base64')}`);
    assert.equal(over.status, 429, 'the same key through Basic auth shares its count');

    // The other key of the same user has its own count and its own quota.
    const first = await verify(b, `Bearer ${custom.token}`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-limit'), '2');
    assert.equal(first.headers.get('ratelimit-policy'), '2;w=60');
    assert.equal((await verify(a, `Bearer ${custom.token}`)).status, 200);
    assert.equal((await verify(b, `Bearer ${custom.token}`)).status, 429);
  });

  it('counts an OAuth client_credentials token by client, and a second token of the same client shares the count', async () => {
    const { client, secret } = await a.services.oauthClients.create({
      name: 'reporting job',
      grantTypes: ['client_credentials'],
      scopes: ['read'],
    });
    const token = async (srv: TestServer) => {
      const res = await http(`${srv.origin}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret!)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }).toString(),
      });
      assert.equal(res.status, 200, res.text);
      return res.json.access_token as string;
    };
    const first = await token(a);
    for (let i = 0; i < 3; i++) {
      const res = await verify(i % 2 ? a : b, `Bearer ${first}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.auth_method, 'oauth');
      assert.equal(res.headers.get('ratelimit-policy'), '3;w=60');
    }
    const second = await token(b);
    const refused = await verify(a, `Bearer ${second}`);
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error, 'rate_limit_exceeded');
  });

  it('limits a publishable key that has its own rate_limit, on every /store request presenting it', async () => {
    const limited = await a.services.apiKeys.create({ type: 'publishable', title: 'partner widget', createdBy: userId, rateLimit: '2/m' });
    const open = await a.services.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: userId });
    const me = (srv: TestServer, pk: string) => http(`${srv.origin}/store/customers/me`, { headers: { 'x-publishable-api-key': pk } });
    for (const srv of [a, b]) {
      const res = await me(srv, limited.token);
      assert.equal(res.status, 401, 'the route still answers for itself');
      assert.equal(res.headers.get('ratelimit-policy'), '2;w=60');
    }
    const refused = await me(a, limited.token);
    assert.equal(refused.status, 429);
    assert.equal(refused.json.type, 'too_many_requests');
    for (let i = 0; i < 4; i++) assert.equal((await me(b, open.token)).headers.get('ratelimit-limit'), null);
  });

  it('lets browser dashboards read the RateLimit headers cross-origin', async () => {
    await a.services.accounts.create({ actorType: 'user', email: 'dashboard@example.com', password: 'correct horse', role: 'admin' });
    const token = await login(a, 'dashboard@example.com');
    const res = await http(`${b.origin}/admin/users/me`, {
      headers: { authorization: `Bearer ${token}`, origin: 'http://localhost:7000' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:7000');
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',');
    for (const h of ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy'])
      assert.ok(exposed.includes(h), h);
  });

  it('writes nothing to Redis for a refused request', async () => {
    const key = await a.services.apiKeys.create({
      type: 'secret',
      title: 'refusals',
      createdBy: userId,
      scopes: ['read'],
      rateLimit: '1/m',
    });
    assert.equal((await verify(a, `Bearer ${key.token}`)).status, 200);
    const cell = keys.rateLimit(`api_key:${key.key.id}`, '1/60s');
    const before = [await a.store.get(cell), await a.store.ttl(cell)];
    assert.ok(before[0], 'the cell exists after an allowed request');
    for (let i = 0; i < 5; i++) assert.equal((await verify(i % 2 ? a : b, `Bearer ${key.token}`)).status, 429);
    assert.equal(await a.store.get(cell), before[0], 'refusals left the cell as it was');
    assert.ok((await a.store.ttl(cell)) <= (before[1] as number), 'and did not extend its expiry');
  });

  it('does not count requests without a valid credential', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await verify(a, 'Bearer not-a-token');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('ratelimit-limit'), null);
    }
  });
});

describe('quota refusals in the overview, counted across instances', () => {
  const prefix = privatePrefix('rl-tally');
  const env = { PUBLIC_URL: 'http://portcullis.test', RATE_LIMIT_JWT: '5/m' };
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startTestServer({ prefix, env });
    b = await startTestServer({ prefix, env });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropPrefix(prefix);
  });

  it('the overview on one instance counts the 429s of both, its own at once and the other within its 5-s flush', async () => {
    const owner = await a.services.accounts.create({
      actorType: 'user',
      email: 'owner@example.com',
      password: 'correct horse',
      role: 'admin',
    });
    await a.services.accounts.create({ actorType: 'user', email: 'reader@example.com', password: 'correct horse', role: 'member' });
    const login = await http(`${a.origin}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'reader@example.com', password: 'correct horse' },
    });
    // A member reads the overview; each read spends one of its 5 requests a minute, so the reads are few.
    const refusals = async () => {
      const res = await http(`${a.origin}/admin/overview`, { headers: { authorization: `Bearer ${login.json.token}` } });
      assert.equal(res.status, 200);
      assert.equal(res.json.overview.quota_refusals.scope, 'all_instances_last_24h');
      return res.json.overview.quota_refusals.count as number;
    };
    assert.equal(await refusals(), 0);

    const key = await a.services.apiKeys.create({
      type: 'secret',
      title: 'tally',
      createdBy: owner.id,
      scopes: ['read'],
      rateLimit: '1/m',
    });
    const verify = (srv: TestServer) => http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } });
    assert.equal((await verify(a)).status, 200);
    assert.equal((await verify(a)).status, 429);
    assert.equal((await verify(b)).status, 429);
    assert.equal((await verify(b)).status, 429);

    const seen = [await refusals()];
    assert.ok(seen[0]! >= 1, `the answering instance's own refusal counts at once: ${seen}`);
    while (seen.at(-1)! < 3 && seen.length < 4) {
      await new Promise((r) => setTimeout(r, 3000));
      seen.push(await refusals());
    }
    assert.equal(seen.at(-1), 3, `both instances' refusals, each once: ${seen}`);
    // One hash with one field per hour, expiring a day after its last write.
    const tally = await a.store.hashGetAll(keys.quotaRefusalTally());
    assert.deepEqual(Object.values(tally), ['3']);
    assert.ok((await a.store.ttl(keys.quotaRefusalTally())) > 24 * 3600);
  });
});
