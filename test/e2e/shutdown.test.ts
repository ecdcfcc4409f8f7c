import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import { dropPrefix, http, privatePrefix, REDIS_URL, redisBinariesMissing } from '../helpers/harness.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { SHUTDOWN_GRACE_MS } from '../../src/server.ts';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  /** performance.now() when the request was sent and when its response had fully arrived. */
  sentAt: number;
  at: number;
}

function send(url: string, opts: { method?: string; headers?: Record<string, string | number>; agent?: Agent; body?: string } = {}) {
  let finish!: (rest?: string) => void;
  const sentAt = performance.now();
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body, sentAt, at: performance.now() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    finish = (rest) => req.end(rest);
  });
  return { answer, finish };
}

describe('a graceful stop (SIGTERM) with keep-alive clients', () => {
  it(
    'finishes what is in flight with Connection: close, closes kept-alive connections, and exits as soon as the last request is done',
    { timeout: 60_000 },
    async () => {
      const prefix = privatePrefix('shutdown');
      const srv = await startServerProcess({
        REDIS_URL,
        REDIS_PREFIX: prefix,
        BOOTSTRAP_ADMIN_EMAIL: 'drain@example.com',
        BOOTSTRAP_ADMIN_PASSWORD: 'drain password',
      });
      try {
        await srv.waitForLog((l) => l.msg === 'bootstrap admin created');
        const login = await http(`${srv.url}/v1/auth/login`, {
          method: 'POST',
          json: { username: 'drain@example.com', password: 'drain password' },
        });
        assert.equal(login.status, 200, login.text);

        // Keep-alive clients hammering (a bounded loop each): two on /health, two on /v1/auth/verify.
        const hammer = async (path: string, headers: Record<string, string>) => {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          const answers: Answer[] = [];
          let error: (Error & { code?: string; at?: number }) | undefined;
          for (let i = 0; i < 5000 && !error; i++) {
            try {
              const call = send(`${srv.url}${path}`, { headers, agent });
              call.finish();
              answers.push(await call.answer);
            } catch (err) {
              error = Object.assign(err as Error, { at: performance.now() });
            }
          }
          agent.destroy();
          return { answers, error };
        };
        const clients = [
          hammer('/health', {}),
          hammer('/health', {}),
          hammer('/v1/auth/verify', { authorization: `Bearer ${login.json.token}` }),
          hammer('/v1/auth/verify', { authorization: `Bearer ${login.json.token}` }),
        ];
        // One slow request in flight: a login whose body is held open across the signal.
        const body = JSON.stringify({ username: 'drain@example.com', password: 'drain password' });
        const slow = send(`${srv.url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          body: body.slice(0, 10),
        });
        await new Promise((r) => setTimeout(r, 300));

        const killedAt = performance.now();
        srv.child.kill('SIGTERM');
        await srv.waitForLog((l) => /shutting down/.test(l.msg));
        const signalledAt = performance.now(); // the server is stopping (it said so)
        await new Promise((r) => setTimeout(r, 1000));
        slow.finish(body.slice(10));
        const last = await slow.answer;
        const { code, at: exitedAt } = await srv.exited;

        assert.equal(last.status, 200, last.body);
        assert.ok(JSON.parse(last.body).token, 'the in-flight login completed');
        assert.equal(last.connection, 'close');
        assert.equal(code, 0, srv.stderr());
        assert.ok(exitedAt - last.at < 1000, `exited ${Math.round(exitedAt - last.at)} ms after the last in-flight request`);
        assert.ok(
          exitedAt - signalledAt < SHUTDOWN_GRACE_MS / 2,
          `exited ${Math.round(exitedAt - signalledAt)} ms after the signal (grace ${SHUTDOWN_GRACE_MS} ms)`,
        );

        for (const { answers, error } of await Promise.all(clients)) {
          assert.ok(answers.filter((a) => a.at < signalledAt).length > 0, 'the client was served before the signal');
          for (const a of answers) assert.equal(a.status, 200, a.body);
          // Sent after the server started stopping: it said so, and its connection ended with it.
          const late = answers.filter((a) => a.sentAt > signalledAt);
          for (const a of late) assert.equal(a.connection, 'close', 'a response after the signal carries Connection: close');
          // At most the request in flight at the signal is answered after it: then the kept-alive connection is closed.
          assert.ok(
            answers.filter((a) => a.at > signalledAt).length <= 1,
            `${answers.filter((a) => a.at > signalledAt).length} answers on a kept-alive connection after the signal`,
          );
          assert.ok(error, 'the client was stopped by the closed connection, not by its loop bound');
          assert.ok(error.at! >= killedAt, `no connection error before the stop: ${error.message}`);
          assert.match(String(error.code), /ECONNREFUSED|ECONNRESET/, error.message);
        }
      } finally {
        if (srv.child.exitCode === null) srv.child.kill('SIGKILL');
        await dropPrefix(prefix);
      }
    },
  );
});

describe('a graceful stop (SIGTERM) while Redis does not answer', { skip: redisBinariesMissing() }, () => {
  it("waits one command timeout for Redis, then exits 0 anyway (not at the orchestrator's SIGKILL)", { timeout: 60_000 }, async () => {
    const { redis, url } = await startPrivateRedis();
    const TIMEOUT_MS = 1000;
    const srv = await startServerProcess({ REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) });
    try {
      redis.kill('SIGSTOP');
      // A request leaves a command waiting for its reply on the connection.
      const res = await http(`${srv.url}/v1/auth/login`, {
        method: 'POST',
        json: { username: 'frozen@example.com', password: 'frozen at stop' },
      });
      assert.equal(res.status, 503, res.text);
      const killedAt = performance.now();
      srv.child.kill('SIGTERM');
      const { code, at } = await srv.exited;
      assert.equal(code, 0, srv.stderr());
      assert.ok(at - killedAt < TIMEOUT_MS + 2000, `exited ${Math.round(at - killedAt)} ms after the signal`);
      assert.ok(srv.logs.some((l) => l.msg === 'stopped'));
    } finally {
      if (srv.child.exitCode === null) srv.child.kill('SIGKILL');
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
    }
  });
});
