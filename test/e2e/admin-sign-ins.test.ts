import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, relyingParty, REDIRECT_URI } from '../oauth/flow.ts';

const PASSWORD = 'correct horse battery';
const UA = {
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  safari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
};

/** The test's browser, with a user agent of its own. */
class NamedBrowser extends Browser {
  constructor(private readonly userAgent: string) {
    super();
  }
  override request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('user-agent', this.userAgent);
    return super.request(url, { ...init, headers });
  }
}

interface SignedIn {
  v1: { token: string; refresh_token: string };
  medusa: string;
  cookie: string;
  oauth: { access_token: string; refresh_token?: string };
}

describe('admin: live sign-ins and OAuth grants of an account', () => {
  let srv: TestServer;
  let adminToken: string;
  let rp: client.Configuration;
  let n = 0;
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => http(`${srv.url}${path}`, init);
  const asAdmin = (path: string, method = 'GET') => api(path, { method, headers: { authorization: `Bearer ${adminToken}` } });
  const verify = (token: string) => api('/v1/auth/verify', { headers: { authorization: `Bearer ${token}` } });
  const medusaLogin = async (email: string, ua?: string) => {
    const res = await api('/admin/auth/token', {
      method: 'POST',
      json: { email, password: PASSWORD },
      headers: ua ? { 'user-agent': ua } : {},
    });
    assert.equal(res.status, 200, res.text);
    return res.json.token as string;
  };
  const newUser = async (role: 'admin' | 'developer' | 'member' = 'developer') =>
    srv.services.accounts.create({ actorType: 'user', email: `user${++n}@example.com`, password: PASSWORD, role });

  /** The four kinds of sign-in, each from its own user agent. */
  async function signInEveryWay(email: string): Promise<SignedIn> {
    const v1 = await api('/v1/auth/login', {
      method: 'POST',
      json: { username: email, password: PASSWORD },
      headers: { 'user-agent': UA.firefox },
    });
    assert.equal(v1.status, 200, v1.text);
    const medusa = await medusaLogin(email, UA.chrome);
    const start = await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${medusa}`, 'user-agent': UA.safari } });
    assert.equal(start.status, 200, start.text);
    const cookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const a = await authorize(rp, new NamedBrowser(UA.edge), { email, password: PASSWORD, scope: 'openid read' });
    const oauth = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    return { v1: v1.json, medusa, cookie, oauth };
  }

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: PASSWORD, role: 'admin' });
    adminToken = await medusaLogin('admin@example.com');
    const created = await srv.services.oauthClients.create({
      clientId: 'backoffice-app',
      name: 'Back office',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      loginActor: 'user',
    });
    rp = await relyingParty(srv.url, { clientId: 'backoffice-app', clientSecret: created.secret! });
  });
  after(() => srv.close());

  it('lists every live sign-in with its kind, client address and parsed user agent; its ids are no credentials', async () => {
    const user = await newUser();
    const signedIn = await signInEveryWay(user.email);
    const res = await asAdmin(`/admin/users/${user.id}/sessions`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.count, 4);
    const byKind = Object.fromEntries(res.json.sessions.map((s: any) => [s.kind, s]));
    assert.deepEqual(Object.keys(byKind).sort(), ['family', 'lineage', 'oauth-session', 'session']);
    const browsers = { family: 'Firefox', lineage: 'Chrome', session: 'Safari', 'oauth-session': 'Microsoft Edge' } as const;
    for (const [kind, browser] of Object.entries(browsers)) {
      const s = byKind[kind];
      assert.match(s.ip, /127\.0\.0\.1$/, kind);
      assert.ok(s.user_agent.browser.startsWith(browser), `${kind}: ${s.user_agent.browser}`);
      assert.ok(Date.parse(s.created_at) <= Date.now() && Date.parse(s.last_used_at) >= Date.parse(s.created_at), kind);
      assert.ok(Date.parse(s.expires_at) > Date.now(), kind);
    }
    assert.equal(byKind.session.user_agent.os, 'iOS 17.5');
    assert.equal(byKind.session.user_agent.device, 'mobile');

    // No credential, nor any part of one, is in the listing; an id opens nothing.
    const cookieId = decodeURIComponent(signedIn.cookie.match(/connect\.sid=([^;]+)/)![1]!);
    const familyId = signedIn.v1.refresh_token.slice(3, signedIn.v1.refresh_token.indexOf('.'));
    const secrets = [
      signedIn.v1.token,
      signedIn.v1.refresh_token,
      familyId,
      signedIn.medusa,
      String(decodeJwt(signedIn.medusa).sid),
      cookieId,
      signedIn.oauth.access_token,
      signedIn.oauth.refresh_token!,
    ];
    for (const secret of secrets) assert.ok(!res.text.includes(secret), `the listing shows ${secret.slice(0, 12)}...`);
    for (const s of res.json.sessions) {
      assert.equal((await verify(s.id)).status, 401);
      assert.equal((await api('/admin/users/me', { headers: { cookie: `connect.sid=${s.id}` } })).status, 401);
    }
  });

  it('ending one sign-in ends exactly that one, at once; the others keep working', async () => {
    const user = await newUser();
    const signedIn = await signInEveryWay(user.email);
    const list = async () => (await asAdmin(`/admin/users/${user.id}/sessions`)).json.sessions as { id: string; kind: string }[];
    const idOf = async (kind: string) => (await list()).find((s) => s.kind === kind)!.id;
    const cookieWorks = async () => (await api('/admin/users/me', { headers: { cookie: signedIn.cookie } })).status === 200;
    const refreshV1 = () => api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: signedIn.v1.refresh_token } });

    const family = await idOf('family');
    const ended = await asAdmin(`/admin/users/${user.id}/sessions/${family}`, 'DELETE');
    assert.equal(ended.status, 200, ended.text);
    assert.deepEqual(ended.json, { id: family, object: 'session', deleted: true });
    assert.equal((await verify(signedIn.v1.token)).status, 401);
    assert.equal((await refreshV1()).status, 401);
    assert.equal((await verify(signedIn.medusa)).status, 200);
    assert.ok(await cookieWorks());
    assert.equal((await verify(signedIn.oauth.access_token)).status, 200);
    assert.deepEqual((await list()).map((s) => s.kind).sort(), ['lineage', 'oauth-session', 'session']);
    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions/${family}`, 'DELETE')).status, 404);

    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions/${await idOf('session')}`, 'DELETE')).status, 200);
    assert.equal(await cookieWorks(), false);
    assert.equal((await verify(signedIn.medusa)).status, 200);
    assert.equal((await verify(signedIn.oauth.access_token)).status, 200);

    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions/${await idOf('lineage')}`, 'DELETE')).status, 200);
    assert.equal((await verify(signedIn.medusa)).status, 401);
    assert.equal((await verify(signedIn.oauth.access_token)).status, 200);

    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions/${await idOf('oauth-session')}`, 'DELETE')).status, 200);
    assert.equal((await verify(signedIn.oauth.access_token)).status, 401);
    assert.deepEqual(await list(), []);
  });

  it("lists a customer's sign-ins under /admin/customers, and only there", async () => {
    const customer = await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: PASSWORD });
    const pk = await srv.services.apiKeys.create({ type: 'publishable', title: 'Storefront', createdBy: 'user_test' });
    const login = await api('/store/auth/token', {
      method: 'POST',
      json: { email: customer.email, password: PASSWORD },
      headers: { 'x-publishable-api-key': pk.token, 'user-agent': UA.chrome },
    });
    assert.equal(login.status, 200, login.text);
    const res = await asAdmin(`/admin/customers/${customer.id}/sessions`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.count, 1);
    assert.equal(res.json.sessions[0].kind, 'lineage');
    assert.equal(res.json.sessions[0].user_agent.browser.split(' ')[0], 'Chrome');
    assert.equal((await asAdmin(`/admin/users/${customer.id}/sessions`)).status, 404);
    assert.equal((await asAdmin(`/admin/users/${customer.id}/sessions/${res.json.sessions[0].id}`, 'DELETE')).status, 404);
    assert.equal((await verify(login.json.token)).status, 200);
    assert.equal((await asAdmin(`/admin/customers/${customer.id}/sessions/${res.json.sessions[0].id}`, 'DELETE')).status, 200);
    assert.equal((await verify(login.json.token)).status, 401);
  });

  it("lists a user's OAuth grants per client and per user; withdrawing one refuses its access and refresh tokens at once", async () => {
    const user = await newUser();
    const first = await authorize(rp, new NamedBrowser(UA.edge), { email: user.email, password: PASSWORD, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, first.callback, {
      pkceCodeVerifier: first.codeVerifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
    });
    const grantId = String(decodeJwt(tokens.access_token).grant_id);

    const byUser = await asAdmin(`/admin/users/${user.id}/grants`);
    assert.equal(byUser.status, 200, byUser.text);
    assert.equal(byUser.json.count, 1);
    const [grant] = byUser.json.grants;
    assert.equal(grant.id, grantId);
    assert.deepEqual(grant.client, { id: 'backoffice-app', name: 'Back office' });
    assert.equal(grant.account_id, user.id);
    assert.ok(grant.scopes.includes('openid') && grant.scopes.includes('read'), grant.scopes.join(' '));
    assert.ok(Date.parse(grant.created_at) <= Date.now());
    assert.ok(Date.parse(grant.last_refreshed_at) >= Date.parse(grant.created_at));
    const byClient = await asAdmin('/admin/oauth-clients/backoffice-app/grants');
    assert.equal(byClient.status, 200, byClient.text);
    assert.ok(byClient.json.grants.some((g: any) => g.id === grantId && g.account_id === user.id));

    // Another user's grant is not this user's to withdraw.
    const other = await newUser();
    assert.equal((await asAdmin(`/admin/users/${other.id}/grants/${grantId}`, 'DELETE')).status, 404);
    assert.equal((await verify(tokens.access_token)).status, 200);

    const withdrawn = await asAdmin(`/admin/users/${user.id}/grants/${grantId}`, 'DELETE');
    assert.equal(withdrawn.status, 200, withdrawn.text);
    assert.deepEqual(withdrawn.json, { id: grantId, object: 'oauth_grant', deleted: true });
    assert.equal((await verify(tokens.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!), (e: any) => e.error === 'invalid_grant');
    assert.equal((await asAdmin(`/admin/users/${user.id}/grants`)).json.count, 0);
    assert.ok(!(await asAdmin('/admin/oauth-clients/backoffice-app/grants')).json.grants.some((g: any) => g.id === grantId));
    assert.equal((await asAdmin(`/admin/users/${user.id}/grants/${grantId}`, 'DELETE')).status, 404);
  });

  it("withdraws a grant through its client's route too", async () => {
    const user = await newUser();
    const a = await authorize(rp, new NamedBrowser(UA.edge), { email: user.email, password: PASSWORD, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    const grantId = String(decodeJwt(tokens.access_token).grant_id);
    assert.equal((await asAdmin(`/admin/oauth-clients/no-such-client/grants/${grantId}`, 'DELETE')).status, 404);
    const res = await asAdmin(`/admin/oauth-clients/backoffice-app/grants/${grantId}`, 'DELETE');
    assert.equal(res.status, 200, res.text);
    assert.equal((await verify(tokens.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!), (e: any) => e.error === 'invalid_grant');
    assert.equal((await asAdmin(`/admin/users/${user.id}/grants`)).json.count, 0);
  });

  it('refuses members, developers and their keys; answers 404 for what does not exist', async () => {
    const user = await newUser();
    await signInEveryWay(user.email);
    const sessionId = (await asAdmin(`/admin/users/${user.id}/sessions`)).json.sessions[0].id;
    for (const role of ['member', 'developer'] as const) {
      const token = await medusaLogin((await newUser(role)).email);
      const as = (path: string, method = 'GET') => api(path, { method, headers: { authorization: `Bearer ${token}` } });
      for (const path of [
        `/admin/users/${user.id}/sessions`,
        `/admin/users/${user.id}/grants`,
        '/admin/oauth-clients/backoffice-app/grants',
      ]) {
        const res = await as(path);
        assert.equal(res.status, 403, `${role} GET ${path}`);
        assert.equal(res.json.type, 'forbidden');
      }
      assert.equal((await as(`/admin/users/${user.id}/sessions/${sessionId}`, 'DELETE')).status, 403, role);
    }
    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions`)).json.count, 4);
    assert.equal((await api(`/admin/users/${user.id}/sessions`)).status, 401);

    for (const path of [
      '/admin/users/usr_nobody/sessions',
      '/admin/users/usr_nobody/grants',
      '/admin/customers/cus_nobody/sessions',
      '/admin/customers/cus_nobody/grants',
      '/admin/oauth-clients/no-such-client/grants',
    ]) {
      const res = await asAdmin(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.type, 'not_found', path);
    }
    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions/si_nothing`, 'DELETE')).status, 404);
    assert.equal((await asAdmin(`/admin/users/${user.id}/grants/nothing`, 'DELETE')).status, 404);
    assert.equal((await asAdmin(`/admin/users/${user.id}/sessions`)).json.count, 4);
  });
});
