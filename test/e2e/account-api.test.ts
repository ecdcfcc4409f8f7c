import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { keys } from '../../src/store/keys.ts';
import { dropPrefix, http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, relyingParty, REDIRECT_URI } from '../oauth/flow.ts';

const PASSWORD = 'correct horse battery';

describe('/v1/account: a person manages their own account', () => {
  let a: TestServer;
  let b: TestServer;
  let rp: client.Configuration;
  let n = 0;
  const api = (path: string, init: RequestInit & { json?: unknown } = {}, srv = a) => http(`${srv.url}${path}`, init);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const as = (token: string, path: string, init: RequestInit & { json?: unknown } = {}, srv = a) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return api(path, { ...init, headers }, srv);
  };
  const verify = (token: string, srv = a) => api('/v1/auth/verify', { headers: bearer(token) }, srv);
  const newAccount = (actorType: 'user' | 'customer' = 'customer') =>
    a.services.accounts.create({ actorType, email: `person${++n}@example.com`, password: PASSWORD, firstName: 'Ada', lastName: 'L' });
  const v1Login = async (email: string, actor_type: 'user' | 'customer' = 'customer', password = PASSWORD) => {
    const res = await api('/v1/auth/login', { method: 'POST', json: { username: email, password, actor_type } });
    return res;
  };
  const login = async (email: string, actor_type: 'user' | 'customer' = 'customer') => {
    const res = await v1Login(email, actor_type);
    assert.equal(res.status, 200, res.text);
    return res.json as { token: string; refresh_token: string };
  };
  const medusaLogin = async (email: string, actor: 'user' | 'customer') => {
    const res = await api(`/auth/${actor}/emailpass`, { method: 'POST', json: { email, password: PASSWORD } });
    assert.equal(res.status, 200, res.text);
    return res.json.token as string;
  };
  const sessionCookie = async (medusaToken: string) => {
    const res = await api('/auth/session', { method: 'POST', headers: bearer(medusaToken) });
    assert.equal(res.status, 200, res.text);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  };
  const connectApp = async (email: string) => {
    const flow = await authorize(rp, new Browser(), { email, password: PASSWORD, scope: 'openid read' });
    return client.authorizationCodeGrant(rp, flow.callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
  };

  before(async () => {
    a = await startTestServer();
    // A second instance on the same Redis namespace: what one withdraws, the other refuses.
    b = await startTestServer({ prefix: a.prefix, env: { PUBLIC_URL: a.url } });
    const created = await a.services.oauthClients.create({
      clientId: 'photo-app',
      name: 'Photo app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'offline_access', 'read'],
      loginActor: 'customer',
    });
    rp = await relyingParty(a.url, { clientId: 'photo-app', clientSecret: created.secret! });
  });
  after(async () => {
    await b.close();
    await a.close();
    await dropPrefix(a.prefix);
  });

  it('accepts first-party JWTs (/v1, Medusa user and customer tokens) and the session cookie', async () => {
    const customer = await newAccount('customer');
    const user = await newAccount('user');
    const medusaCustomer = await medusaLogin(customer.email, 'customer');
    const cookie = await sessionCookie(medusaCustomer);
    const tries = [
      { who: customer, res: await as((await login(customer.email)).token, '/v1/account') },
      { who: user, res: await as((await login(user.email, 'user')).token, '/v1/account') },
      { who: customer, res: await as(medusaCustomer, '/v1/account') },
      { who: user, res: await as(await medusaLogin(user.email, 'user'), '/v1/account') },
      { who: customer, res: await api('/v1/account', { headers: { cookie } }) },
    ];
    for (const { who, res } of tries) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.id, who.id);
      assert.equal(res.json.email, who.email);
      assert.equal(res.json.actor_type, who.actor_type);
      assert.equal(res.json.first_name, 'Ada');
      assert.ok(!('password_hash' in res.json));
    }
  });

  it('refuses API keys, OAuth access tokens and registration tokens: they are not the person', async () => {
    const user = await newAccount('user');
    const customer = await newAccount('customer');
    const { token: apiKey } = await a.services.apiKeys.create({
      type: 'secret',
      title: 'k',
      createdBy: user.id,
      scopes: ['read', 'write'],
    });
    const oauth = await connectApp(customer.email);
    const machine = await a.services.oauthClients.create({ clientId: 'machine', grantTypes: ['client_credentials'], scopes: ['read'] });
    const clientToken = await client.clientCredentialsGrant(
      await relyingParty(a.url, { clientId: 'machine', clientSecret: machine.secret! }),
      {
        scope: 'read',
      },
    );
    const registration = (
      await api('/auth/customer/emailpass/register', { method: 'POST', json: { email: 'new-person@example.com', password: PASSWORD } })
    ).json.token as string;
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/account'],
      ['POST', '/v1/account', { first_name: 'Eve' }],
      ['POST', '/v1/account/password', { current_password: PASSWORD, new_password: 'a brand new secret' }],
      ['GET', '/v1/account/sessions'],
      ['POST', '/v1/account/sessions/sign-out-others'],
      ['DELETE', '/v1/account/sessions/si_whatever'],
      ['GET', '/v1/account/grants'],
      ['DELETE', `/v1/account/grants/${String(decodeJwt(oauth.access_token).grant_id)}`],
      ['GET', '/v1/account/activity'],
    ];
    const refused: { kind: string; headers: Record<string, string>; status: number; message?: RegExp }[] = [
      { kind: 'secret API key (Bearer)', headers: bearer(apiKey), status: 403, message: /API key/ },
      { kind: 'secret API key (Basic)', headers: { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}` }, status: 403 },
      { kind: 'OAuth access token', headers: bearer(oauth.access_token), status: 403, message: /OAuth access token/ },
      { kind: "a client's own OAuth token", headers: bearer(clientToken.access_token), status: 403 },
      { kind: 'registration token', headers: bearer(registration), status: 401 },
      { kind: 'no credential', headers: {}, status: 401 },
      { kind: 'a broken token', headers: bearer('eyJhbGciOiJub25lIn0.e30.'), status: 401 },
    ];
    for (const [method, path, json] of routes) {
      for (const r of refused) {
        const res = await api(path, { method, headers: r.headers, ...(json ? { json } : {}) });
        assert.equal(res.status, r.status, `${method} ${path} with ${r.kind}: ${res.text}`);
        assert.equal(res.json.error, r.status === 403 ? 'forbidden' : 'invalid_token', `${method} ${path} with ${r.kind}`);
        if (r.message) assert.match(res.json.message, r.message);
      }
    }
    // Nothing was changed by any of them: the password and the app's grant are as they were.
    assert.equal((await v1Login(customer.email)).status, 200);
    assert.equal((await verify(oauth.access_token)).status, 200);
    assert.equal((await a.services.accounts.get(user.id))?.first_name, 'Ada');
  });

  it('changes the name; bad input is a 400 in the v1 dialect', async () => {
    const customer = await newAccount();
    const { token } = await login(customer.email);
    const res = await as(token, '/v1/account', { method: 'POST', json: { first_name: 'Grace', last_name: '' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.first_name, 'Grace');
    assert.equal(res.json.last_name, null);
    assert.equal((await as(token, '/v1/account')).json.first_name, 'Grace');
    for (const json of [{ email: 'x@example.com' }, { first_name: 'x'.repeat(101) }, { first_name: 7 }]) {
      const bad = await as(token, '/v1/account', { method: 'POST', json });
      assert.equal(bad.status, 400, JSON.stringify(json));
      assert.equal(bad.json.error, 'invalid_request');
      assert.equal(bad.json.code, 400);
    }
    assert.equal((await a.services.accounts.get(customer.id))?.email, customer.email);
  });

  it('changes the password: the current one is required, the policy applies, other sign-ins end on request', async () => {
    const customer = await newAccount();
    const mine = await login(customer.email);
    const other = await login(customer.email);
    const change = (json: unknown) => as(mine.token, '/v1/account/password', { method: 'POST', json });

    const wrong = await change({ current_password: 'not my password', new_password: 'a brand new secret' });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(wrong.json.error, 'invalid_current_password');
    const weak = await change({ current_password: PASSWORD, new_password: 'short' });
    assert.equal(weak.status, 400);
    assert.match(weak.json.message, /at least 8 characters/);
    const common = await change({ current_password: PASSWORD, new_password: 'password123' });
    assert.equal(common.status, 400);
    assert.match(common.json.message, /commonly used/);
    assert.equal((await change({ new_password: 'a brand new secret' })).status, 400);
    assert.equal((await v1Login(customer.email)).status, 200, 'the password is unchanged');

    const ok = await change({ current_password: PASSWORD, new_password: 'a brand new secret', sign_out_others: true });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.json.sign_ins_ended >= 2, `ended ${ok.json.sign_ins_ended}`);
    assert.equal((await verify(mine.token)).status, 200, 'this sign-in stays');
    assert.equal((await verify(other.token)).status, 401, 'the other sign-in ended');
    assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: other.refresh_token } })).status, 401);
    assert.equal((await v1Login(customer.email)).status, 401, 'the old password no longer works');
    assert.equal((await v1Login(customer.email, 'customer', 'a brand new secret')).status, 200);

    // Without sign_out_others the other sign-ins stay.
    const third = await login(customer.email, 'customer').catch(() => null);
    assert.equal(third, null, 'the old password is gone');
    const again = (await v1Login(customer.email, 'customer', 'a brand new secret')).json;
    const kept = await as(mine.token, '/v1/account/password', {
      method: 'POST',
      json: { current_password: 'a brand new secret', new_password: 'another fine secret' },
    });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.json.sign_ins_ended, 0);
    assert.equal((await verify(again.token)).status, 200);
  });

  it('throttles wrong current passwords like failed logins (429 with Retry-After)', async () => {
    const customer = await newAccount();
    const { token } = await login(customer.email);
    let last;
    for (let i = 0; i < 12; i++) {
      last = await as(token, '/v1/account/password', {
        method: 'POST',
        json: { current_password: `guess ${i}`, new_password: 'a brand new secret' },
      });
      if (last.status === 429) break;
      assert.equal(last.status, 400);
    }
    assert.equal(last!.status, 429, 'guessing the current password is throttled');
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
  });

  it("lists the caller's sign-ins with the current one marked; ends one, or every other; never another account's", async () => {
    const customer = await newAccount();
    const stranger = await newAccount();
    const mine = await login(customer.email);
    const phone = await login(customer.email);
    const tablet = await login(customer.email);
    const strangers = await login(stranger.email);

    const list = await as(mine.token, '/v1/account/sessions');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.count, 3);
    const current = list.json.sessions.filter((s: any) => s.current);
    assert.equal(current.length, 1);
    assert.equal(current[0].kind, 'family');
    assert.match(current[0].ip, /127\.0\.0\.1$/);
    for (const secret of [mine.token, mine.refresh_token, phone.refresh_token]) assert.ok(!list.text.includes(secret));

    // Another account's sign-in id is not found, and stays signed in.
    const strangerId = (await as(strangers.token, '/v1/account/sessions')).json.sessions[0].id;
    const foreign = await as(mine.token, `/v1/account/sessions/${strangerId}`, { method: 'DELETE' });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.json.error, 'not_found');
    assert.equal((await verify(strangers.token)).status, 200);
    assert.equal((await as(mine.token, '/v1/account/sessions/si_nothing', { method: 'DELETE' })).status, 404);

    // The phone's sign-in (the one that is not current and was listed) ends.
    const phoneSignIn = (await as(phone.token, '/v1/account/sessions')).json.sessions.find((s: any) => s.current).id;
    const ended = await as(mine.token, `/v1/account/sessions/${phoneSignIn}`, { method: 'DELETE' });
    assert.equal(ended.status, 200, ended.text);
    assert.deepEqual(ended.json, { id: phoneSignIn, object: 'session', deleted: true });
    assert.equal((await verify(phone.token)).status, 401);
    assert.equal((await verify(phone.token, b)).status, 401, 'on the other instance too');
    assert.equal((await verify(tablet.token)).status, 200);

    const others = await as(mine.token, '/v1/account/sessions/sign-out-others', { method: 'POST' });
    assert.equal(others.status, 200, others.text);
    assert.equal(others.json.sign_ins_ended, 1);
    assert.equal((await verify(tablet.token)).status, 401);
    assert.equal((await verify(mine.token)).status, 200);
    assert.equal((await verify(strangers.token)).status, 200, "another account's sign-ins are untouched");
    assert.equal((await as(mine.token, '/v1/account/sessions')).json.count, 1);
  });

  it('a cookie session marks itself current; cookie writes need the page origin and JSON', async () => {
    const customer = await newAccount();
    const cookie = await sessionCookie(await medusaLogin(customer.email, 'customer'));
    const other = await login(customer.email);
    const list = await api('/v1/account/sessions', { headers: { cookie } });
    assert.equal(list.status, 200, list.text);
    const kinds = list.json.sessions
      .filter((s: any) => s.current)
      .map((s: any) => s.kind)
      .sort();
    assert.deepEqual(kinds, ['lineage', 'session']);
    const crossSite = await api('/v1/account/sessions/sign-out-others', {
      method: 'POST',
      json: {},
      headers: { cookie, origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);
    assert.equal((await verify(other.token)).status, 200);
    const sameSite = await api('/v1/account/sessions/sign-out-others', { method: 'POST', json: {}, headers: { cookie, origin: a.url } });
    assert.equal(sameSite.status, 200, sameSite.text);
    assert.equal((await verify(other.token)).status, 401);
    assert.equal((await api('/v1/account', { headers: { cookie } })).status, 200, 'the session itself stays');
  });

  it('lists connected apps in words and withdraws one: its tokens are refused at once on every instance', async () => {
    const customer = await newAccount();
    const stranger = await newAccount();
    const tokens = await connectApp(customer.email);
    const grantId = String(decodeJwt(tokens.access_token).grant_id);
    assert.ok(tokens.refresh_token, 'the app holds a refresh token');
    assert.equal((await verify(tokens.access_token, b)).status, 200, 'instance b has seen (and cached) the token');
    const { token } = await login(customer.email);
    const strangerToken = (await login(stranger.email)).token;

    const list = await as(token, '/v1/account/grants');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.count, 1);
    const [app] = list.json.grants;
    assert.equal(app.id, grantId);
    assert.deepEqual(app.client, { id: 'photo-app', name: 'Photo app', logo_uri: null });
    assert.deepEqual(app.scopes.map((s: any) => s.name).sort(), ['openid', 'read']);
    assert.equal(app.scopes.find((s: any) => s.name === 'read').description, 'Read your data');
    assert.ok(Date.parse(app.granted_at) <= Date.now());
    assert.ok(Date.parse(app.last_used_at) >= Date.parse(app.granted_at));
    assert.equal((await as(strangerToken, '/v1/account/grants')).json.count, 0);

    // Another account cannot withdraw it (404), and the app keeps its access.
    const foreign = await as(strangerToken, `/v1/account/grants/${grantId}`, { method: 'DELETE' });
    assert.equal(foreign.status, 404);
    assert.equal((await verify(tokens.access_token)).status, 200);

    const removed = await as(token, `/v1/account/grants/${grantId}`, { method: 'DELETE' }, b);
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.json, { id: grantId, object: 'oauth_grant', deleted: true });
    assert.equal((await verify(tokens.access_token, a)).status, 401);
    assert.equal((await verify(tokens.access_token, b)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!), (e: any) => e.error === 'invalid_grant');
    assert.equal((await as(token, '/v1/account/grants')).json.count, 0);
    assert.equal((await as(token, `/v1/account/grants/${grantId}`, { method: 'DELETE' })).status, 404);
  });

  it('shows recent security activity of the caller only, in words', async () => {
    const customer = await newAccount();
    const stranger = await newAccount();
    await login(stranger.email);
    const tokens = await connectApp(customer.email);
    const { token } = await login(customer.email);
    await as(token, '/v1/account/password', {
      method: 'POST',
      json: { current_password: 'wrong one', new_password: 'a brand new secret' },
    });
    await as(token, '/v1/account/password', { method: 'POST', json: { current_password: PASSWORD, new_password: 'a brand new secret' } });
    await as(token, `/v1/account/grants/${String(decodeJwt(tokens.access_token).grant_id)}`, { method: 'DELETE' });

    const res = await as(token, '/v1/account/activity');
    assert.equal(res.status, 200, res.text);
    const types = res.json.events.map((e: any) => `${e.type}:${e.outcome}`);
    for (const t of [
      'oauth_grant.revoked:success',
      'auth.password_changed:success',
      'auth.password_changed:failure',
      'auth.login.succeeded:success',
      'oauth_grant.given:success',
    ])
      assert.ok(types.includes(t), `${t} in ${types.join(' ')}`);
    assert.equal(res.json.events[0].type, 'oauth_grant.revoked', 'newest first');
    assert.equal(res.json.events[0].description, 'Removed an app');
    assert.equal(res.json.events[0].client_id, 'photo-app');
    const strangerSignIn = await as((await login(stranger.email)).token, '/v1/account/activity');
    assert.ok(strangerSignIn.json.events.every((e: any) => e.type === 'auth.login.succeeded'));
    assert.equal((await as(token, '/v1/account/activity?limit=2')).json.events.length, 2);
    // Read from the account's own short copy of the trail, which expires like the trail.
    const ttl = await a.store.ttl(keys.accountEvents(customer.id));
    assert.ok(ttl > 0 && ttl <= a.config.auditRetention, `ttl ${ttl}`);
    assert.equal((await as(token, '/v1/account/activity?limit=0')).status, 400);
    assert.equal((await as(token, '/v1/account/activity?limit=abc')).status, 400);
  });

  it('a disabled account can no longer use its account API, nor its sign-ins', async () => {
    const customer = await newAccount();
    const { token } = await login(customer.email);
    assert.equal((await as(token, '/v1/account')).status, 200);
    await a.services.accounts.update(customer.id, { disabled: true });
    const res = await as(token, '/v1/account/sessions/sign-out-others', { method: 'POST' });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.error, 'invalid_token');
  });
});
