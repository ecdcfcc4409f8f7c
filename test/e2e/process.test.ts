import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { dropPrefix, freePort, http, privatePrefix, REDIS_URL, redisBinariesMissing } from '../helpers/harness.ts';
import { spawnServerProcess, startServerProcess as startServer } from '../helpers/server-process.ts';

/** A POST whose body arrives in two parts, so the request is in flight while we act. */
function slowPost(url: string, body: string) {
  const half = Math.floor(body.length / 2);
  let sendRest!: () => void;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, half));
    sendRest = () => req.end(body.slice(half));
  });
  return { response, sendRest: () => sendRest() };
}

for (const storeKind of ['memory', 'redis'] as const) {
  describe(`the server process (npm start) with the ${storeKind} store`, () => {
    it('creates the bootstrap admin, serves it, and on SIGTERM finishes the in-flight request, refuses new ones and exits 0', async () => {
      const prefix = privatePrefix('process');
      const env: Record<string, string> = {
        BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
        BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap password',
        ...(storeKind === 'redis' ? { REDIS_URL, REDIS_PREFIX: prefix } : {}),
      };
      const srv = await startServer(env);
      try {
        const warned = srv.logs.some((l) => l.level === 'warn' && /embedded store/.test(l.msg));
        assert.equal(warned, storeKind === 'memory', 'the embedded store warns that data lives in this process only');
        assert.ok(srv.logs.some((l) => l.msg === 'bootstrap admin created'));
        const started = await srv.waitForLog((l) => l.msg === 'system.started');
        assert.equal(started.audit.type, 'system.started');
        assert.ok(JSON.parse(started.audit.data).signing_keys.length >= 1, 'the audit trail names the signing keys loaded');

        const login = await http(`${srv.url}/v1/auth/login`, {
          method: 'POST',
          json: { username: 'root@example.com', password: 'bootstrap password' },
        });
        assert.equal(login.status, 200);
        const verify = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${login.json.token}` } });
        assert.equal(verify.status, 200);
        assert.ok(verify.json.scopes.includes('admin'));
        assert.equal((await http(`${srv.url}/ready`)).json.store, storeKind);

        const inflight = slowPost(
          `${srv.url}/v1/auth/login`,
          JSON.stringify({ username: 'root@example.com', password: 'bootstrap password' }),
        );
        await new Promise((r) => setTimeout(r, 100));
        srv.child.kill('SIGTERM');
        await srv.waitForLog((l) => /shutting down/.test(l.msg));
        await assert.rejects(fetch(`${srv.url}/health`), 'no new connection is accepted once stopping');
        inflight.sendRest();
        const finished = await inflight.response;
        assert.equal(finished.status, 200, finished.body);
        assert.ok(JSON.parse(finished.body).token);
        assert.equal((await srv.exited).code, 0, srv.stderr());
        assert.ok(srv.logs.some((l) => l.msg === 'stopped'));
        for (const secret of ['bootstrap password', login.json.token, login.json.refresh_token])
          assert.ok(!srv.stdout().includes(secret) && !srv.stderr().includes(secret));
      } finally {
        if (srv.child.exitCode === null) srv.child.kill('SIGKILL');
        if (storeKind === 'redis') await dropPrefix(prefix);
      }
    });
  });
}

describe('the server process refuses bad configuration', () => {
  const refusal = async (env: Record<string, string>) => {
    const p = spawnServerProcess(env);
    const { code } = await p.exited;
    return { code, stderr: p.stderr() };
  };

  it('names the bad variable and exits 78 (EX_CONFIG)', async () => {
    const [port, ttl] = await Promise.all([refusal({ PORT: 'abc' }), refusal({ ACCESS_TOKEN_TTL: '-1' })]);
    assert.equal(port.code, 78);
    assert.match(port.stderr, /PORT/);
    assert.equal(ttl.code, 78);
    assert.match(ttl.stderr, /ACCESS_TOKEN_TTL/);
  });

  it('says what is wrong in one plain line on stderr (the variable and what it accepts, never a JSON log line, never the secret), exit 78', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'abc' }, /^portcullis: PORT: expected a port number, a whole number from 0 to 65535$/],
      [{ LOG_LEVEL: 'loud' }, /^portcullis: LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent$/],
      [
        { REDIS_COMMAND_TIMEOUT_MS: '10' },
        /^portcullis: REDIS_COMMAND_TIMEOUT_MS: expected milliseconds, a whole number from 50 to 60000$/,
      ],
      [{ COOKIE_SECRET: 'too-short-secret-value' }, /^portcullis: COOKIE_SECRET: expected at least 32 characters/],
      [
        { NODE_ENV: 'production' },
        /^portcullis: NODE_ENV=production refuses to start without KEY_ENCRYPTION_KEY \(or SIGNING_KEYS=static with JWKS or JWKS_FILE\), COOKIE_SECRET, API_KEY_PEPPER, REDIS_URL/,
      ],
      // Found by the server after start-up before (exit 1, after JSON log lines): now by the configuration.
      [{ RATE_LIMIT_JWT: 'lots' }, /^portcullis: RATE_LIMIT_JWT: expected N\/s, N\/m, N\/h or N\/d/],
      [{ JWKS: '{"keys":[{"kid":"k1","kty":"oct","k":"c2VjcmV0","d":"x"}]}' }, /^portcullis: JWKS: .*expected private RSA \(RS256\)/],
      [{ PUBLIC_URL: 'ftp://auth.example.com' }, /^portcullis: PUBLIC_URL: expected an http\(s\) URL/],
      [{ BRAND_PRIMARY_COLOR: '#7b9cff' }, /^portcullis: BRAND_PRIMARY_COLOR: #7b9cff has a contrast of 2\.61:1 .*WCAG AA needs 4\.5:1/],
    ];
    const results = await Promise.all(
      cases.map(async ([env]) => {
        const p = spawnServerProcess(env);
        return { code: (await p.exited).code, stdout: p.stdout(), stderr: p.stderr() };
      }),
    );
    cases.forEach(([env, expected], i) => {
      const { code, stdout, stderr } = results[i]!;
      const what = JSON.stringify(env);
      assert.equal(code, 78, `${what}: ${stderr}`);
      assert.equal(stdout, '', `${what}: no log line`);
      assert.ok(stderr.endsWith('\n') && stderr.split('\n').length === 2, `${what}: one line: ${JSON.stringify(stderr)}`);
      assert.match(stderr.trimEnd(), expected);
      assert.ok(!stderr.includes('{"'), `${what}: not JSON`);
    });
    assert.ok(!results[3]!.stderr.includes('too-short-secret-value'), 'the secret is not echoed');
  });

  it('NODE_ENV=production will not start without keys, secrets and Redis', async () => {
    const res = await refusal({ NODE_ENV: 'production' });
    assert.equal(res.code, 78);
    for (const name of ['KEY_ENCRYPTION_KEY', 'COOKIE_SECRET', 'API_KEY_PEPPER', 'REDIS_URL']) assert.match(res.stderr, new RegExp(name));
  });
});

describe('the server process when Redis is down at start', { skip: redisBinariesMissing() }, () => {
  it('starts anyway, answers 503 (and /ready 503) meanwhile, and serves once Redis comes up', async () => {
    const port = await freePort();
    const srv = await startServer({
      REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
      BOOTSTRAP_ADMIN_EMAIL: 'late@example.com',
      BOOTSTRAP_ADMIN_PASSWORD: 'late admin pw',
    });
    let redis: ChildProcessWithoutNullStreams | undefined;
    try {
      assert.equal((await http(`${srv.url}/health`)).status, 200);
      const ready = await http(`${srv.url}/ready`);
      assert.equal(ready.status, 503);
      assert.equal(ready.json.status, 'unavailable');
      const login = await http(`${srv.url}/v1/auth/login`, {
        method: 'POST',
        json: { username: 'late@example.com', password: 'late admin pw' },
      });
      assert.equal(login.status, 503);
      assert.equal(login.json.code, 503);
      assert.equal(login.headers.get('retry-after'), '1');
      assert.ok(
        srv.logs.some((l) => l.msg === 'redis connection error' && l.redis === `redis://:***@127.0.0.1:${port}`),
        'says which Redis it cannot reach, without the password',
      );
      assert.ok(!srv.stdout().includes('hunter2'));

      redis = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'hunter2'],
        { stdio: 'pipe' },
      );
      const deadline = Date.now() + 20_000;
      let served = 0;
      while (served !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        served = (
          await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'late@example.com', password: 'late admin pw' } })
        ).status;
      }
      assert.equal(served, 200, 'the bootstrap admin was created once Redis answered, and logs in');
      assert.equal((await http(`${srv.url}/ready`)).status, 200);
    } finally {
      srv.child.kill('SIGKILL');
      redis?.kill('SIGKILL');
    }
  });
});
