import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';

for (const storeKind of ['redis', 'memory'] as const) {
  describe(`/health, /ready and the JWKS (${storeKind} store)`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer({ store: storeKind });
    });
    after(() => srv.close());

    it('/health answers 200 while the process lives', async () => {
      const res = await http(`${srv.url}/health`);
      assert.equal(res.status, 200);
      assert.equal(res.json.status, 'ok');
    });

    it('/ready answers 200 when the store answers', async () => {
      const res = await http(`${srv.url}/ready`);
      assert.equal(res.status, 200);
      assert.equal(res.json.store, storeKind);
    });

    it('/.well-known/jwks.json serves public RS256 and ES256 keys only', async () => {
      const res = await http(`${srv.url}/.well-known/jwks.json`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /json/);
      assert.deepEqual(res.json.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
      for (const k of res.json.keys) {
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(secret in k), `public key without "${secret}"`);
        assert.ok(k.kid);
      }
    });
  });
}

describe('a storm of /ready probes', () => {
  let srv: TestServer;
  let monitor: ReturnType<typeof createClient>;
  const lines: string[] = [];
  before(async () => {
    srv = await startTestServer();
    monitor = createClient({ url: REDIS_URL });
    await monitor.connect();
    await monitor.monitor((line: string) => void lines.push(line));
  });
  after(async () => {
    await monitor?.close();
    await srv?.close();
  });

  /** The MONITOR lines of this server's own connection (PING names no key: found by its address). */
  async function commandsOfServer(): Promise<string[]> {
    const marker = `marker:${Math.random()}`;
    await srv.store.get(marker);
    const until = Date.now() + 5000;
    let line: string | undefined;
    while (!(line = lines.find((l) => l.includes(srv.prefix + marker))) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const address = /\[\d+ ([^\]]+)\]/.exec(line!)![1]!;
    // (Without the signing keys' background poll, which runs whether or not anyone probes.)
    return lines.filter((l) => l.includes(` ${address}]`) && !l.includes(marker) && !l.includes(`${srv.prefix}signing-keys`));
  }

  it('costs Redis at most a couple of commands: one check at a time, its answer reused for a second', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past any answer cached at start
    lines.length = 0;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => http(`${srv.url}/ready`)));
    const seconds = Math.ceil((Date.now() - started) / 1000);
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
    const commands = await commandsOfServer();
    // One check per second the storm lasted (plus one at a boundary): on a loaded machine the 200 probes can take
    // several seconds, and each second may check once; a check per probe would be far more.
    assert.ok(
      commands.length >= 1 && commands.length <= seconds + 1,
      `${commands.length} commands for 200 probes in ${seconds} s:\n${commands.join('\n')}`,
    );
  });
});

describe('when Redis goes away', () => {
  let srv: TestServer;
  let token: string;
  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'ops@example.com', password: 'correct horse', role: 'member' });
    token = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'ops@example.com', password: 'correct horse' } }))
      .json.token;
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await srv.store.close();
  });
  after(() => srv.close());

  it('/ready answers 503 and /health still 200', async () => {
    const ready = await http(`${srv.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.json.status, 'unavailable');
    assert.equal((await http(`${srv.url}/health`)).status, 200);
  });

  it('verify fails closed with 503 (revocation cannot be checked), even for a token it verified before', async () => {
    const res = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 503);
    assert.equal(res.json.code, 503);
    assert.equal(typeof res.json.error, 'string');
  });

  it('login answers 503 in the v1 body, not 500', async () => {
    const res = await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'ops@example.com', password: 'correct horse' },
    });
    assert.equal(res.status, 503);
    assert.equal(res.json.code, 503);
  });
});

describe('logs', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { LOG_LEVEL: 'trace' }, logDestination: sink });
    await srv.services.accounts.create({
      actorType: 'user',
      email: 'logged@example.com',
      password: 'correct horse battery',
      role: 'admin',
    });
  });
  after(() => srv.close());

  it('never contain a password, a token, a refresh token or an Authorization header, but do log each request with an id', async () => {
    const secrets: string[] = ['correct horse battery', 'wrong horse battery'];
    await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'logged@example.com', password: 'wrong horse battery' } });
    const login = await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'logged@example.com', password: 'correct horse battery' },
    });
    assert.equal(login.status, 200);
    secrets.push(login.json.token, login.json.refresh_token);
    const auth = {
      authorization: `Bearer ${login.json.token}`,
      cookie: 'connect.sid=s%3Asecret-cookie-value',
      'x-request-id': 'trace-me-123',
    };
    secrets.push('secret-cookie-value');
    assert.equal((await http(`${srv.url}/v1/auth/verify?access_token=${login.json.token}`, { headers: auth })).status, 200);
    await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${login.json.token}x` } });
    await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Basic ${Buffer.from('sk_nosuchkey123:').toString('base64')}` } });
    secrets.push('sk_nosuchkey123');
    const refreshed = await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: login.json.refresh_token } });
    assert.equal(refreshed.status, 200);
    secrets.push(refreshed.json.token, refreshed.json.refresh_token);
    await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: login.json.refresh_token } }); // reuse: revokes
    await http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${refreshed.json.token}` } });
    await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      body: '{"username": "logged@example.com", "password": "correct horse battery"',
      headers: { 'content-type': 'application/json' },
    });
    await new Promise((r) => setImmediate(r));

    const text = lines.join('\n');
    assert.ok(lines.length >= 8, `request lines were logged (${lines.length})`);
    for (const line of lines) JSON.parse(line); // JSON lines
    assert.ok(
      lines.some((l) => l.includes('"reqId":"trace-me-123"') && l.includes('/v1/auth/verify')),
      'a sane X-Request-Id is kept as the request id',
    );
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 12)}…`);
      // The signature part alone is what makes a JWT usable.
      if (secret.split('.').length === 3) assert.ok(!text.includes(secret.split('.')[2]));
    }
    assert.ok(!/"authorization"\s*:\s*"(Bearer|Basic)/i.test(text), 'no raw authorization header');
    assert.ok(!/access_token=/.test(text), 'no query string with credentials');
  });
});
