import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { deadline } from '../../src/http/deadline.ts';
import { createLogger } from '../../src/logger.ts';
import { listen } from '../../src/server.ts';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

describe('hardening', () => {
  let srv: TestServer;
  let pk: string;
  before(async () => {
    srv = await startTestServer({ env: { BODY_LIMIT: '2048' } });
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'admin@example.com',
      password: 'correct horse',
      role: 'admin',
    });
    await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'correct horse' });
    pk = (await srv.services.apiKeys.create({ type: 'publishable', title: 'web', createdBy: admin.id })).token;
  });
  after(() => srv?.close());

  const noStore = (res: { headers: Headers }, what: string) => {
    assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: Cache-Control`);
    assert.equal(res.headers.get('pragma'), 'no-cache', `${what}: Pragma`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  };

  it('never lets a cache keep a response that carries a token', async () => {
    const login = await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'admin@example.com', password: 'correct horse' },
    });
    noStore(login, '/v1/auth/login');
    noStore(
      await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: login.json.refresh_token } }),
      '/v1/auth/refresh',
    );
    noStore(await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${login.json.token}` } }), '/v1/auth/verify');
    noStore(
      await http(`${srv.url}/admin/auth/token`, { method: 'POST', json: { email: 'admin@example.com', password: 'correct horse' } }),
      '/admin/auth/token',
    );
    noStore(
      await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: { email: 'admin@example.com', password: 'correct horse' } }),
      '/auth/user/emailpass',
    );
    noStore(
      await http(`${srv.url}/store/auth/token`, {
        method: 'POST',
        headers: { 'x-publishable-api-key': pk },
        json: { email: 'shopper@example.com', password: 'correct horse' },
      }),
      '/store/auth/token',
    );
    const { client, secret } = await srv.services.oauthClients.create({
      name: 'job',
      grantTypes: ['client_credentials'],
      scopes: ['read'],
    });
    const oauth = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret!)}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=read',
    });
    assert.equal(oauth.status, 200);
    noStore(oauth, '/oauth/token');
    // Public, cacheable documents opt out explicitly.
    assert.match((await http(`${srv.url}/.well-known/jwks.json`)).headers.get('cache-control') ?? '', /max-age/);
  });

  it('refuses to be framed on HTML pages', async () => {
    const page = await fetch(`${srv.url}/oauth/interaction/unknown-uid`, { redirect: 'manual' });
    assert.match(page.headers.get('content-type') ?? '', /html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
  });

  for (const [surface, path, dialect] of [
    ['/v1', '/v1/auth/login', 'v1'],
    ['/admin', '/admin/auth/token', 'medusa'],
    ['/auth', '/auth/user/emailpass', 'medusa'],
  ] as const) {
    it(`${surface}: oversized, unparsable, wrongly typed and non-UTF-8 bodies get 413/400/415 in the surface's dialect`, async () => {
      const send = (body: string | Buffer, type?: string) =>
        http(`${srv.url}${path}`, {
          method: 'POST',
          body: typeof body === 'string' ? body : new Uint8Array(body),
          headers: type ? { 'content-type': type } : {},
        });
      const cases = [
        { res: await send(JSON.stringify({ email: 'x'.repeat(4000), password: 'p' }), 'application/json'), status: 413 },
        { res: await send('{"email":', 'application/json'), status: 400 },
        { res: await send('{"email":"a@b.c","password":"p"}', 'text/plain'), status: 415 },
        { res: await send('{"email":"a@b.c","password":"p"}', 'application/json; charset=utf-16'), status: 415 },
        { res: await send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json'), status: 400 },
      ];
      for (const { res, status } of cases) {
        assert.equal(res.status, status, res.text);
        if (dialect === 'v1') assert.deepEqual(Object.keys(res.json).sort(), ['code', 'error', 'message', 'timestamp']);
        else assert.deepEqual(Object.keys(res.json).sort(), ['message', 'type']);
      }
    });
  }

  it('answers 503 in the surface dialect when a request outlives the deadline', async () => {
    const app = new Koa();
    app.use(deadline(50, createLogger('silent')));
    app.use(async (ctx) => {
      await new Promise((r) => setTimeout(r, 300));
      ctx.body = { late: true };
    });
    const running = await listen(app, 0, '127.0.0.1');
    try {
      const v1 = await http(`${running.url}/v1/auth/verify`);
      assert.equal(v1.status, 503);
      assert.equal(v1.json.error, 'service_unavailable');
      assert.equal(v1.headers.get('retry-after'), '1');
      const medusa = await http(`${running.url}/admin/users`);
      assert.equal(medusa.status, 503);
      assert.deepEqual(Object.keys(medusa.json).sort(), ['message', 'type']);
    } finally {
      await running.close(500);
    }
  });
});
