import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { http, privatePrefix, redisBinariesMissing, startTestServer, type TestServer } from '../helpers/harness.ts';
import { startRedisCluster, type RedisClusterFixture } from '../helpers/redis-cluster.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

/**
 * Two Portcullis instances on a real three-node Redis Cluster (REDIS_CLUSTER=1): every flow that
 * touches several keys at once (refresh rotation, grants and their tokens, revocation, quotas)
 * must stay within one hash slot, or the cluster refuses it with CROSSSLOT and the user sees 503.
 */
describe('two instances on Redis Cluster', { skip: redisBinariesMissing() }, () => {
  let cluster: RedisClusterFixture;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    cluster = await startRedisCluster();
    const prefix = privatePrefix('cluster');
    const env = { REDIS_CLUSTER: '1', RATE_LIMIT_JWT: '8/h' };
    a = await startTestServer({ redisUrl: cluster.url, prefix, env });
    // Same PUBLIC_URL and data: two replicas behind one load balancer.
    b = await startTestServer({ redisUrl: cluster.url, prefix, env: { ...env, PUBLIC_URL: a.url } });
    await a.services.accounts.create({ actorType: 'user', email: 'ops@example.com', password: 'cluster password', role: 'admin' });
    await a.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'cluster password' });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });

  const verify = (srv: TestServer, token: string) =>
    http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it('logs in, rotates refresh tokens (one winner of concurrent uses), verifies, revokes and counts quotas across instances', async () => {
    assert.equal((await http(`${a.origin}/ready`)).status, 200);
    const login = await http(`${a.origin}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'ops@example.com', password: 'cluster password' },
    });
    assert.equal(login.status, 200);
    const rotations = await Promise.all(
      [a, b, a, b].map((srv) =>
        http(`${srv.origin}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: login.json.refresh_token } }),
      ),
    );
    assert.deepEqual(rotations.map((r) => r.status).sort(), [200, 401, 401, 401]);
    const pair = rotations.find((r) => r.status === 200)!.json;
    // The reuse revoked the family: the winner's tokens too (theft detection).
    assert.equal((await verify(a, pair.token)).status, 401);

    const fresh = (
      await http(`${b.origin}/v1/auth/login`, { method: 'POST', json: { username: 'ops@example.com', password: 'cluster password' } })
    ).json;
    const remaining: number[] = [];
    for (const srv of [a, a, b, b]) {
      const res = await verify(srv, fresh.token);
      assert.equal(res.status, 200);
      remaining.push(Number(res.headers.get('ratelimit-remaining')));
    }
    assert.deepEqual(
      remaining,
      [remaining[0], remaining[0]! - 1, remaining[0]! - 2, remaining[0]! - 3],
      'one quota, shared by both instances',
    );
    assert.equal(
      (
        await http(`${b.origin}/v1/auth/logout`, {
          method: 'POST',
          headers: { authorization: `Bearer ${fresh.token}` },
          json: { everywhere: true },
        })
      ).status,
      204,
    );
    assert.equal((await verify(a, fresh.token)).status, 401);
  });

  it('manages a secret API key: created on one instance, used and revoked on the other', async () => {
    const admin = (
      await http(`${a.origin}/admin/auth/token`, { method: 'POST', json: { email: 'ops@example.com', password: 'cluster password' } })
    ).json.token;
    const created = await http(`${a.origin}/admin/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      json: { title: 'cluster job', type: 'secret' },
    });
    assert.equal(created.status, 200);
    const key = created.json.api_key;
    const used = await http(`${b.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } });
    assert.equal(used.status, 200);
    assert.equal(used.json.key_id, key.id);
    assert.equal(
      (
        await http(`${b.origin}/admin/api-keys/${key.id}/revoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}` },
          json: {},
        })
      ).status,
      200,
    );
    assert.equal((await http(`${a.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } })).status, 401);
  });

  it('completes the OAuth code flow with openid-client, and a deleted client stops every token of its grants at once', async () => {
    const { secret } = await a.services.oauthClients.create({
      clientId: 'cluster-app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    const rp = await relyingParty(a.url, { clientId: 'cluster-app', clientSecret: secret! });
    const auth = await authorize(rp, new Browser(), {
      email: 'shopper@example.com',
      password: 'cluster password',
      scope: 'openid read offline_access',
    });
    const tokens = await client.authorizationCodeGrant(rp, auth.callback, {
      pkceCodeVerifier: auth.codeVerifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
    });
    assert.equal((await verify(b, tokens.access_token)).status, 200);
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.equal((await verify(b, refreshed.access_token)).status, 200);
    await b.services.oauthClients.delete('cluster-app');
    for (const token of [tokens.access_token, refreshed.access_token]) assert.equal((await verify(a, token)).status, 401);
  });
});

/**
 * /ready tells a load balancer whether this instance can serve, so on a cluster it must follow
 * the cluster, not one node: any node answers PING while the cluster refuses commands.
 */
describe('/ready on Redis Cluster losing masters', { skip: redisBinariesMissing() }, () => {
  let cluster: RedisClusterFixture;
  let srv: TestServer;
  let token: string;
  let publishableKey: string;

  before(async () => {
    cluster = await startRedisCluster();
    srv = await startTestServer({
      redisUrl: cluster.url,
      prefix: privatePrefix('cluster-ready'),
      env: { REDIS_CLUSTER: '1', REDIS_COMMAND_TIMEOUT_MS: '1000' },
    });
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'ready@example.com',
      password: 'cluster ready',
      role: 'admin',
    });
    publishableKey = (await srv.services.apiKeys.create({ type: 'publishable', title: 'cluster shop', createdBy: admin.id })).token;
    token = (
      await http(`${srv.origin}/v1/auth/login`, { method: 'POST', json: { username: 'ready@example.com', password: 'cluster ready' } })
    ).json.token;
  });
  after(async () => {
    await srv?.close();
    await cluster?.stop();
  });

  const ready = async () => (await http(`${srv.origin}/ready`)).status;
  /** Requests of every surface meanwhile: served or 503, never a 500. */
  async function noServerErrors(): Promise<void> {
    const answers = await Promise.all([
      http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } }),
      http(`${srv.origin}/v1/auth/login`, { method: 'POST', json: { username: 'ready@example.com', password: 'cluster ready' } }),
      http(`${srv.origin}/admin/users/me`, { headers: { authorization: `Bearer ${token}` } }),
      http(`${srv.origin}/store/customers`, { method: 'POST', headers: { 'x-publishable-api-key': publishableKey }, json: {} }),
      http(`${srv.origin}/ready`),
    ]);
    for (const res of answers) assert.ok(res.status < 500 || res.status === 503, `${res.status} ${res.text}`);
  }
  /** Poll /ready (with a bound) until it answers 503; then it must stay 503, past its cached answer. */
  async function becomesUnready(): Promise<void> {
    const until = Date.now() + 30_000;
    while ((await ready()) !== 503) {
      assert.ok(Date.now() < until, '/ready still 200 after 30 s');
      await noServerErrors();
      await new Promise((r) => setTimeout(r, 200));
    }
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(await ready());
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(statuses, Array(12).fill(503), 'a steady 503, not a flip between 200 and 503');
    await noServerErrors();
  }

  it(
    'answers 503 once a master is lost, steadily, and while the cluster is down; no request gets a 500',
    { timeout: 120_000 },
    async () => {
      assert.equal(await ready(), 200);
      await noServerErrors();

      cluster.kill(1); // one master lost: its slots are not served
      await becomesUnready();

      await cluster.restart(1); // back (empty): the instance is ready again by itself
      const until = Date.now() + 30_000;
      while ((await ready()) !== 200) {
        assert.ok(Date.now() < until, '/ready still 503 30 s after the master came back');
        await new Promise((r) => setTimeout(r, 200));
      }
      await noServerErrors();
      cluster.kill(1);
      await becomesUnready();

      cluster.kill(2); // the cluster is down: the node left answers PING, but CLUSTERDOWN to commands
      await becomesUnready();

      cluster.kill(0); // nothing left
      await becomesUnready();
    },
  );
});
