import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/** /v1/auth/verify as gateways call it (without a gateway: see forward-auth-nginx.test.ts for nginx itself). */
describe('/v1/auth/verify for gateways', () => {
  let srv: TestServer;
  let jwt: string;
  let userId: string;
  let keyToken: string;
  let keyId: string;
  before(async () => {
    srv = await startTestServer();
    userId = (
      await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'correct horse', role: 'developer' })
    ).id;
    jwt = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'dev@example.com', password: 'correct horse' } }))
      .json.token;
    const key = await srv.services.apiKeys.create({ type: 'secret', title: 'svc', createdBy: userId, scopes: ['read'] });
    keyToken = key.token;
    keyId = key.key.id;
  });
  after(() => srv?.close());

  const verify = (query: string, headers: Record<string, string>, method = 'GET') =>
    http(`${srv.url}/v1/auth/verify${query}`, { method, headers });

  it('requires every scope named, repeated or space-separated', async () => {
    const auth = { authorization: `Bearer ${jwt}` };
    assert.equal((await verify('?scope=read', auth)).status, 200);
    assert.equal((await verify('?scope=read&scope=write', auth)).status, 200);
    assert.equal((await verify('?scope=read%20write', auth)).status, 200);
    assert.equal((await verify('?scope=read+write', auth)).status, 200);
    const refused = await verify('?scope=read&scope=write%20admin&scope=billing', auth);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error, 'insufficient_scope');
    assert.equal(refused.json.code, 403);
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer realm="portcullis", error="insufficient_scope", scope="admin billing", error_description="${refused.json.message}"`,
    );
    assert.equal(refused.headers.get('x-auth-user-id'), null, 'no identity headers on a refusal');
    assert.equal(refused.headers.get('ratelimit-limit'), '2000', 'the refused check still spent quota');
  });

  it('answers 200 with the identity headers a gateway copies upstream', async () => {
    const user = await verify('', { authorization: `Bearer ${jwt}` });
    assert.equal(user.headers.get('x-auth-user-id'), userId);
    assert.equal(user.headers.get('x-auth-actor-type'), 'user');
    assert.equal(user.headers.get('x-auth-scopes'), 'read write');
    assert.equal(user.headers.get('x-auth-method'), 'jwt');
    assert.equal(user.headers.get('x-auth-role'), 'developer');
    assert.equal(user.headers.get('x-auth-key-id'), null);
    const key = await verify('', { authorization: `Basic ${Buffer.from(`${keyToken}:`).toString('base64')}` });
    assert.equal(key.status, 200);
    assert.equal(key.headers.get('x-auth-key-id'), keyId);
    assert.equal(key.headers.get('x-auth-method'), 'api_key');
    assert.equal(key.headers.get('x-auth-scopes'), 'read');
    assert.equal(key.headers.get('ratelimit-policy'), '1000;w=3600');
  });

  it('answers whatever method the gateway asks with, OPTIONS and HEAD included', async () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const ok = await verify('', { authorization: `Bearer ${jwt}` }, method);
      assert.equal(ok.status, 200, method);
      assert.equal(ok.headers.get('x-auth-user-id'), userId, method);
      assert.equal((await verify('', {}, method)).status, 401, `${method} without a credential`);
    }
  });

  it('challenges with RFC 6750 WWW-Authenticate on 401', async () => {
    const none = await verify('', {});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="portcullis"');
    for (const authorization of [`Bearer ${jwt.slice(0, -4)}`, 'Bearer sk_unknown', 'Basic !!!', 'Token abc']) {
      const bad = await verify('', { authorization });
      assert.equal(bad.status, 401, authorization);
      assert.match(
        bad.headers.get('www-authenticate') ?? '',
        /^Bearer realm="portcullis", error="invalid_token", error_description="[^"]*"$/,
        authorization,
      );
      assert.equal(bad.json.error, 'invalid_token');
    }
  });

  it('reads the forwarded request only as context: its method and URI change nothing', async () => {
    const res = await verify('', {
      authorization: `Bearer ${jwt}`,
      'x-forwarded-method': 'DELETE',
      'x-forwarded-uri': '/orders/1?token=secret',
      'x-forwarded-host': 'api.example.com',
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.user_id, userId);
  });
});
