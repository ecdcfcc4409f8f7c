import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { freePort, http, redisBinariesMissing, startTestServer, type TestServer } from '../helpers/harness.ts';

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
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const probe = createClient({ url, socket: { reconnectStrategy: false } });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.close();
        break;
      } catch {
        if (i > 100) throw new Error('the private redis-server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    srv = await startTestServer({ redisUrl: url, env: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await srv.services.accounts.create({ actorType: 'user', email: 'frozen@example.com', password: 'frozen redis', role: 'member' });
    token = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'frozen@example.com', password: 'frozen redis' } })).json.token;
  });
  after(async () => {
    redis?.kill('SIGCONT');
    await srv?.close();
    redis?.kill('SIGKILL');
  });

  const verify = () => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it('answers 503 within the command timeout (verify, repeat verify, login, /ready), keeps /health, and serves again once Redis answers', { timeout: 30_000 }, async () => {
    assert.equal((await verify()).status, 200);
    assert.equal((await verify()).status, 200); // a repeat: the fast lane

    redis.kill('SIGSTOP');
    for (const call of [verify, verify, () => http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'frozen@example.com', password: 'frozen redis' } })]) {
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
    assert.equal((await http(`${srv.url}/ready`)).status, 200);
  });
});
