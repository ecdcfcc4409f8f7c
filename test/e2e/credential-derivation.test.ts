import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { keys } from '../../src/store/keys.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const UNAUTHORIZED = { type: 'unauthorized', message: 'Unauthorized' };
const PASSWORD = 'correct horse battery';

/**
 * Routes that turn one credential into another: /auth/token/refresh, /auth/session,
 * the registration token's exchange and /v1/auth/refresh. Each names the credentials it accepts,
 * never widens scope, role or lifetime, and what it derives ends with the sign-in it came from.
 */
describe('Credentials derived from credentials', () => {
  let srv: TestServer;
  let PK: string;
  /** As a browser app would: a write carrying the session cookie comes with the app's Origin, as JSON. */
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => {
    const headers = new Headers(init.headers);
    if (headers.has('cookie') && init.method && init.method !== 'GET') {
      headers.set('origin', new URL(srv.url).origin);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return http(`${srv.url}${path}`, { ...init, headers });
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const refresh = (headers: Record<string, string>) => api('/auth/token/refresh', { method: 'POST', headers });
  const verify = (headers: Record<string, string>) => api('/v1/auth/verify', { headers });
  const cookieOf = (res: { headers: Headers }) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  let n = 0;
  /** A fresh account (tests change roles and delete accounts, so each gets its own). */
  async function account(actorType: 'user' | 'customer', role?: 'admin' | 'member' | 'developer') {
    const email = `${actorType}-${++n}@example.com`;
    const created = await srv.services.accounts.create({ actorType, email, password: PASSWORD, ...(role ? { role } : {}) });
    return { id: created.id, email };
  }
  const medusaLogin = async (actorType: 'user' | 'customer', email: string) => {
    const res = await api(`/auth/${actorType}/emailpass`, { method: 'POST', json: { email, password: PASSWORD } });
    assert.equal(res.status, 200);
    return res.json.token as string;
  };
  const v1Login = async (email: string, actorType: 'user' | 'customer' = 'user') => {
    const res = await api('/v1/auth/login', { method: 'POST', json: { username: email, password: PASSWORD, actor_type: actorType } });
    assert.equal(res.status, 200);
    return res.json as { token: string; refresh_token: string };
  };

  before(async () => {
    srv = await startTestServer();
    const admin = await account('user', 'admin');
    const adminToken = await medusaLogin('user', admin.email);
    PK = (await api('/admin/api-keys', { method: 'POST', json: { title: 'shop' }, headers: bearer(adminToken) })).json.api_key.token;
  });
  after(() => srv.close());

  describe('/auth/token/refresh accepts Medusa tokens and sessions only', () => {
    it('refuses an OAuth access token of a back-office app (scope=read): no first-party admin token comes out of it', async () => {
      const admin = await account('user', 'admin');
      const { secret } = await srv.services.oauthClients.create({
        clientId: 'backoffice-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code'],
        scopes: ['openid', 'read'],
        loginActor: 'user',
      });
      const rp = await relyingParty(srv.url, { clientId: 'backoffice-app', clientSecret: secret! });
      const a = await authorize(rp, new Browser(), { email: admin.email, password: PASSWORD, scope: 'openid read' });
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
      const at = tokens.access_token;
      assert.equal(decodeProtectedHeader(at).typ, 'at+jwt');
      assert.equal((await verify(bearer(at))).status, 200, 'the OAuth token itself is valid (control)');

      const refreshed = await refresh(bearer(at));
      assert.deepEqual([refreshed.status, refreshed.json], [401, UNAUTHORIZED]);
      const session = await api('/auth/session', { method: 'POST', headers: bearer(at) });
      assert.deepEqual([session.status, session.json], [401, UNAUTHORIZED]);
    });

    it("refuses a customer app's OAuth token (read would have come back read write)", async () => {
      const customer = await account('customer');
      const { secret } = await srv.services.oauthClients.create({
        clientId: 'shop-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code'],
        scopes: ['openid', 'read'],
      });
      const rp = await relyingParty(srv.url, { clientId: 'shop-app', clientSecret: secret! });
      const a = await authorize(rp, new Browser(), { email: customer.email, password: PASSWORD, scope: 'openid read' });
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
      const refreshed = await refresh(bearer(tokens.access_token));
      assert.deepEqual([refreshed.status, refreshed.json], [401, UNAUTHORIZED]);
    });

    it('refuses a client-credentials token and a secret API key', async () => {
      const { client: c, secret } = await srv.services.oauthClients.create({
        name: 'job',
        grantTypes: ['client_credentials'],
        scopes: ['read'],
      });
      const issued = await api('/oauth/token', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${c.client_id}:${secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read',
      });
      assert.equal(issued.status, 200);
      const admin = await account('user', 'admin');
      const sk = (
        await api('/admin/api-keys', {
          method: 'POST',
          json: { title: 'ci', type: 'secret' },
          headers: bearer(await medusaLogin('user', admin.email)),
        })
      ).json.api_key.token;
      for (const token of [issued.json.access_token, sk]) {
        const res = await refresh(bearer(token));
        assert.ok([401, 403].includes(res.status), `${res.status}`);
        assert.equal(res.json.token, undefined);
      }
    });

    it('refuses a /v1 token (its family is refreshed at /v1/auth/refresh), and /auth/session does too', async () => {
      const user = await account('user', 'developer');
      const pair = await v1Login(user.email);
      const refreshed = await refresh(bearer(pair.token));
      assert.deepEqual([refreshed.status, refreshed.json], [401, UNAUTHORIZED]);
      const session = await api('/auth/session', { method: 'POST', headers: bearer(pair.token) });
      assert.deepEqual([session.status, session.json], [401, UNAUTHORIZED]);
      assert.equal(
        (await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } })).status,
        200,
        'its own refresh still works',
      );
    });
  });

  describe('a Medusa sign-in has an absolute end (REFRESH_TOKEN_TTL after sign-in)', () => {
    let short: TestServer;
    before(async () => {
      short = await startTestServer({ env: { REFRESH_TOKEN_TTL: '60' } });
    });
    after(() => short.close());

    it('a refreshed token keeps the sid and the scopes, and expires at the sign-in end, not later', async () => {
      const created = await short.services.accounts.create({
        actorType: 'user',
        email: 'dev@example.com',
        password: PASSWORD,
        role: 'developer',
      });
      const login = await http(`${short.url}/auth/user/emailpass`, {
        method: 'POST',
        json: { email: 'dev@example.com', password: PASSWORD },
      });
      const first = decodeJwt(login.json.token);
      assert.equal(first.sign_in_exp, first.iat! + 60);
      assert.equal(first.exp, first.sign_in_exp, 'ADMIN_TOKEN_TTL (24 h) is cut at the end of the sign-in');
      await sleep(1100);
      const res = await http(`${short.url}/auth/token/refresh`, { method: 'POST', headers: bearer(login.json.token) });
      assert.equal(res.status, 200);
      const second = decodeJwt(res.json.token);
      assert.equal(second.sub, created.id);
      assert.equal(second.sid, first.sid);
      assert.equal(second.scope, first.scope);
      assert.equal(second.role, 'developer');
      assert.ok(second.iat! > first.iat!);
      assert.equal(second.exp, first.exp, 'refreshing does not push the end of the sign-in');
      assert.equal(second.sign_in_exp, first.sign_in_exp);
    });

    it('a cookie session lives no longer than the token it was started with', async () => {
      await short.services.accounts.create({ actorType: 'customer', email: 'c@example.com', password: PASSWORD });
      const token = (
        await http(`${short.url}/auth/customer/emailpass`, { method: 'POST', json: { email: 'c@example.com', password: PASSWORD } })
      ).json.token;
      const started = await http(`${short.url}/auth/session`, { method: 'POST', headers: bearer(token) });
      assert.equal(started.status, 200);
      const expires = Date.parse(/expires=([^;]+)/i.exec(started.headers.getSetCookie().find((c) => c.startsWith('connect.sid='))!)![1]!);
      assert.ok(expires <= decodeJwt(token).exp! * 1000 + 1000, `session cookie expires ${new Date(expires).toISOString()}`);
      const v = await http(`${short.url}/v1/auth/verify`, { headers: { cookie: cookieOf(started) } });
      assert.equal(v.json.auth_method, 'session');
      assert.ok(
        Date.parse(v.json.expires_at) <= decodeJwt(token).exp! * 1000,
        `the session itself ends no later than the token: ${v.json.expires_at}`,
      );
    });
  });

  describe('a cookie session belongs to the sign-in of its token', () => {
    async function sessionOf(token: string) {
      const started = await api('/auth/session', { method: 'POST', headers: bearer(token) });
      assert.equal(started.status, 200);
      const cookie = cookieOf(started);
      assert.equal((await verify({ cookie })).status, 200);
      return cookie;
    }

    it('ends with /v1/auth/logout of the token it came from', async () => {
      const user = await account('user', 'admin');
      const token = await medusaLogin('user', user.email);
      const cookie = await sessionOf(token);
      const other = await medusaLogin('user', user.email);
      assert.equal((await api('/v1/auth/logout', { method: 'POST', headers: bearer(token) })).status, 204);
      assert.deepEqual([(await api('/admin/users/me', { headers: { cookie } })).status], [401]);
      assert.equal((await verify({ cookie })).status, 401);
      assert.equal((await refresh({ cookie })).status, 401, 'nor can it mint a token');
      assert.equal((await api('/admin/users/me', { headers: bearer(other) })).status, 200, 'another sign-in stays');
    });

    it('ends with DELETE /auth/session of a token refreshed from the same sign-in', async () => {
      const user = await account('customer');
      const token = await medusaLogin('customer', user.email);
      const refreshed = (await refresh(bearer(token))).json.token;
      const cookie = await sessionOf(token);
      const out = await api('/auth/session', { method: 'DELETE', headers: bearer(refreshed) });
      assert.deepEqual([out.status, out.json], [200, { success: true }]);
      assert.equal((await verify({ cookie })).status, 401);
      assert.equal((await verify(bearer(token))).status, 401);
    });

    it('a token refreshed from a session stays in that sign-in: its logout ends the session', async () => {
      const user = await account('user', 'developer');
      const token = await medusaLogin('user', user.email);
      const cookie = await sessionOf(token);
      const fromSession = await refresh({ cookie });
      assert.equal(fromSession.status, 200);
      assert.equal(decodeJwt(fromSession.json.token).sid, decodeJwt(token).sid);
      assert.equal(decodeJwt(fromSession.json.token).sign_in_exp, decodeJwt(token).sign_in_exp);
      assert.equal((await api('/v1/auth/logout', { method: 'POST', headers: bearer(fromSession.json.token) })).status, 204);
      assert.equal((await verify({ cookie })).status, 401);
    });

    it('DELETE /auth/session with a /v1 token ends its refresh family too', async () => {
      const user = await account('user', 'member');
      const pair = await v1Login(user.email);
      assert.equal((await api('/auth/session', { method: 'DELETE', headers: bearer(pair.token) })).status, 200);
      assert.equal((await verify(bearer(pair.token))).status, 401);
      assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } })).status, 401);
    });
  });

  describe('a registration token authenticates no one', () => {
    async function register(email: string) {
      const reg = await api('/auth/customer/emailpass/register', { method: 'POST', json: { email, password: PASSWORD } });
      assert.equal(reg.status, 200);
      return reg.json.token as string;
    }
    const createCustomer = (token: string, email: string) =>
      api('/store/customers', {
        method: 'POST',
        json: { email, first_name: 'Reg' },
        headers: { ...bearer(token), 'x-publishable-api-key': PK },
      });

    it('is refused by /v1/auth/verify, the admin and store guards, logout, and a microservice verifying first-party JWTs', async () => {
      const token = await register('reg-guards@example.com');
      for (const attempt of [0, 1]) {
        // (twice: a token this process has seen once must not take a shortcut)
        const v = await verify(bearer(token));
        assert.equal(v.status, 401, `verify, attempt ${attempt}`);
        assert.equal(v.json.error, 'invalid_token');
      }
      assert.deepEqual([(await api('/admin/users/me', { headers: bearer(token) })).status], [401]);
      assert.deepEqual([(await api('/admin/api-keys', { headers: bearer(token) })).status], [401]);
      assert.equal((await api('/store/customers/me', { headers: { ...bearer(token), 'x-publishable-api-key': PK } })).status, 401);
      assert.equal((await api('/v1/auth/logout', { method: 'POST', headers: bearer(token) })).status, 401);
      assert.equal((await api('/auth/session', { method: 'POST', headers: bearer(token) })).status, 401);
      const jwks = createLocalJWKSet(srv.services.keystore.publicJwks);
      await assert.rejects(
        jwtVerify(token, jwks, { issuer: srv.config.issuer, audience: srv.config.audience, typ: 'JWT' }),
        "the README's microservice check refuses it",
      );
      // ...and it still does its one job.
      assert.equal((await createCustomer(token, 'reg-guards@example.com')).status, 200);
    });

    it('is exchanged for a customer token once', async () => {
      const token = await register('reg-once@example.com');
      assert.equal((await refresh(bearer(token))).status, 401, 'no customer yet');
      const created = await createCustomer(token, 'reg-once@example.com');
      assert.equal(created.status, 200);
      const exchanged = await Promise.all([refresh(bearer(token)), refresh(bearer(token)), refresh(bearer(token))]);
      assert.deepEqual(exchanged.map((r) => r.status).sort(), [200, 401, 401]);
      const customerToken = exchanged.find((r) => r.status === 200)!.json.token;
      assert.equal(decodeJwt(customerToken).actor_id, created.json.customer.id);
      assert.equal(decodeJwt(customerToken).scope, 'read write');
      assert.equal((await refresh(bearer(token))).status, 401);
      assert.equal((await verify(bearer(customerToken))).status, 200);
    });

    it('ends with a password reset of the customer it created', async () => {
      const email = 'reg-reset@example.com';
      const token = await register(email);
      assert.equal((await createCustomer(token, email)).status, 200);
      await api('/auth/customer/emailpass/reset-password', { method: 'POST', json: { identifier: email } });
      // The reset is published just after the 201 (known and unknown accounts answer alike).
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      let resetToken: string | undefined;
      for (let i = 0; i < 40 && !resetToken; i++) {
        const events = await redis.xRange(`${srv.prefix}events:auth`, '-', '+');
        resetToken = events.map((e) => e.message).find((m) => m.entity_id === email)?.token;
        if (!resetToken) await sleep(50);
      }
      await redis.close();
      assert.ok(resetToken, 'the reset event is published');
      const updated = await api('/auth/customer/emailpass/update', {
        method: 'POST',
        json: { password: 'a brand new password' },
        headers: bearer(resetToken),
      });
      assert.equal(updated.status, 200);
      const res = await refresh(bearer(token));
      assert.deepEqual([res.status, res.json], [401, UNAUTHORIZED]);
    });
  });

  describe("the account's current role and existence reach every renewal", () => {
    it("a demoted admin's refresh family mints member tokens; promoting again does not widen it", async () => {
      const user = await account('user', 'admin');
      const pair = await v1Login(user.email);
      assert.equal(decodeJwt(pair.token).role, 'admin');
      await srv.services.accounts.update(user.id, { role: 'member' });
      const next = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } });
      assert.equal(next.status, 200);
      const claims = decodeJwt(next.json.token);
      assert.equal(claims.role, 'member');
      assert.equal(claims.scope, 'read');
      const v = await verify(bearer(next.json.token));
      assert.deepEqual([v.json.scopes, v.headers.get('x-auth-role')], [['read'], 'member']);
    });

    it("a deleted user's refresh is refused and ends the family", async () => {
      const user = await account('user', 'developer');
      const pair = await v1Login(user.email);
      assert.equal((await verify(bearer(pair.token))).status, 200);
      await srv.store.delete(keys.account(user.id));
      const res = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } });
      assert.equal(res.status, 401);
      assert.equal(res.json.error, 'invalid_token');
      assert.equal((await verify(bearer(pair.token))).status, 401, 'the family and its access tokens ended');
    });

    it("a demoted admin's Medusa token refreshes into a member token, and never back up", async () => {
      const user = await account('user', 'admin');
      const token = await medusaLogin('user', user.email);
      await srv.services.accounts.update(user.id, { role: 'member' });
      const demoted = await refresh(bearer(token));
      assert.equal(demoted.status, 200);
      assert.deepEqual([decodeJwt(demoted.json.token).role, decodeJwt(demoted.json.token).scope], ['member', 'read']);
      await srv.services.accounts.update(user.id, { role: 'admin' });
      const again = await refresh(bearer(demoted.json.token));
      assert.deepEqual([decodeJwt(again.json.token).role, decodeJwt(again.json.token).scope], ['member', 'read'], 'a refresh never widens');
      await srv.store.delete(keys.account(user.id));
      assert.deepEqual([(await refresh(bearer(again.json.token))).status], [401]);
      assert.equal((await verify(bearer(again.json.token))).status, 401, 'the refused refresh ended the sign-in');
    });

    it("a demoted admin's cookie session loses the admin routes at once; a deleted user's session ends", async () => {
      const user = await account('user', 'admin');
      const token = await medusaLogin('user', user.email);
      const cookie = cookieOf(await api('/auth/session', { method: 'POST', headers: bearer(token) }));
      assert.equal((await api('/admin/users', { headers: { cookie } })).status, 200);
      await srv.services.accounts.update(user.id, { role: 'member' });
      assert.equal((await api('/admin/users', { headers: { cookie } })).status, 403);
      assert.equal(
        (await api('/admin/api-keys', { method: 'POST', json: { title: 'x', type: 'secret' }, headers: { cookie } })).status,
        403,
      );
      const v = await verify({ cookie });
      assert.deepEqual([v.status, v.json.scopes, v.headers.get('x-auth-role')], [200, ['read'], 'member']);
      assert.equal(decodeJwt((await refresh({ cookie })).json.token).role, 'member');
      await srv.store.delete(keys.account(user.id));
      assert.equal((await api('/admin/users/me', { headers: { cookie } })).status, 401);
    });
  });

  describe('a token must name a known kid', () => {
    const signOurs = async (payload: JWTPayload, typ: string, withKid: boolean) => {
      const signer = srv.services.keystore.signingKey();
      return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, typ, ...(withKid ? { kid: signer.kid } : {}) }).sign(signer.key);
    };

    it('refuses a first-party JWT signed with our key but no kid', async () => {
      const user = await account('user', 'developer');
      const claims = decodeJwt((await v1Login(user.email)).token);
      assert.equal(
        (await verify(bearer(await signOurs({ ...claims, jti: 'kid-control' }, 'JWT', true)))).status,
        200,
        'control: the same claims with our kid',
      );
      const res = await verify(bearer(await signOurs({ ...claims, jti: 'no-kid' }, 'JWT', false)));
      assert.deepEqual([res.status, res.json.error], [401, 'invalid_token']);
    });

    it('refuses an OAuth access token signed with our key but no kid', async () => {
      const { client: c, secret } = await srv.services.oauthClients.create({
        name: 'kid-job',
        grantTypes: ['client_credentials'],
        scopes: ['read'],
      });
      const issued = await api('/oauth/token', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${c.client_id}:${secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read',
      });
      const claims = decodeJwt(issued.json.access_token);
      assert.equal(
        (await verify(bearer(await signOurs({ ...claims, jti: 'at-control' }, 'at+jwt', true)))).status,
        200,
        'control: the same claims with our kid',
      );
      const res = await verify(bearer(await signOurs({ ...claims, jti: 'at-no-kid' }, 'at+jwt', false)));
      assert.deepEqual([res.status, res.json.error], [401, 'invalid_token']);
    });
  });
});
