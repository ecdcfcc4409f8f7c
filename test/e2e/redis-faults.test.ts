import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { http, redisBinariesMissing, startTestServer, type TestServer } from '../helpers/harness.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';

/**
 * A Redis that keeps its connections open but stops answering (a paused process, a partition
 * without a reset): requests must fail fast with 503, not hang, and recover by themselves.
 * A private redis-server, frozen with SIGSTOP, so the shared test Redis is never disturbed.
 */
describe('when Redis stops answering', { skip: redisBinariesMissing() }, () => {
  let redis: ChildProcess;
  let srv: TestServer;
  let token: string;
  const TIMEOUT_MS = 300;

  before(async () => {
    let url: string;
    ({ redis, url } = await startPrivateRedis());
    srv = await startTestServer({ redisUrl: url, env: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await srv.services.accounts.create({ actorType: 'user', email: 'frozen@example.com', password: 'frozen redis', role: 'member' });
    token = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'frozen@example.com', password: 'frozen redis' } }))
      .json.token;
  });
  after(async () => {
    redis?.kill('SIGCONT');
    await srv?.close();
    redis?.kill('SIGKILL');
  });

  const verify = () => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it(
    'answers 503 within the command timeout (verify, repeat verify, login, /ready), keeps /health, and serves again once Redis answers',
    { timeout: 30_000 },
    async () => {
      assert.equal((await verify()).status, 200);
      assert.equal((await verify()).status, 200); // a repeat: the fast lane

      redis.kill('SIGSTOP');
      for (const call of [
        verify,
        verify,
        () => http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'frozen@example.com', password: 'frozen redis' } }),
      ]) {
        const started = performance.now();
        const res = await call();
        const ms = performance.now() - started;
        assert.equal(res.status, 503, res.text);
        assert.equal(res.json.error, 'service_unavailable');
        assert.equal(res.json.code, 503);
        assert.ok(ms < 10 * TIMEOUT_MS, `answered in ${Math.round(ms)} ms`);
      }
      const ready = await http(`${srv.url}/ready`);
      assert.equal(ready.status, 503);
      assert.equal((await http(`${srv.url}/health`)).status, 200);

      redis.kill('SIGCONT');
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await verify()).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'served again once Redis answers');
      // /ready reuses its last answer for a second (a probe storm costs Redis one check a second).
      let readyAgain = 0;
      for (let i = 0; i < 20 && readyAgain !== 200; i++) {
        readyAgain = (await http(`${srv.url}/ready`)).status;
        if (readyAgain !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(readyAgain, 200, '/ready again within its reuse period');
    },
  );
});

/**
 * A store failure is final for the request it happens on: the request is answered 503 once the
 * command timeout passes, not once per layer that would ask again (the verify fast lane, the quota,
 * the route's guard each waited out a timeout of their own: 2.5 to 3.6 s for a 1 s timeout).
 */
describe('a request meets a frozen Redis once', { skip: redisBinariesMissing() }, () => {
  let redis: ChildProcess;
  let srv: TestServer;
  const TIMEOUT_MS = 1000;
  // The command deadline fires between 1 and 1.25 timeouts; the rest is margin for a busy machine.
  const WITHIN_MS = 1600;
  const tokens: Record<'repeat' | 'first' | 'logout' | 'session' | 'admin', string> = {
    repeat: '',
    first: '',
    logout: '',
    session: '',
    admin: '',
  };
  let publishableKey: string;

  before(async () => {
    let url: string;
    ({ redis, url } = await startPrivateRedis());
    srv = await startTestServer({ redisUrl: url, env: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) } });
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'once@example.com',
      password: 'frozen once',
      role: 'admin',
    });
    for (const name of Object.keys(tokens) as (keyof typeof tokens)[]) {
      tokens[name] = (
        await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'once@example.com', password: 'frozen once' } })
      ).json.token;
    }
    // A cookie session starts from a Medusa sign-in (a /v1 token is refreshed at /v1/auth/refresh only).
    tokens.session = (
      await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: { email: 'once@example.com', password: 'frozen once' } })
    ).json.token;
    publishableKey = (await srv.services.apiKeys.create({ type: 'publishable', title: 'frozen shop', createdBy: admin.id })).token;
  });
  after(async () => {
    redis?.kill('SIGCONT');
    await srv?.close();
    redis?.kill('SIGKILL');
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const calls = () => ({
    'repeat verify': () => http(`${srv.url}/v1/auth/verify`, { headers: bearer(tokens.repeat) }),
    'first verify': () => http(`${srv.url}/v1/auth/verify`, { headers: bearer(tokens.first) }),
    '/v1/auth/logout': () => http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: bearer(tokens.logout) }),
    'POST /auth/session': () => http(`${srv.url}/auth/session`, { method: 'POST', headers: bearer(tokens.session) }),
    '/admin with a JWT': () => http(`${srv.url}/admin/users/me`, { headers: bearer(tokens.admin) }),
    '/store with a publishable key': () =>
      http(`${srv.url}/store/customers`, { method: 'POST', headers: { 'x-publishable-api-key': publishableKey }, json: {} }),
  });

  it("answers 503 in the surface's dialect within one command timeout, on every surface", { timeout: 60_000 }, async () => {
    const repeat = calls()['repeat verify'];
    assert.equal((await repeat()).status, 200);
    assert.equal((await repeat()).status, 200); // now known to the fast lane

    redis.kill('SIGSTOP');
    for (const [name, call] of Object.entries(calls())) {
      const started = performance.now();
      const res = await call();
      const ms = performance.now() - started;
      assert.equal(res.status, 503, `${name}: ${res.text}`);
      assert.equal(res.headers.get('retry-after'), '1', name);
      if (name.startsWith('/v1') || name.endsWith('verify')) {
        assert.equal(res.json.error, 'service_unavailable', name);
        assert.equal(res.json.code, 503, name);
      } else {
        assert.deepEqual(Object.keys(res.json).sort(), ['message', 'type'], `${name}: ${res.text}`);
        assert.equal(res.json.type, 'unknown_error', name);
      }
      assert.ok(ms < WITHIN_MS, `${name} answered in ${Math.round(ms)} ms (timeout ${TIMEOUT_MS} ms)`);
    }

    // The same requests were good ones: once Redis answers they succeed.
    redis.kill('SIGCONT');
    const expected: Record<string, number> = {
      'repeat verify': 200,
      'first verify': 200,
      '/v1/auth/logout': 204,
      'POST /auth/session': 200,
      '/admin with a JWT': 200,
      '/store with a publishable key': 401, // the key is accepted; the route wants a customer
    };
    for (const [name, call] of Object.entries(calls())) {
      let res = await call();
      for (let i = 0; i < 50 && res.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await call();
      }
      assert.equal(res.status, expected[name], `${name} after recovery: ${res.text}`);
    }
  });
});

/**
 * Redis killed and started again (a crash, a restart, a failover to the same address): requests
 * fail fast with 503 while it is gone (no command timeout to wait out: the connection is closed),
 * and the server serves again on its own once Redis is back, with what Redis persisted.
 */
describe('when Redis is killed and restarted', { skip: redisBinariesMissing() }, () => {
  let redis: ChildProcess;
  let port: number;
  let dir: string;
  let srv: TestServer;
  const TIMEOUT_MS = 1000;
  // Persisted as docker-compose.yml does (AOF), but fsync on every write so the test is exact.
  const args = () => ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pc-restart-'));
    let url: string;
    ({ redis, url, port } = await startPrivateRedis({ args: args() }));
    srv = await startTestServer({ redisUrl: url, env: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await srv.services.accounts.create({ actorType: 'user', email: 'restart@example.com', password: 'restarted redis', role: 'member' });
  });
  after(async () => {
    await srv?.close();
    redis?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const login = () =>
    http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'restart@example.com', password: 'restarted redis' } });
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it('answers 503 at once while Redis is gone, then serves again by itself, revocations kept', { timeout: 60_000 }, async () => {
    const kept = (await login()).json.token;
    const revoked = (await login()).json.token;
    assert.equal(
      (await http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${revoked}` } })).status,
      204,
    );
    assert.equal((await verify(kept)).status, 200);
    assert.equal((await verify(kept)).status, 200);

    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200)); // the client sees the connection close
    for (const call of [() => verify(kept), login]) {
      const started = performance.now();
      const res = await call();
      const ms = performance.now() - started;
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json.error, 'service_unavailable');
      assert.equal(res.headers.get('retry-after'), '1');
      assert.ok(ms < TIMEOUT_MS / 2, `answered in ${Math.round(ms)} ms: no timeout waited out`);
    }
    assert.equal((await http(`${srv.url}/ready`)).status, 503);
    assert.equal((await http(`${srv.url}/health`)).status, 200);

    ({ redis } = await startPrivateRedis({ port, args: args() }));
    const backAt = performance.now();
    let status = 0;
    while (status !== 200 && performance.now() - backAt < 10_000) {
      status = (await verify(kept)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, 'served again once Redis is back');
    assert.ok(performance.now() - backAt < 5000, `served again ${Math.round(performance.now() - backAt)} ms after Redis answered`);
    assert.equal((await verify(revoked)).status, 401, 'a revocation made before the restart still holds');
    assert.equal((await login()).status, 200, 'the account is still there');
    let ready = 0;
    for (let i = 0; i < 20 && ready !== 200; i++) {
      ready = (await http(`${srv.url}/ready`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ready, 200);
  });
});
