import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

for (const storeKind of ['redis', 'memory'] as const) {
  describe(`/v1/auth against the ${storeKind} store`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startTestServer({ store: storeKind });
      await srv.services.accounts.create({ actorType: 'user', email: 'Dev@Example.com', password: 'correct horse', role: 'developer' });
    });
    after(() => srv.close());

    const login = (username: string, password: string) =>
      http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password } });

    it('logs in with a case-insensitive email and answers the documented shape', async () => {
      const res = await login('dev@example.COM', 'correct horse');
      assert.equal(res.status, 200);
      assert.equal(res.json.token_type, 'Bearer');
      assert.equal(res.json.expires_in, 3600);
      assert.ok(Date.parse(res.json.expires_at) > Date.now());
      assert.match(res.json.refresh_token, /^rt_/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });

    it('issues JWTs a microservice verifies with the remote JWKS alone', async () => {
      const { json } = await login('dev@example.com', 'correct horse');
      const jwks = createRemoteJWKSet(new URL(`${srv.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(json.token, jwks, { issuer: srv.config.issuer, audience: srv.config.audience });
      assert.match(payload.sub!, /^user_[0-9A-Z]{26}$/);
      assert.equal(payload.scope, 'read write');
      assert.equal(payload.actor_type, 'user');
      assert.ok(payload.jti && payload.iat && payload.exp);
    });

    it('refuses a wrong password and an unknown user with the same 401', async () => {
      const wrong = await login('dev@example.com', 'nope');
      const unknown = await login('ghost@example.com', 'nope');
      for (const res of [wrong, unknown]) {
        assert.equal(res.status, 401);
        assert.equal(res.json.error, 'invalid_credentials');
        assert.equal(res.json.code, 401);
      }
      assert.equal(wrong.json.message, unknown.json.message);
    });

    it('verifies a token, then refuses it after logout', async () => {
      const { json } = await login('dev@example.com', 'correct horse');
      const auth = { authorization: `Bearer ${json.token}` };
      const ok = await http(`${srv.url}/v1/auth/verify`, { headers: auth });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.authenticated, true);
      assert.equal(ok.json.auth_method, 'jwt');
      assert.deepEqual(ok.json.scopes, ['read', 'write']);
      assert.equal((await http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: auth })).status, 204);
      const after = await http(`${srv.url}/v1/auth/verify`, { headers: auth });
      assert.equal(after.status, 401);
      assert.equal(after.json.error, 'invalid_token');
      const refreshed = await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: json.refresh_token } });
      assert.equal(refreshed.status, 401);
    });

    it('logs out everywhere on request: other devices, their refresh tokens and Medusa tokens end; another account is untouched', async () => {
      await srv.services.accounts.create({ actorType: 'user', email: 'lost-phone@example.com', password: 'lost my phone', role: 'member' });
      const phone = (await login('lost-phone@example.com', 'lost my phone')).json;
      const laptop = (await login('lost-phone@example.com', 'lost my phone')).json;
      const medusa = (
        await http(`${srv.url}/auth/user/emailpass`, {
          method: 'POST',
          json: { email: 'lost-phone@example.com', password: 'lost my phone' },
        })
      ).json.token;
      const other = (await login('dev@example.com', 'correct horse')).json;
      const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
      for (const t of [phone.token, laptop.token, medusa, other.token]) assert.equal((await verify(t)).status, 200);

      const bad = await http(`${srv.url}/v1/auth/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${laptop.token}` },
        json: { everywhere: 'yes' },
      });
      assert.equal(bad.status, 400);
      assert.equal((await verify(laptop.token)).status, 200, 'a refused request logs nothing out');
      const out = await http(`${srv.url}/v1/auth/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${laptop.token}` },
        json: { everywhere: true },
      });
      assert.equal(out.status, 204);
      for (const t of [phone.token, laptop.token, medusa]) assert.equal((await verify(t)).status, 401);
      for (const rt of [phone.refresh_token, laptop.refresh_token])
        assert.equal((await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: rt } })).status, 401);
      assert.equal((await verify(other.token)).status, 200, 'another account is not touched');
    });

    it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
      const first = (await login('dev@example.com', 'correct horse')).json;
      const second = await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: first.refresh_token } });
      assert.equal(second.status, 200);
      assert.notEqual(second.json.refresh_token, first.refresh_token);
      const reuse = await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: first.refresh_token } });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.json.error, 'invalid_token');
      // The family is gone: the successor and its access token are refused too.
      const successor = await http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: second.json.refresh_token } });
      assert.equal(successor.status, 401);
      const verify = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${second.json.token}` } });
      assert.equal(verify.status, 401);
    });

    it('lets exactly one of many concurrent refreshes of one token succeed', async () => {
      const first = (await login('dev@example.com', 'correct horse')).json;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: first.refresh_token } }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.ok(results.every((r) => r.status === 200 || r.status === 401));
    });
  });
}
