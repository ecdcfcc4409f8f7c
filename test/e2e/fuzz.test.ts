import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Malformed input to every public endpoint, from a seeded generator (FUZZ_SEED to replay a run):
 * broken JSON, wrong types, huge strings, invalid UTF-8, odd headers, duplicate parameters, bad
 * Basic base64, truncated and tampered JWTs. Never a 5xx; the server stays up; what was stored
 * before is intact afterwards.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 900);

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: fetch refuses (or repairs) much of what an attacker sends. */
function raw(base: string, method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

describe(`fuzzing every public endpoint (FUZZ_SEED=${SEED}, ${ROUNDS} requests)`, () => {
  let srv: TestServer;
  const seeded: Record<string, string> = {};
  let endpoints: { method: string; path: string; fields: string[] }[] = [];
  let snapshot: () => Promise<unknown>;

  before(async () => {
    srv = await startTestServer({
      env: { TRUST_PROXY: '1', RATE_LIMIT_JWT: '100000/h', RATE_LIMIT_API_KEY: '100000/h', RATE_LIMIT_OAUTH: '100000/h' },
    });
    const s = srv.services;
    const admin = await s.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'correct horse', role: 'admin' });
    const customer = await s.accounts.create({
      actorType: 'customer',
      email: 'shopper@example.com',
      password: 'correct horse',
      firstName: 'Ada',
    });
    const secret = await s.apiKeys.create({ type: 'secret', title: 'backend', createdBy: admin.id, scopes: ['read', 'write'] });
    const publishable = await s.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: admin.id });
    const pair = (
      await http(`${srv.url}/v1/auth/login`, {
        method: 'POST',
        json: { username: 'admin@example.com', password: 'correct horse' },
        headers: { 'x-forwarded-for': '192.0.2.1' },
      })
    ).json;
    Object.assign(seeded, {
      adminId: admin.id,
      customerId: customer.id,
      secretKey: secret.token,
      secretId: secret.key.id,
      publishableKey: publishable.token,
      publishableId: publishable.key.id,
      jwt: pair.token,
      refresh: pair.refresh_token,
    });
    // The fuzzer's own valid credentials get it past the guards into validation; whatever they
    // legitimately change (log out, revoke its own key) is not the data checked afterwards.
    const fuzzer = await s.accounts.create({ actorType: 'user', email: 'fuzzer@example.com', password: 'correct horse', role: 'admin' });
    const fuzzerKey = await s.apiKeys.create({ type: 'secret', title: 'fuzzer', createdBy: fuzzer.id, scopes: ['read', 'write', 'admin'] });
    const fuzzerPair = (
      await http(`${srv.url}/v1/auth/login`, {
        method: 'POST',
        json: { username: 'fuzzer@example.com', password: 'correct horse' },
        headers: { 'x-forwarded-for': '192.0.2.2' },
      })
    ).json;
    Object.assign(seeded, { fuzzerJwt: fuzzerPair.token, fuzzerKey: fuzzerKey.token, fuzzerKeyId: fuzzerKey.key.id });
    snapshot = async () => ({
      admin: await s.accounts.get(admin.id),
      customer: await s.accounts.get(customer.id),
      secret: await s.apiKeys.get(secret.key.id),
      publishable: await s.apiKeys.get(publishable.key.id),
    });
    seeded.before = JSON.stringify(await snapshot());

    // Every operation the API describes, plus the OAuth and operator endpoints.
    type Schema = { $ref?: string; properties?: Record<string, unknown> };
    const doc = (await http(`${srv.url}/openapi.json`)).json as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
      components: { schemas: Record<string, Schema> };
    };
    const bodySchema = (s: Schema | undefined) => (s?.$ref ? doc.components.schemas[s.$ref.replace('#/components/schemas/', '')] : s);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const content = op.requestBody?.content;
        const props =
          bodySchema(content?.['application/json']?.schema ?? content?.['application/x-www-form-urlencoded']?.schema)?.properties ?? {};
        endpoints.push({
          method: method.toUpperCase(),
          path: path.replace(/\{[^}]+\}/g, () => seeded.fuzzerKeyId!),
          fields: Object.keys(props),
        });
      }
    }
    const discovery = (await http(`${srv.url}/.well-known/openid-configuration`)).json as Record<string, unknown> | undefined;
    const oauth = discovery
      ? Object.entries(discovery)
          .filter(([k, v]) => k.endsWith('_endpoint') && typeof v === 'string')
          .map(([, v]) => new URL(v as string).pathname)
      : [];
    for (const path of [...new Set([...oauth, '/oauth/token', '/oauth/authorize'])])
      endpoints.push(
        { method: 'POST', path, fields: ['grant_type', 'client_id', 'client_secret', 'code', 'refresh_token', 'token', 'redirect_uri'] },
        { method: 'GET', path, fields: [] },
      );
    for (const path of [
      '/health',
      '/ready',
      '/openapi.json',
      '/.well-known/jwks.json',
      '/.well-known/openid-configuration',
      '/oauth/interaction/nope',
      '/nope',
    ])
      endpoints.push({ method: 'GET', path, fields: [] });
    endpoints = endpoints.filter((e, i, all) => all.findIndex((o) => o.method === e.method && o.path === e.path) === i);
  });
  after(() => srv?.close());

  it('never answers 5xx to malformed input, and keeps its data', async () => {
    const r = prng(SEED);
    const jwt = seeded.jwt!;
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    const huge = (n: number) => 'A'.repeat(n);
    const garbageBytes = () => Buffer.from(Array.from({ length: 1 + r.int(64) }, () => r.int(256)));
    const jwtMutants = [
      () => jwt.slice(0, r.int(jwt.length)),
      () => jwt.split('.').slice(0, 2).join('.'),
      () => `${jwt}.${jwt.split('.')[1]}`,
      () => jwt.replace(/.(?=[^.]*$)/, (c) => (c === 'A' ? 'B' : 'A')),
      () => `${b64('{"alg":"none","typ":"JWT"}').replace(/=+$/, '')}.${jwt.split('.')[1]}.`,
      () => `${b64('{"alg":"HS256","typ":"at+jwt","kid":"../../etc/passwd"}').replace(/=+$/, '')}.${jwt.split('.')[1]}.AAAA`,
      () => 'eyJ.eyJ.eyJ',
      () => `${jwt.split('.')[0]}.${b64(garbageBytes())}.${jwt.split('.')[2]}`,
    ];
    const authorizations = [
      () => `Bearer ${r.pick(jwtMutants)()}`,
      () =>
        `Basic ${r.pick(['!!!', '====', '', 'c2tf', b64(garbageBytes()), b64('sk_:'), b64(`${seeded.secretKey!.slice(0, 20)}:`), b64(':'), 'sk_' + huge(40), `${b64('sk_x')}%%`])}`,
      () =>
        r.pick([
          'Bearer',
          'Bearer ',
          'Bearer  x',
          'Basic',
          'Digest abc',
          'bearer sk_nope',
          `Bearer ${huge(6000)}`,
          'Bearer \u00ff\u00fe',
          `Bearer ${seeded.publishableKey}`,
        ]),
      () => `Bearer ${seeded.fuzzerKey}`,
      () => `Basic ${b64(`${seeded.fuzzerKey}:`)}`,
      () => `Bearer ${seeded.fuzzerJwt}`,
    ];
    const values = [
      () => null,
      () => 42,
      () => -1e308,
      () => true,
      () => [],
      () => [1, [2]],
      () => ({ $gt: '' }),
      () => huge(20_000),
      () => '\u0000\ud800',
      () => 'a@b',
      () => '',
      () => ({ __proto__: { admin: true } }),
      () => 'x'.repeat(400) + '@example.com',
    ];
    const bodyOf = (fields: string[]) => {
      const obj: Record<string, unknown> = {};
      for (const f of [...fields, r.pick(['constructor', '__proto__', 'extra', 'role', 'actor_type'])])
        if (r.next() < 0.8) obj[f] = r.pick(values)();
      return obj;
    };
    const bodies: (() => { type?: string; body: Buffer })[] = [
      () => ({
        type: 'application/json',
        body: Buffer.from(
          r.pick([
            '{',
            '[',
            '{"email":',
            '{"a":1,}',
            'null',
            '"str"',
            '123',
            'true',
            '{"email":"a@b","password":"x"}garbage',
            '\ufeff{}',
            '{"__proto__":{"polluted":1}}',
          ]),
        ),
      }),
      () => ({ type: 'application/json', body: Buffer.from('['.repeat(5000) + ']'.repeat(5000)) }),
      () => ({
        type: 'application/json',
        body: Buffer.concat([Buffer.from('{"email":"'), garbageBytes(), Buffer.from('","password":"x"}')]),
      }),
      () => ({ type: 'application/json', body: Buffer.from(huge(150 * 1024)) }),
      () => ({
        type: r.pick([
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-16',
          'application/x-www-form-urlencoded; charset=latin1',
          '',
          'application/*',
          ';;;',
        ]),
        body: Buffer.from('{"email":"a@b.c","password":"p"}'),
      }),
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: Buffer.from(
          r.pick([
            'a=1&a=2',
            'email=%FF%FE&password=%',
            'grant_type=password&grant_type=client_credentials',
            '%%%=%%%',
            `client_id=${huge(9000)}`,
            'scope[]=x&scope[a]=y',
          ]),
        ),
      }),
      () => ({ type: undefined, body: garbageBytes() }),
    ];
    const queries = [
      '',
      '?scope=a&scope=b&scope=%FF',
      '?limit=1&limit=2&offset=-1',
      '?limit[a]=1&order=__proto__',
      '?token=%E0%A4%A',
      `?q=${huge(3000)}`,
      '?id=1&id=2&id[]=3',
      '?scope=' + encodeURIComponent('read\u0000write'),
      '?type=secret&type=publishable&revoked=maybe',
    ];
    const oddHeaders = (): Record<string, string | string[]> => {
      const h: Record<string, string | string[]> = {};
      if (r.next() < 0.3) h['x-publishable-api-key'] = r.pick([seeded.publishableKey!, 'pk_' + huge(100), '', 'sk_nope', '\u00ff']);
      if (r.next() < 0.2)
        h.cookie = r.pick([
          'connect.sid=%%%',
          'connect.sid=abc; connect.sid.sig=def',
          `connect.sid=${huge(3000)}`,
          'connect.sid=;;;;',
          '=',
        ]);
      if (r.next() < 0.2)
        h['x-forwarded-for'] = r.pick(['not-an-ip', '::ffff:999.1.1.1', '1.1.1.1, 2.2.2.2, garbage', '', '[::1]:80', huge(500)]);
      if (r.next() < 0.1) h['x-forwarded-method'] = r.pick(['DELETE', '\u00ff', huge(100)]);
      if (r.next() < 0.1) h.accept = r.pick(['*/*;q=abc', 'text/html', '']);
      if (r.next() < 0.1) h.origin = r.pick(['null', 'http://evil.example', huge(200)]);
      if (r.next() < 0.1) h['x-request-id'] = r.pick(['\u00ff\u00fe', huge(300), '../../']);
      // Repeated headers (Node keeps the first Authorization, joins the others) and an oversized one (431).
      if (r.next() < 0.1) h['x-publishable-api-key'] = [seeded.publishableKey!, 'pk_other'];
      if (r.next() < 0.05) h.cookie = ['connect.sid=a', 'connect.sid=b; connect.sid.sig=c'];
      if (r.next() < 0.02) h['x-padding'] = huge(20_000);
      return h;
    };

    const failures: string[] = [];
    const statusCounts = new Map<number, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const ep = r.pick(endpoints);
      const method = r.next() < 0.85 ? ep.method : r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
      const headers: Record<string, string | string[]> = { ...oddHeaders(), 'x-forwarded-for': `198.51.100.${i % 250}` };
      if (r.next() < 0.6)
        headers.authorization = r.next() < 0.1 ? [r.pick(authorizations)(), r.pick(authorizations)()] : r.pick(authorizations)();
      let body: Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD' && r.next() < 0.9) {
        const made = r.next() < 0.5 ? { type: 'application/json', body: Buffer.from(JSON.stringify(bodyOf(ep.fields))) } : r.pick(bodies)();
        body = made.body;
        if (made.type) headers['content-type'] = made.type;
      }
      const path = ep.path + r.pick(queries);
      let res: RawResponse;
      try {
        res = await raw(srv.origin, method, path, headers, body);
      } catch (err) {
        // The server may hang up on a request Node's parser refuses; the next ones must still be served.
        failures.push(`#${i} ${method} ${path}: connection error ${(err as Error).message}`);
        continue;
      }
      statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
      if (res.status >= 500)
        failures.push(
          `#${i} ${method} ${path} (auth: ${String(headers.authorization).slice(0, 40)}, type: ${headers['content-type']}) -> ${res.status} ${res.body.slice(0, 200)}`,
        );
    }
    if (process.env.FUZZ_VERBOSE) console.log([...statusCounts].sort((a, b) => a[0] - b[0]));
    assert.deepEqual(failures, [], `FUZZ_SEED=${SEED}`);

    // Still up, and nothing stored before has changed.
    assert.equal((await http(`${srv.origin}/health`)).status, 200);
    assert.equal(JSON.stringify(await snapshot()), seeded.before);
    const verify = await http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${seeded.jwt}` } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.user_id, seeded.adminId);
    assert.equal((await http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${seeded.secretKey}` } })).status, 200);
    const login = await http(`${srv.origin}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'admin@example.com', password: 'correct horse' },
      headers: { 'x-forwarded-for': '192.0.2.200' },
    });
    assert.equal(login.status, 200);
    const customer = await http(`${srv.origin}/store/auth/token`, {
      method: 'POST',
      json: { email: 'shopper@example.com', password: 'correct horse' },
      headers: { 'x-forwarded-for': '192.0.2.201', 'x-publishable-api-key': seeded.publishableKey! },
    });
    assert.equal(customer.status, 200);
  });

  it('answers methods no route has (TRACE, PROPFIND, WebDAV...) with 405 and Allow, or 404, never a 5xx, on every surface', async () => {
    const failures: string[] = [];
    const paths = [...new Set(endpoints.map((e) => e.path))];
    for (const path of paths) {
      for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'PURGE', 'SEARCH']) {
        // With valid credentials, so the guards let the request reach the routers.
        const headers = { authorization: `Bearer ${seeded.fuzzerJwt}`, 'x-publishable-api-key': seeded.publishableKey! };
        const res = await raw(srv.origin, method, path, headers);
        if (res.status >= 500) failures.push(`${method} ${path} -> ${res.status} ${res.body.slice(0, 120)}`);
        else if (res.status === 405 && !res.headers.allow) failures.push(`${method} ${path} -> 405 without Allow`);
      }
    }
    assert.deepEqual(failures, []);
    const session = await raw(srv.origin, 'TRACE', '/auth/session', {});
    assert.deepEqual([session.status, session.headers.allow, JSON.parse(session.body).type], [405, 'POST, DELETE', 'not_allowed']);
    const verify = await raw(srv.origin, 'PROPFIND', '/v1/auth/verify', {});
    assert.equal(verify.status, 405);
    assert.equal(JSON.parse(verify.body).error, 'method_not_allowed');
    const token = await raw(srv.origin, 'TRACE', '/oauth/token', {});
    assert.ok(token.status === 404 || token.status === 405, `${token.status}`);
    assert.ok(JSON.parse(token.body).error);
  });

  it('answers a malformed Host (or trusted X-Forwarded-Host) with 400 on every surface, discovery included', async () => {
    const failures: string[] = [];
    const badHosts = ['exa mple.com', 'a:b:c', '[::1', 'x/y', '%%', 'host:99999', 'a@b@c', '..', 'host:'];
    const paths = [...new Set([...endpoints.map((e) => e.path), '/.well-known/oauth-authorization-server'])];
    for (const path of paths) {
      for (const host of badHosts) {
        const res = await raw(srv.origin, 'GET', path, { host });
        if (res.status !== 400) failures.push(`Host ${JSON.stringify(host)} GET ${path} -> ${res.status} ${res.body.slice(0, 120)}`);
      }
      const forwarded = await raw(srv.origin, 'GET', path, { 'x-forwarded-host': 'evil example' });
      if (forwarded.status !== 400) failures.push(`X-Forwarded-Host GET ${path} -> ${forwarded.status}`);
    }
    assert.deepEqual(failures, []);
    // An empty Host (node:http would fill it in): HTTP/1.1 requires one; HTTP/1.0 may go without.
    const url = new URL(srv.origin);
    const bare = async (version: string) => {
      const socket = connect(Number(url.port), url.hostname);
      socket.end(`GET /.well-known/openid-configuration HTTP/${version}\r\nHost: \r\nConnection: close\r\n\r\n`);
      let text = '';
      for await (const chunk of socket) text += chunk;
      return Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1]);
    };
    assert.equal(await bare('1.1'), 400);
    assert.ok((await bare('1.0')) < 500);
    const discovery = await raw(srv.origin, 'GET', '/.well-known/openid-configuration', { host: 'a:b:c' });
    assert.equal(JSON.parse(discovery.body).error, 'invalid_request');
    for (const host of ['127.0.0.1', 'auth.example.com:443', 'auth.example.com.', '[::1]:9000', 'portcullis_internal:9000']) {
      assert.equal((await raw(srv.origin, 'GET', '/.well-known/openid-configuration', { host })).status, 200, host);
    }
  });
});

describe('a client that hangs up mid-body', () => {
  let srv: TestServer;
  const lines: Record<string, any>[] = [];
  before(async () => {
    const sink = new Writable({
      write: (chunk, _enc, done) => (
        lines.push(
          ...String(chunk)
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ),
        done()
      ),
    });
    srv = await startTestServer({ env: { LOG_LEVEL: 'debug' }, logDestination: sink });
  });
  after(() => srv?.close());

  /** Announce a 1000-byte body, send a few bytes of it, then close the connection. */
  const abortMidBody = (path: string, type: string, headers = '') =>
    new Promise<void>((resolve, reject) => {
      const url = new URL(srv.origin);
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${type}\r\nContent-Length: 1000\r\n${headers}\r\n{"grant_type":`,
        );
        setTimeout(() => (socket.destroy(), resolve()), 200);
      });
      socket.on('error', reject);
    });

  it('is logged once at info as a 499, not as an error, and counted apart from 5xx in /metrics', async () => {
    const publishable = await srv.services.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: 'user_test' });
    const ours: [string, string, string?][] = [
      ['/v1/auth/login', 'application/json'],
      ['/auth/user/emailpass', 'application/json'],
      ['/admin/auth/token', 'application/json'],
      ['/store/auth/token', 'application/json', `x-publishable-api-key: ${publishable.token}\r\n`],
      ['/oauth/token', 'application/json'],
    ];
    for (const [path, type, headers] of ours) await abortMidBody(path, type, headers);
    // oidc-provider reads its own form bodies: whatever it answers, not a 5xx.
    await abortMidBody('/oauth/token', 'application/x-www-form-urlencoded');
    const deadline = Date.now() + 5000;
    while (lines.filter((l) => l.msg === 'request').length < ours.length + 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));

    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, ours.length + 1, JSON.stringify(requests));
    for (const [path] of ours)
      assert.ok(
        requests.some((l) => l.path === path && l.status === 499 && l.level === 'info'),
        `${path}: ${JSON.stringify(requests)}`,
      );
    assert.deepEqual(
      lines.filter((l) => l.level === 'error' || l.level === 'fatal'),
      [],
      'no error-level line',
    );
    assert.ok(requests.every((l) => l.status < 500));

    const metrics = (await http(`${srv.origin}/metrics`)).text.split('\n').filter((l) => l.startsWith('portcullis_http_requests_total{'));
    assert.deepEqual(
      metrics.filter((l) => /status="5\d\d"/.test(l)),
      [],
    );
    const aborted = metrics.filter((l) => l.includes('status="499"')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    assert.equal(aborted, ours.length);
  });
});
