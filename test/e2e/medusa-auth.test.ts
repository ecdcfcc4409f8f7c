import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { eventually, startWebhookSink } from '../helpers/webhook-sink.ts';

const UNAUTHORIZED = { type: 'unauthorized', message: 'Unauthorized' };
const PK_REQUIRED =
  'Publishable API key required in the request header: x-publishable-api-key. You can manage your keys in settings in the dashboard.';
const PK_INVALID = 'A valid publishable key is required to proceed with the request';

describe('Medusa-style authentication (the reference document, end to end)', () => {
  let srv: TestServer;
  let sink: Awaited<ReturnType<typeof startWebhookSink>>;
  let ADMIN_TOKEN: string;
  let PUBLISHABLE_KEY: string;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);

  before(async () => {
    sink = await startWebhookSink();
    srv = await startTestServer({
      env: { NOTIFY_WEBHOOK_URL: sink.url, AUTH_CORS: 'http://localhost:3000,/\\.example\\.com$/', STORE_CORS: 'http://localhost:8000' },
    });
    await srv.services.accounts.create({
      actorType: 'user',
      email: 'admin@example.com',
      password: 'supersecret',
      role: 'admin',
      firstName: 'Jane',
      lastName: 'Doe',
    });
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: 'supersecret', role: 'member' });
    await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'supersecret', role: 'developer' });
    await srv.services.accounts.create({
      actorType: 'customer',
      email: 'customer@example.com',
      password: 'customerpass',
      firstName: 'Alice',
      lastName: 'Smith',
    });
  });
  after(async () => {
    await srv.close();
    sink.server.close();
  });

  describe('Admin authentication', () => {
    it('POST /admin/auth/token answers {token, user} as documented, and access_token for v1 clients', async () => {
      const res = await api('/admin/auth/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"email": "admin@example.com", "password": "supersecret"}',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.json.user).sort(), [
        'created_at',
        'disabled',
        'email',
        'first_name',
        'id',
        'last_name',
        'metadata',
        'role',
        'updated_at',
      ]);
      assert.match(res.json.user.id, /^user_/);
      assert.equal(res.json.user.email, 'admin@example.com');
      assert.equal(res.json.user.first_name, 'Jane');
      assert.equal(res.json.user.last_name, 'Doe');
      assert.equal(res.json.user.role, 'admin');
      assert.equal(res.json.access_token, res.json.token);
      ADMIN_TOKEN = res.json.token;
      const claims = decodeJwt(ADMIN_TOKEN);
      assert.equal(claims.actor_id, res.json.user.id);
      assert.equal(claims.actor_type, 'user');
      assert.deepEqual(claims.app_metadata, { user_id: res.json.user.id });
      assert.match(String(claims.auth_identity_id), /^authid_/);
      assert.equal(claims.exp! - claims.iat!, 86_400, 'ADMIN_TOKEN_TTL defaults to 24 h');
    });

    it('refuses a wrong password or unknown user with 401 {type: "unauthorized", message: "Unauthorized"}', async () => {
      for (const json of [
        { email: 'admin@example.com', password: 'wrong' },
        { email: 'ghost@example.com', password: 'supersecret' },
      ]) {
        const res = await api('/admin/auth/token', { method: 'POST', json });
        assert.equal(res.status, 401);
        assert.deepEqual(res.json, UNAUTHORIZED);
      }
    });

    it('checks the credential before routing: /admin/orders is 404 with a valid token, 401 without or with a bad one', async () => {
      const ok = await api('/admin/orders?limit=5&offset=0', {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      });
      assert.equal(ok.status, 404);
      assert.equal(ok.json.type, 'not_found');
      const wrongMethod = await api('/admin/auth/token', { method: 'PUT', json: {} });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.json.type, 'not_allowed');
      assert.equal(typeof wrongMethod.json.message, 'string');
      for (const headers of [
        {} as Record<string, string>,
        { Authorization: `Bearer ${ADMIN_TOKEN}x` },
        { Authorization: ADMIN_TOKEN },
        { Authorization: `Bearer${ADMIN_TOKEN}` },
        { Authorization: `Token ${ADMIN_TOKEN}` },
      ]) {
        const res = await api('/admin/orders?limit=5&offset=0', { headers });
        assert.equal(res.status, 401, JSON.stringify(headers).slice(0, 40));
        assert.deepEqual(res.json, UNAUTHORIZED);
      }
    });

    it('refuses an expired token with 401', async () => {
      const user = await srv.services.accounts.findByEmail('user', 'admin@example.com');
      const expired = await srv.services.jwt.issue({
        sub: user!.id,
        actorType: 'user',
        scope: ['read'],
        sid: 'expired-test',
        ttlSeconds: -60,
        extra: { role: 'admin' },
      });
      const res = await api('/admin/users/me', { headers: { authorization: `Bearer ${expired.token}` } });
      assert.deepEqual([res.status, res.json], [401, UNAUTHORIZED]);
    });

    it('GET /admin/users/me answers the logged-in user', async () => {
      const res = await api('/admin/users/me', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(res.status, 200);
      assert.equal(res.json.user.email, 'admin@example.com');
    });

    it('lets only admins list and create users', async () => {
      const member = (await api('/admin/auth/token', { method: 'POST', json: { email: 'member@example.com', password: 'supersecret' } }))
        .json.token;
      const dev = (await api('/admin/auth/token', { method: 'POST', json: { email: 'dev@example.com', password: 'supersecret' } })).json
        .token;
      const list = await api('/admin/users', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(list.status, 200);
      assert.ok(list.json.count >= 3);
      assert.deepEqual([list.json.offset, list.json.limit], [0, 20]);
      for (const token of [member, dev]) {
        const res = await api('/admin/users', { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 403);
        assert.equal(res.json.type, 'forbidden');
      }
      const created = await api('/admin/users', {
        method: 'POST',
        json: { email: 'new@example.com', password: 'longenough', role: 'developer' },
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(created.status, 200);
      assert.equal(created.json.user.role, 'developer');
      const byDev = await api('/admin/users', {
        method: 'POST',
        json: { email: 'x@example.com', password: 'longenough' },
        headers: { authorization: `Bearer ${dev}` },
      });
      assert.equal(byDev.status, 403);
    });
  });

  describe('Store authentication', () => {
    it('creates a publishable key with the documented curl (type defaults to publishable)', async () => {
      const res = await api('/admin/api-keys', {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: '{"title": "My Storefront"}',
      });
      assert.equal(res.status, 200);
      const key = res.json.api_key;
      assert.match(key.id, /^apk_/);
      assert.match(key.token, /^pk_[0-9a-f]{64}$/);
      assert.equal(key.title, 'My Storefront');
      assert.equal(key.type, 'publishable');
      assert.equal(key.revoked_at, null);
      assert.ok(Date.parse(key.created_at));
      PUBLISHABLE_KEY = key.token;
    });

    it("requires x-publishable-api-key on /store with Medusa's messages", async () => {
      const missing = await api('/store/products?limit=10');
      assert.deepEqual([missing.status, missing.json], [400, { type: 'not_allowed', message: PK_REQUIRED }]);
      const wrong = await api('/store/products?limit=10', { headers: { 'x-publishable-api-key': `pk_${'0'.repeat(64)}` } });
      assert.deepEqual([wrong.status, wrong.json], [400, { type: 'not_allowed', message: PK_INVALID }]);
      const ok = await api('/store/products?limit=10', { headers: { 'x-publishable-api-key': PUBLISHABLE_KEY } });
      assert.equal(ok.status, 404, 'valid key: the route is simply not ours');
    });

    it('refuses a secret key or a revoked publishable key as x-publishable-api-key', async () => {
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const sk = (await api('/admin/api-keys', { method: 'POST', json: { title: 's', type: 'secret' }, headers: auth })).json.api_key;
      const pk = (await api('/admin/api-keys', { method: 'POST', json: { title: 'p' }, headers: auth })).json.api_key;
      assert.equal((await api('/store/customers/me', { headers: { 'x-publishable-api-key': pk.token } })).status, 401);
      await api(`/admin/api-keys/${pk.id}/revoke`, { method: 'POST', json: {}, headers: auth });
      for (const token of [sk.token, pk.token]) {
        const res = await api('/store/customers/me', { headers: { 'x-publishable-api-key': token } });
        assert.deepEqual([res.status, res.json], [400, { type: 'not_allowed', message: PK_INVALID }]);
      }
    });

    it('POST /store/auth/token answers {token, customer}; the customer token opens /store/customers/me', async () => {
      const res = await api('/store/auth/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-publishable-api-key': PUBLISHABLE_KEY },
        body: '{"email": "customer@example.com", "password": "customerpass"}',
      });
      assert.equal(res.status, 200);
      assert.match(res.json.customer.id, /^cus_/);
      assert.equal(res.json.customer.first_name, 'Alice');
      assert.equal(res.json.customer.last_name, 'Smith');
      const CUSTOMER_TOKEN = res.json.token;
      assert.equal(decodeJwt(CUSTOMER_TOKEN).actor_type, 'customer');
      const headers = {
        Authorization: `Bearer ${CUSTOMER_TOKEN}`,
        'x-publishable-api-key': PUBLISHABLE_KEY,
        'Content-Type': 'application/json',
      };
      const me = await api('/store/customers/me', { headers });
      assert.equal(me.status, 200);
      assert.equal(me.json.customer.email, 'customer@example.com');
      // The document's other store examples: auth passes, the routes are not ours.
      assert.equal((await api('/store/customers/me/orders', { headers })).status, 404);
      assert.equal((await api('/store/carts/cart_01H', { headers })).status, 404);
      const bad = await api('/store/carts/cart_01H', { headers: { ...headers, Authorization: 'Bearer nope' } });
      assert.deepEqual([bad.status, bad.json], [401, UNAUTHORIZED]);
      // 403 Forbidden: a store token on an admin route.
      const forbidden = await api('/admin/users/me', { headers: { Authorization: `Bearer ${CUSTOMER_TOKEN}` } });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.json.type, 'forbidden');
      const wrong = await api('/store/auth/token', {
        method: 'POST',
        json: { email: 'customer@example.com', password: 'nope' },
        headers: { 'x-publishable-api-key': PUBLISHABLE_KEY },
      });
      assert.deepEqual([wrong.status, wrong.json], [401, UNAUTHORIZED]);
    });
  });

  describe('/auth routes', () => {
    it("logs in with emailpass, refuses bad credentials with Medusa's message, refreshes", async () => {
      const bad = await api('/auth/customer/emailpass', { method: 'POST', json: { email: 'customer@example.com', password: 'nope' } });
      assert.deepEqual([bad.status, bad.json], [401, { type: 'unauthorized', message: 'Invalid email or password' }]);
      const ok = await api('/auth/user/emailpass', { method: 'POST', json: { email: 'admin@example.com', password: 'supersecret' } });
      assert.equal(ok.status, 200);
      const refreshed = await api('/auth/token/refresh', {
        method: 'POST',
        headers: { authorization: `Bearer ${ok.json.token}`, 'content-type': 'application/json' },
      });
      assert.equal(refreshed.status, 200);
      assert.equal(decodeJwt(refreshed.json.token).actor_id, decodeJwt(ok.json.token).actor_id);
      assert.equal((await api('/auth/token/refresh', { method: 'POST' })).status, 401);
    });

    it('registers in two steps; a registration token names no actor until the customer exists', async () => {
      const reg = await api('/auth/customer/emailpass/register', {
        method: 'POST',
        json: { email: 'new-customer@example.com', password: 'pw-new-customer' },
      });
      assert.equal(reg.status, 200);
      const claims = decodeJwt(reg.json.token);
      assert.equal(claims.actor_id, '');
      assert.equal(claims.actor_type, 'customer');
      const headers = { authorization: `Bearer ${reg.json.token}`, 'x-publishable-api-key': PUBLISHABLE_KEY };
      assert.equal((await api('/store/customers/me', { headers })).status, 401);
      const created = await api('/store/customers', {
        method: 'POST',
        json: { email: 'new-customer@example.com', first_name: 'Nina' },
        headers,
      });
      assert.equal(created.status, 200);
      const again = await api('/store/customers', { method: 'POST', json: { email: 'new-customer@example.com' }, headers });
      assert.equal(again.status, 400);
      const refreshed = await api('/auth/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${reg.json.token}` } });
      assert.equal(refreshed.status, 200);
      assert.equal(decodeJwt(refreshed.json.token).actor_id, created.json.customer.id);
      // A taken email registers like a new one (no account enumeration), but its token never becomes a customer.
      const dup = await api('/auth/customer/emailpass/register', {
        method: 'POST',
        json: { email: 'new-customer@example.com', password: 'another pw for it' },
      });
      assert.equal(dup.status, 200);
      assert.deepEqual(Object.keys(dup.json), ['token']);
      const dupHeaders = { authorization: `Bearer ${dup.json.token}`, 'x-publishable-api-key': PUBLISHABLE_KEY };
      const taken = await api('/store/customers', { method: 'POST', json: { email: 'new-customer@example.com' }, headers: dupHeaders });
      assert.ok(taken.status >= 400 && taken.status < 500, `step two fails for a taken email (${taken.status})`);
      assert.equal(
        (await api('/auth/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${dup.json.token}` } })).status,
        401,
      );
    });

    it('starts a cookie session from a Bearer token; DELETE /auth/session ends it even for a copied cookie, with the sign-in it came from', async () => {
      // (A login of its own: signing out of the session ends the token it was started with.)
      const signIn = (await api('/admin/auth/token', { method: 'POST', json: { email: 'admin@example.com', password: 'supersecret' } }))
        .json.token;
      const start = await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${signIn}` } });
      assert.equal(start.status, 200);
      assert.equal(start.json.user.actor_type, 'user');
      assert.match(start.json.user.actor_id, /^user_/);
      const setCookies = start.headers.getSetCookie();
      const session = setCookies.find((c) => c.startsWith('connect.sid='))!;
      assert.match(session, /httponly/i);
      assert.match(session, /samesite=lax/i);
      const cookie = setCookies.map((c) => c.split(';')[0]).join('; ');
      const me = await api('/admin/users/me', { headers: { cookie } });
      assert.equal(me.status, 200);
      assert.equal(me.json.user.email, 'admin@example.com');
      const forged = cookie.replace(/connect\.sid=[^;]+/, 'connect.sid=sess_forged');
      assert.equal((await api('/admin/users/me', { headers: { cookie: forged } })).status, 401);
      // As the admin app's browser sends it: its Origin (an AUTH_CORS origin) and the js-sdk's content type.
      const end = await api('/auth/session', {
        method: 'DELETE',
        headers: { cookie, origin: 'http://localhost:3000', 'content-type': 'application/json' },
      });
      assert.deepEqual([end.status, end.json], [200, { success: true }]);
      const copied = await api('/admin/users/me', { headers: { cookie } });
      assert.deepEqual([copied.status, copied.json], [401, UNAUTHORIZED]);
      assert.equal(
        (await api('/admin/users/me', { headers: { authorization: `Bearer ${signIn}` } })).status,
        401,
        'the token the session came from ends with it',
      );
      assert.equal(
        (await api('/admin/users/me', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
        200,
        'another sign-in stays',
      );
    });

    it('DELETE /auth/session with a Bearer JWT logs that login out, refreshed tokens included', async () => {
      const token = (await api('/auth/user/emailpass', { method: 'POST', json: { email: 'dev@example.com', password: 'supersecret' } }))
        .json.token;
      const refreshed = (await api('/auth/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json.token;
      const other = (await api('/auth/user/emailpass', { method: 'POST', json: { email: 'dev@example.com', password: 'supersecret' } }))
        .json.token;
      const out = await api('/auth/session', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual([out.status, out.json], [200, { success: true }]);
      for (const t of [token, refreshed])
        assert.equal((await api('/admin/users/me', { headers: { authorization: `Bearer ${t}` } })).status, 401);
      assert.equal(
        (await api('/admin/users/me', { headers: { authorization: `Bearer ${other}` } })).status,
        200,
        'another login is another sid',
      );
      assert.equal(
        (await api('/auth/session', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status,
        200,
        'logging out twice is fine',
      );
    });

    it('resets a password with a single-use token published as auth.password_reset (stream and webhook)', async () => {
      const unknown = await api('/auth/customer/emailpass/reset-password', { method: 'POST', json: { identifier: 'nobody@example.com' } });
      assert.deepEqual([unknown.status, unknown.text], [201, '']);
      const res = await api('/auth/customer/emailpass/reset-password', { method: 'POST', json: { identifier: 'customer@example.com' } });
      assert.deepEqual([res.status, res.text], [201, '']);
      const hook = await eventually(() =>
        sink.events.find((e) => e.event === 'auth.password_reset' && e.data.entity_id === 'customer@example.com'),
      );
      assert.equal(sink.events.filter((e) => e.data.entity_id === 'nobody@example.com').length, 0);
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      const stream = await redis.xRange(`${srv.prefix}events:auth`, '-', '+');
      await redis.close();
      const published = stream.map((m) => m.message).find((m) => m.entity_id === 'customer@example.com')!;
      assert.equal(published.event, 'auth.password_reset');
      assert.equal(published.token, hook.data.token);

      const update = (token: string) =>
        api('/auth/customer/emailpass/update', {
          method: 'POST',
          json: { password: 'brand-new-pass' },
          headers: { authorization: `Bearer ${token}` },
        });
      assert.equal(
        (
          await api('/auth/user/emailpass/update', {
            method: 'POST',
            json: { password: 'x' },
            headers: { authorization: `Bearer ${hook.data.token}x` },
          })
        ).status,
        401,
      );
      const ok = await update(hook.data.token);
      assert.deepEqual([ok.status, ok.json], [200, { success: true }]);
      const reused = await update(hook.data.token);
      assert.deepEqual([reused.status, reused.json], [401, { type: 'unauthorized', message: 'Invalid token' }]);
      assert.equal(
        (await api('/auth/customer/emailpass', { method: 'POST', json: { email: 'customer@example.com', password: 'brand-new-pass' } }))
          .status,
        200,
      );
      // Older clients: the token in ?token= and the email in the body.
      await api('/auth/customer/emailpass/reset-password', { method: 'POST', json: { identifier: 'customer@example.com' } });
      const second = await eventually(() => sink.events.filter((e) => e.data.entity_id === 'customer@example.com')[1]);
      const legacy = await api(`/auth/customer/emailpass/update?token=${second.data.token}`, {
        method: 'POST',
        json: { email: 'customer@example.com', password: 'customerpass' },
      });
      assert.equal(legacy.status, 200);
    });
    it('an admin signs a compromised user out everywhere; members may not; unknown users are 404', async () => {
      await srv.services.accounts.create({
        actorType: 'user',
        email: 'compromised@example.com',
        password: 'leaked password',
        role: 'developer',
      });
      const creds = { email: 'compromised@example.com', password: 'leaked password' };
      const token = (await api('/admin/auth/token', { method: 'POST', json: creds })).json.token;
      const pair = (await api('/v1/auth/login', { method: 'POST', json: { username: creds.email, password: creds.password } })).json;
      const started = await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      const cookie = started.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const me = await api('/admin/users/me', { headers: { authorization: `Bearer ${token}` } });
      const userId = me.json.user.id;

      const byDeveloper = await api(`/admin/users/${userId}/sign-out`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.equal(byDeveloper.status, 403);
      assert.equal(byDeveloper.json.type, 'forbidden');
      const unknown = await api('/admin/users/user_01NOSUCHUSER0000000000000/sign-out', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.deepEqual([unknown.status, unknown.json.type], [404, 'not_found']);

      const out = await api(`/admin/users/${userId}/sign-out`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(out.status, 200);
      assert.deepEqual(
        { ...out.json, sign_ins_ended: out.json.sign_ins_ended >= 3 },
        { id: userId, object: 'user', signed_out: true, sign_ins_ended: true },
      );
      for (const headers of [{ authorization: `Bearer ${token}` }, { authorization: `Bearer ${pair.token}` }, { cookie }] as Record<
        string,
        string
      >[]) {
        assert.deepEqual([(await api('/admin/users/me', { headers })).status], [401], JSON.stringify(headers).slice(0, 30));
      }
      assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } })).status, 401);
      assert.equal(
        (await api('/admin/users/me', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
        200,
        'the admin is still signed in',
      );
    });

    it('a password reset signs the account out everywhere: tokens, refresh tokens, cookie sessions', async () => {
      await srv.services.accounts.create({ actorType: 'user', email: 'stolen@example.com', password: 'old password', role: 'admin' });
      const creds = { email: 'stolen@example.com', password: 'old password' };
      const pair = (await api('/v1/auth/login', { method: 'POST', json: { username: creds.email, password: creds.password } })).json;
      const sdkToken = (await api('/auth/user/emailpass', { method: 'POST', json: creds })).json.token;
      const adminToken = (await api('/admin/auth/token', { method: 'POST', json: creds })).json.token;
      const refreshedSdkToken = (await api('/auth/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${sdkToken}` } }))
        .json.token;
      const started = await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${sdkToken}` } });
      const cookie = started.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const me = (headers: Record<string, string>) => api('/admin/users/me', { headers });
      const credentials: Record<string, string>[] = [
        { authorization: `Bearer ${pair.token}` },
        { authorization: `Bearer ${sdkToken}` },
        { authorization: `Bearer ${adminToken}` },
        { authorization: `Bearer ${refreshedSdkToken}` },
        { cookie },
      ];
      for (const headers of credentials) assert.equal((await me(headers)).status, 200, JSON.stringify(headers).slice(0, 30));

      await api('/auth/user/emailpass/reset-password', { method: 'POST', json: { identifier: creds.email } });
      const hook = await eventually(() => sink.events.find((e) => e.event === 'auth.password_reset' && e.data.entity_id === creds.email));
      const updated = await api('/auth/user/emailpass/update', {
        method: 'POST',
        json: { password: 'new password' },
        headers: { authorization: `Bearer ${hook.data.token}` },
      });
      assert.equal(updated.status, 200);

      for (const headers of credentials)
        assert.deepEqual([(await me(headers)).status, (await me(headers)).json], [401, UNAUTHORIZED], JSON.stringify(headers).slice(0, 30));
      const verify = await api('/v1/auth/verify', { headers: { authorization: `Bearer ${pair.token}` } });
      assert.equal(verify.status, 401);
      assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } })).status, 401);
      assert.equal(
        (await api('/auth/token/refresh', { method: 'POST', headers: { authorization: `Bearer ${refreshedSdkToken}` } })).status,
        401,
      );
      const fresh = (await api('/auth/user/emailpass', { method: 'POST', json: { email: creds.email, password: 'new password' } })).json
        .token;
      assert.equal((await me({ authorization: `Bearer ${fresh}` })).status, 200, 'the new password signs in');
    });
  });

  describe('CORS per surface', () => {
    const preflight = (path: string, origin: string) =>
      api(path, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });

    it('answers preflights for allowed origins on each surface, with credentials', async () => {
      for (const [path, origin] of [
        ['/admin/api-keys', 'http://localhost:7001'],
        ['/store/customers', 'http://localhost:8000'],
        ['/auth/customer/emailpass', 'http://localhost:3000'],
        ['/auth/user/emailpass', 'https://shop.example.com'],
        ['/admin/auth/token', 'http://localhost:3000'],
        ['/store/auth/token', 'https://shop.example.com'],
      ]) {
        const res = await preflight(path!, origin!);
        assert.equal(res.status, 204, `${path} ${origin}`);
        assert.equal(res.headers.get('access-control-allow-origin'), origin);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        assert.match(res.headers.get('access-control-allow-methods')!, /POST/);
        assert.match(res.headers.get('access-control-allow-headers')!, /authorization/);
      }
    });

    it('gives other origins nothing: each surface has its own list', async () => {
      for (const [path, origin] of [
        ['/admin/api-keys', 'http://localhost:8000'],
        ['/store/customers', 'http://localhost:7001'],
        ['/auth/customer/emailpass', 'http://localhost:7001'],
        ['/auth/customer/emailpass', 'https://example.com.evil.test'],
        ['/admin/api-keys', 'http://localhost:3000'],
      ]) {
        const res = await preflight(path!, origin!);
        assert.equal(res.headers.get('access-control-allow-origin'), null, `${path} ${origin}`);
      }
    });

    it('puts CORS headers on real responses, errors included, so browsers can read a 401', async () => {
      const res = await api('/admin/users/me', { headers: { origin: 'http://localhost:7001' } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:7001');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    });
  });
});

describe('Session cookies', () => {
  const sessionCookie = async (srv: TestServer) => {
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'supersecret', role: 'admin' });
    const token = (
      await http(`${srv.origin}/auth/user/emailpass`, { method: 'POST', json: { email: 'admin@example.com', password: 'supersecret' } })
    ).json.token;
    const res = await http(`${srv.origin}/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return res.headers.getSetCookie();
  };

  const production = async (env: Record<string, string> = {}) => {
    const { readFile } = await import('node:fs/promises');
    const dev = JSON.parse(await readFile('.portcullis/test-secrets.json', 'utf8'));
    return startTestServer({
      env: {
        NODE_ENV: 'production',
        KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
        JWKS: JSON.stringify(dev.jwks),
        COOKIE_SECRET: dev.cookieSecret,
        API_KEY_PEPPER: dev.apiKeyPepper,
        ADMIN_CORS: 'https://admin.example.com',
        STORE_CORS: 'https://shop.example.com',
        ...env,
      },
    });
  };

  it('are Secure, httpOnly, signed and SameSite=Lax behind a TLS-terminating proxy (https PUBLIC_URL, plain-http hop), like the OAuth cookies', async () => {
    const srv = await production({ PUBLIC_URL: 'https://auth.example.com' });
    try {
      const cookies = await sessionCookie(srv);
      const session = cookies.find((c) => c.startsWith('connect.sid='))!;
      assert.match(session, /; secure/i);
      assert.match(session, /; httponly/i);
      assert.match(session, /; samesite=lax/i);
      assert.ok(
        cookies.some((c) => c.startsWith('connect.sid.sig=')),
        'signed',
      );

      await srv.services.oauthClients.create({ clientId: 'tls-app', redirectUris: ['https://app.example.com/cb'] });
      const authz = await fetch(
        `${srv.origin}/oauth/authorize?client_id=tls-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://app.example.com/cb')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
        { redirect: 'manual' },
      );
      assert.equal(authz.status, 303);
      const oauthCookies = authz.headers.getSetCookie();
      assert.ok(oauthCookies.length > 0 && oauthCookies.every((c) => /;\s*secure/i.test(c)), oauthCookies.join('\n'));
    } finally {
      await srv.close();
    }
  });

  it('are Secure in production whatever the URL (here plain-http loopback, which browsers treat as secure)', async () => {
    const srv = await production();
    try {
      const session = (await sessionCookie(srv)).find((c) => c.startsWith('connect.sid='))!;
      assert.match(session, /; secure/i);
    } finally {
      await srv.close();
    }
  });

  it('are not Secure on a plain-http PUBLIC_URL in development (http://localhost), where a browser would drop them', async () => {
    const srv = await startTestServer({});
    try {
      const session = (await sessionCookie(srv)).find((c) => c.startsWith('connect.sid='))!;
      assert.ok(session && !/; secure/i.test(session), session);
    } finally {
      await srv.close();
    }
  });
});
