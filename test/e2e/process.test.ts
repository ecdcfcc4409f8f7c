import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { dropPrefix, freePort, http, privatePrefix, REDIS_URL, redisBinariesMissing } from '../helpers/harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface RunningProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** JSON log lines so far. */
  logs: Record<string, any>[];
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  waitForLog(predicate: (line: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of [
    'REDIS_URL',
    'REDIS_PREFIX',
    'NODE_ENV',
    'PORT',
    'PUBLIC_URL',
    'JWKS',
    'JWKS_FILE',
    'COOKIE_SECRET',
    'API_KEY_PEPPER',
    'BOOTSTRAP_ADMIN_EMAIL',
    'BOOTSTRAP_ADMIN_PASSWORD',
  ])
    delete clean[name];
  return { ...clean, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DEV_SECRETS_FILE: '.portcullis/test-secrets.json', ...env };
}

/** `npm start`, as its script runs it: node --import tsx src/main.ts. */
function spawnServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: baseEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logs: Record<string, any>[] = [];
  const waiters: { predicate: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    const lines = out.split('\n');
    for (const raw of lines.slice(logs.length, -1)) {
      const line = JSON.parse(raw);
      logs.push(line);
      for (const w of [...waiters]) {
        if (!w.predicate(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLog = (predicate: (l: Record<string, any>) => boolean) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      waiters.push({ predicate, resolve });
      void exited.then((code) => reject(new Error(`server exited (${code}) before the expected log line; stderr: ${err}`)));
    });
  return { child, logs, stdout: () => out, stderr: () => err, exited, waitForLog };
}

async function startServer(env: Record<string, string>): Promise<RunningProcess> {
  const p = spawnServer(env);
  const listening = await p.waitForLog((l) => l.msg === 'portcullis listening');
  return { ...p, url: listening.url.replace('localhost', '127.0.0.1') };
}

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
        assert.equal(await srv.exited, 0, srv.stderr());
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
    const p = spawnServer(env);
    const code = await p.exited;
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
        /^portcullis: NODE_ENV=production refuses to start without JWKS or JWKS_FILE, COOKIE_SECRET, API_KEY_PEPPER, REDIS_URL/,
      ],
      // Found by the server after start-up before (exit 1, after JSON log lines): now by the configuration.
      [{ RATE_LIMIT_JWT: 'lots' }, /^portcullis: RATE_LIMIT_JWT: expected N\/s, N\/m, N\/h or N\/d/],
      [{ JWKS: '{"keys":[{"kid":"k1","kty":"oct","k":"c2VjcmV0","d":"x"}]}' }, /^portcullis: JWKS: .*expected private RSA \(RS256\)/],
      [{ PUBLIC_URL: 'ftp://auth.example.com' }, /^portcullis: PUBLIC_URL: expected an http\(s\) URL/],
    ];
    const results = await Promise.all(
      cases.map(async ([env]) => {
        const p = spawnServer(env);
        return { code: await p.exited, stdout: p.stdout(), stderr: p.stderr() };
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
    for (const name of ['JWKS', 'COOKIE_SECRET', 'API_KEY_PEPPER', 'REDIS_URL']) assert.match(res.stderr, new RegExp(name));
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
