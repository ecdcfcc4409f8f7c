import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

/**
 * Cross-site request forgery against writes the browser authenticates by itself (the session
 * cookie): a page of another origin can post a form, or fetch without a preflight, and the
 * browser attaches the cookie. Such a write needs a trusted Origin (PUBLIC_URL's or the
 * surface's CORS origins) or Sec-Fetch-Site: same-origin, and a JSON body declared as such.
 * Bearer and API-key requests are not forgeable that way and work from any origin.
 */
describe('cookie-authenticated writes (CSRF)', () => {
  let srv: TestServer;
  let adminToken: string;
  let cookie: string;
  const EVIL = 'http://evil.example';
  const ADMIN_APP = 'http://admin.example.test';
  const STOREFRONT = 'http://shop.example.test';
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const asAdmin = { authorization: () => `Bearer ${adminToken}` };

  const startSession = async (token: string, headers: Record<string, string> = {}) => {
    const res = await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers } });
    assert.equal(res.status, 200);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  };
  const keyTitles = async () => {
    const res = await api('/admin/api-keys?limit=100', { headers: { authorization: asAdmin.authorization() } });
    assert.equal(res.status, 200);
    return (res.json.api_keys as { title: string }[]).map((k) => k.title);
  };
  const userExists = async (email: string) => {
    const res = await api('/admin/users?limit=100', { headers: { authorization: asAdmin.authorization() } });
    return (res.json.users as { email: string }[]).some((u) => u.email === email);
  };

  before(async () => {
    srv = await startTestServer({ env: { ADMIN_CORS: ADMIN_APP, STORE_CORS: STOREFRONT } });
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'correct horse', role: 'admin' });
    adminToken = (await api('/auth/user/emailpass', { method: 'POST', json: { email: 'admin@example.com', password: 'correct horse' } }))
      .json.token;
    cookie = await startSession(adminToken);
  });
  after(() => srv?.close());

  it('refuses a form post from another origin with only the session cookie (403 not_allowed), and no key is created', async () => {
    const res = await api('/admin/api-keys', {
      method: 'POST',
      headers: { cookie, origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=csrf-form&type=secret',
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.type, 'not_allowed');
    assert.ok(!(await keyTitles()).includes('csrf-form'));
  });

  it('refuses a JSON body sent without a content type (415), whatever the origin, and no user is created', async () => {
    for (const origin of [EVIL, ADMIN_APP, srv.url]) {
      const res = await api('/admin/users', {
        method: 'POST',
        headers: { cookie, origin },
        body: new Blob([JSON.stringify({ email: 'csrf@example.com', password: 'long enough pw', role: 'admin' })]),
      });
      assert.equal(res.status, 415, origin);
      assert.equal(res.json.type, 'invalid_data');
    }
    assert.equal(await userExists('csrf@example.com'), false);
  });

  it('refuses a cookie write whose origin is untrusted or unknown: Origin null, a sibling site, cross-site with no Origin, no Origin at all', async () => {
    const attempts: Record<string, string>[] = [
      { origin: EVIL },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
      { origin: 'http://sibling.example.test', 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      {},
    ];
    for (const headers of attempts) {
      const res = await api('/admin/api-keys', {
        method: 'POST',
        headers: { cookie, ...headers },
        json: { title: 'csrf-json', type: 'secret' },
      });
      assert.deepEqual([res.status, res.json.type], [403, 'not_allowed'], JSON.stringify(headers));
    }
    assert.ok(!(await keyTitles()).includes('csrf-json'));
  });

  it('accepts a JSON cookie write from PUBLIC_URL, from an ADMIN_CORS origin (readable there) and from the same origin by Sec-Fetch-Site', async () => {
    const own = await api('/admin/api-keys', {
      method: 'POST',
      headers: { cookie, origin: new URL(srv.url).origin },
      json: { title: 'from-public-url' },
    });
    assert.equal(own.status, 200);
    const app = await api('/admin/api-keys', {
      method: 'POST',
      headers: { cookie, origin: ADMIN_APP, 'sec-fetch-site': 'cross-site' },
      json: { title: 'from-admin-app' },
    });
    assert.equal(app.status, 200);
    assert.equal(app.headers.get('access-control-allow-origin'), ADMIN_APP);
    const same = await api('/admin/api-keys', {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
      json: { title: 'same-origin' },
    });
    assert.equal(same.status, 200);
    const titles = await keyTitles();
    for (const title of ['from-public-url', 'from-admin-app', 'same-origin']) assert.ok(titles.includes(title), title);
  });

  it('wants application/json even from a trusted origin (a form post is 415, readable by the app)', async () => {
    const res = await api('/admin/api-keys', {
      method: 'POST',
      headers: { cookie, origin: ADMIN_APP, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=trusted-form',
    });
    assert.deepEqual([res.status, res.json.type], [415, 'invalid_data']);
    assert.equal(res.headers.get('access-control-allow-origin'), ADMIN_APP);
    assert.ok(!(await keyTitles()).includes('trusted-form'));
  });

  it('keeps Bearer JWTs and secret keys working from any origin', async () => {
    const bearer = await api('/admin/api-keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, origin: EVIL, 'sec-fetch-site': 'cross-site' },
      json: { title: 'bearer-evil', type: 'secret' },
    });
    assert.equal(bearer.status, 200);
    const secret = bearer.json.api_key.token as string;
    // The cookie rides along (as a browser with credentials: 'include' would send it): the Authorization header decides.
    // (A write a secret key may make: keys do not create keys, test/e2e/api-key-derivation.test.ts.)
    const basic = await api(`/admin/api-keys/${bearer.json.api_key.id}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}`, cookie, origin: EVIL },
      json: { title: 'basic-evil' },
    });
    assert.equal(basic.status, 200);
    assert.equal(basic.headers.get('access-control-allow-origin'), null, 'CORS still applies: an untrusted origin cannot read the answer');
  });

  it('refuses logout CSRF: DELETE /auth/session from another origin leaves the session alive; from the admin app it ends it', async () => {
    // A sign-in of its own: ending a session ends the sign-in it came from (and every session of it).
    const ownToken = (
      await api('/auth/user/emailpass', { method: 'POST', json: { email: 'admin@example.com', password: 'correct horse' } })
    ).json.token;
    const session = await startSession(ownToken);
    const forged = await api('/auth/session', {
      method: 'DELETE',
      headers: { cookie: session, origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
    });
    assert.deepEqual([forged.status, forged.json.type], [403, 'not_allowed']);
    assert.equal((await api('/admin/users/me', { headers: { cookie: session } })).status, 200, 'still signed in');
    const real = await api('/auth/session', {
      method: 'DELETE',
      headers: { cookie: session, origin: ADMIN_APP, 'content-type': 'application/json' },
    });
    assert.deepEqual([real.status, real.json], [200, { success: true }]);
    assert.equal((await api('/admin/users/me', { headers: { cookie: session } })).status, 401);
  });

  it('guards /store and /v1 the same way, in their dialects; verify (forward auth, any method) is not a write', async () => {
    const publishable = await srv.services.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: 'user_test' });
    const customer = await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'correct horse' });
    const customerToken = (
      await api('/auth/customer/emailpass', { method: 'POST', json: { email: customer.email, password: 'correct horse' } })
    ).json.token;
    const customerCookie = await startSession(customerToken);
    const store = await api('/store/customers', {
      method: 'POST',
      headers: { cookie: customerCookie, origin: EVIL, 'x-publishable-api-key': publishable.token },
      json: {},
    });
    assert.deepEqual([store.status, store.json.type], [403, 'not_allowed']);
    const fromShop = await api('/store/customers', {
      method: 'POST',
      headers: { cookie: customerCookie, origin: STOREFRONT, 'x-publishable-api-key': publishable.token },
      json: {},
    });
    assert.notEqual(fromShop.status, 403, 'the storefront origin passes the guard (the route then answers for itself)');

    const v1 = await api('/v1/auth/logout', { method: 'POST', headers: { cookie, origin: EVIL }, json: {} });
    assert.equal(v1.status, 403);
    assert.equal(v1.json.error, 'forbidden');
    assert.equal(typeof v1.json.timestamp, 'string');
    const verify = await api('/v1/auth/verify', { method: 'POST', headers: { cookie, origin: EVIL } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.user_id, (await srv.services.accounts.findByEmail('user', 'admin@example.com'))!.id);
  });

  it('leaves the OAuth login and consent forms (form posts with their own CSRF protection) to the provider, session cookie or not', async () => {
    await srv.services.accounts.create({ actorType: 'customer', email: 'oauth-page@example.com', password: 'page password 1' });
    const { secret } = await srv.services.oauthClients.create({ clientId: 'csrf-app', name: 'CSRF App', redirectUris: [REDIRECT_URI] });
    const rp = await relyingParty(srv.url, { clientId: 'csrf-app', clientSecret: secret! });
    const browser = new Browser();
    for (const pair of cookie.split('; ')) browser.jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    const result = await authorize(rp, browser, { email: 'oauth-page@example.com', password: 'page password 1', scope: 'openid read' });
    assert.ok(result.sawLogin && result.sawConsent);
    assert.ok(result.callback.searchParams.get('code'));
  });
});
