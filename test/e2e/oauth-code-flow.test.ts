import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser, formOf } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';
import { eventually, startWebhookSink } from '../helpers/webhook-sink.ts';

const EMAIL = 'shopper@example.com';
const PASSWORD = 'correct horse battery';

for (const storeKind of ['redis', 'memory'] as const)
  describe(`OAuth authorization code flow with openid-client (${storeKind} store)`, () => {
    let srv: TestServer;
    let rp: client.Configuration;
    let secret: string;
    const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

    before(async () => {
      srv = await startTestServer({ store: storeKind });
      await srv.services.accounts.create({
        actorType: 'customer',
        email: EMAIL,
        password: PASSWORD,
        firstName: 'Sam',
        lastName: 'Shopper',
      });
      const created = await srv.services.oauthClients.create({
        clientId: 'webapp',
        name: 'Example Web App',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      secret = created.secret!;
      rp = await relyingParty(srv.url, { clientId: 'webapp', clientSecret: secret });
    });
    after(() => srv.close());

    it('signs in, consents and exchanges the code: JWT access token and RS256 ID token verified with the remote JWKS', async () => {
      const browser = new Browser();
      const a = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid profile email read write' });
      assert.ok(a.sawLogin && a.sawConsent);
      assert.equal(a.callback.searchParams.get('state'), a.state);
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
        idTokenExpected: true,
      });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.ok(tokens.refresh_token, 'a refresh token without offline_access');

      const jwks = createRemoteJWKSet(new URL(`${srv.url}/oauth/jwks`));
      const at = await jwtVerify(tokens.access_token, jwks, {
        issuer: srv.config.issuer,
        audience: srv.config.oauth.resourceAudience,
        typ: 'at+jwt',
      });
      const customer = await srv.services.accounts.findByEmail('customer', EMAIL);
      assert.equal(at.payload.sub, customer!.id);
      assert.equal(at.payload.client_id, 'webapp');
      assert.equal(at.payload.scope, 'read write');
      assert.ok(at.payload.jti && at.payload.grant_id);
      assert.equal(at.payload.exp! - at.payload.iat!, 3600);

      const idHeader = decodeProtectedHeader(tokens.id_token!);
      assert.equal(idHeader.alg, 'RS256');
      const id = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${srv.url}/.well-known/jwks.json`)), {
        issuer: srv.config.issuer,
        audience: 'webapp',
      });
      assert.equal(id.payload.sub, customer!.id);
      assert.equal(id.payload.nonce, a.nonce);

      const v = await verify(tokens.access_token);
      assert.equal(v.status, 200);
      assert.equal(v.json.auth_method, 'oauth');
      assert.equal(v.json.client_id, 'webapp');
      assert.equal(v.json.user_id, customer!.id);
      assert.equal(v.json.actor_type, 'customer');
      assert.deepEqual(v.json.scopes, ['read', 'write']);

      // The same JWT opens userinfo, with the claims of the OpenID scopes granted.
      const info = await client.fetchUserInfo(rp, tokens.access_token, customer!.id);
      assert.equal(info.email, EMAIL);
      assert.equal(info.name, 'Sam Shopper');
    });

    /** A fresh login + consent + code exchange; returns the tokens and the browser (which keeps its session). */
    async function login(scope = 'openid read write') {
      const browser = new Browser();
      const a = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope });
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
      return { tokens, browser, a };
    }
    const tokenRequest = (body: Record<string, string>, auth = true) =>
      http(`${srv.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams(body),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(auth ? { authorization: `Basic ${Buffer.from(`webapp:${secret}`).toString('base64')}` } : {}),
        },
      });

    it('remembers the grant: a second authorization in the same browser skips login and consent', async () => {
      const { browser } = await login();
      const again = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid read write' });
      assert.equal(again.sawLogin, false);
      assert.equal(again.sawConsent, false);
      assert.ok(again.callback.searchParams.get('code'));
      // Asking for more than was granted brings the consent page back.
      const more = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid profile email read write' });
      assert.equal(more.sawConsent, true);
    });

    it('returns access_denied to the client when the user denies', async () => {
      const a = await authorize(rp, new Browser(), { email: EMAIL, password: PASSWORD, scope: 'openid read', consent: 'deny' });
      assert.equal(a.callback.searchParams.get('error'), 'access_denied');
      assert.equal(a.callback.searchParams.get('state'), a.state);
      assert.equal(a.callback.searchParams.get('code'), null);
    });

    it('re-shows the login page with an error for a wrong password, and refuses a form without its CSRF token', async () => {
      const browser = new Browser();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid read',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const page = await browser.follow(url.href, REDIRECT_URI);
      assert.match(page.html, /<label for="email">/);
      assert.match(page.html, /<label for="password">/);
      assert.match(page.html, /Example Web App/);
      assert.match(page.res.headers.get('content-security-policy')!, /default-src 'none'/);
      assert.equal(page.res.headers.get('cache-control'), 'no-store');
      const css = await fetch(`${srv.url}/oauth/assets/portcullis.css`);
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
      // Post/redirect/get: the POST answers 303 to the page, whose GET shows the error (so Back and
      // reload never resubmit the password).
      const form = formOf(page.html, '/login');
      const posted = await browser.request(new URL(form.action, page.url).href, {
        method: 'POST',
        body: new URLSearchParams({ ...form.hidden, email: EMAIL, password: 'wrong password' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(posted.status, 303);
      assert.equal(new URL(posted.headers.get('location')!, page.url).href, page.url);
      const wrong = await browser.follow(page.url, REDIRECT_URI);
      assert.equal(wrong.res.status, 200);
      assert.match(wrong.html, /role="alert"[^>]*>The email or password is incorrect/);
      assert.ok(!wrong.html.includes('wrong password'), 'the password is never echoed');
      const reloaded = await browser.follow(page.url, REDIRECT_URI);
      assert.doesNotMatch(reloaded.html, /role="alert"/, 'the error is shown once');
      const action = /action="([^"]+\/login)"/.exec(page.html)![1]!;
      const forged = await browser.request(new URL(action, page.url).href, {
        method: 'POST',
        body: new URLSearchParams({ email: EMAIL, password: PASSWORD, csrf: 'forged' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(forged.status, 403);
      // Without the interaction cookie (another browser), the page explains instead of failing.
      const stranger = await new Browser().request(page.url);
      assert.equal(stranger.status, 400);
    });

    it('rotates refresh tokens; reusing a rotated one revokes the grant and its access tokens', async () => {
      const { tokens } = await login();
      const second = await client.refreshTokenGrant(rp, tokens.refresh_token!);
      assert.ok(second.refresh_token && second.refresh_token !== tokens.refresh_token);
      assert.equal((await verify(second.access_token)).status, 200);
      await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
      // The whole grant is gone: the successor refresh token and every access token of the grant.
      await assert.rejects(client.refreshTokenGrant(rp, second.refresh_token!), (err: any) => err.error === 'invalid_grant');
      const refused = await verify(second.access_token);
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error, 'invalid_token');
      assert.equal((await verify(tokens.access_token)).status, 401);
    });

    it('lets exactly one of many concurrent refreshes of one token succeed', async () => {
      const { tokens } = await login();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => [r.status, r.json])));
      for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.json.error, 'invalid_grant');
    });

    it('refuses a reused code and revokes what the first exchange issued', async () => {
      const browser = new Browser();
      const a = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid read write' });
      const code = a.callback.searchParams.get('code')!;
      const exchange = () =>
        tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: a.codeVerifier });
      const first = await exchange();
      assert.equal(first.status, 200);
      const second = await exchange();
      assert.equal(second.status, 400);
      assert.equal(second.json.error, 'invalid_grant');
      assert.equal((await verify(first.json.access_token)).status, 401);
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
      assert.equal(refresh.json.error, 'invalid_grant');
    });

    it('refuses a missing or wrong PKCE verifier, a wrong redirect_uri, a wrong client secret and an expired code', async () => {
      const fresh = async () => {
        const a = await authorize(rp, new Browser(), { email: EMAIL, password: PASSWORD, scope: 'openid read' });
        return { code: a.callback.searchParams.get('code')!, verifier: a.codeVerifier };
      };
      let c = await fresh();
      const missing = await tokenRequest({ grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT_URI });
      assert.equal(missing.status, 400);
      assert.equal(missing.json.error, 'invalid_grant');
      c = await fresh();
      const wrong = await tokenRequest({
        grant_type: 'authorization_code',
        code: c.code,
        redirect_uri: REDIRECT_URI,
        code_verifier: client.randomPKCECodeVerifier(),
      });
      assert.equal(wrong.json.error, 'invalid_grant');
      c = await fresh();
      const otherRedirect = await tokenRequest({
        grant_type: 'authorization_code',
        code: c.code,
        redirect_uri: 'https://app.example.com/other',
        code_verifier: c.verifier,
      });
      assert.equal(otherRedirect.json.error, 'invalid_grant');
      c = await fresh();
      const badSecret = await http(`${srv.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: c.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: c.verifier,
        }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('webapp:not-the-secret').toString('base64')}`,
        },
      });
      assert.equal(badSecret.status, 401);
      assert.equal(badSecret.json.error, 'invalid_client');
      // Expired: the code outlived its 60 s (its stored expiry moved into the past).
      c = await fresh();
      const { keys } = await import('../../src/store/keys.ts');
      const { createRecordRefs } = await import('../../src/oauth/record-refs.ts');
      const key = keys.oauthModel('AuthorizationCode', createRecordRefs(srv.config.apiKeyPepper)('AuthorizationCode', c.code));
      const stored = JSON.parse((await srv.store.get(key))!);
      await srv.store.put(key, JSON.stringify({ ...stored, exp: Math.floor(Date.now() / 1000) - 120 }), { ttlSeconds: 60 });
      const expired = await tokenRequest({
        grant_type: 'authorization_code',
        code: c.code,
        redirect_uri: REDIRECT_URI,
        code_verifier: c.verifier,
      });
      assert.equal(expired.status, 400);
      assert.equal(expired.json.error, 'invalid_grant');
    });

    it('never redirects to an unregistered redirect URI', async () => {
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: 'https://evil.example.com/callback',
        scope: 'openid read',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const res = await new Browser().request(url.href);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /redirect_uri/);
    });

    it('revokes a refresh token at /oauth/revoke: the grant ends and /v1/auth/verify refuses its access token at once', async () => {
      const { tokens } = await login();
      assert.equal((await verify(tokens.access_token)).status, 200);
      await client.tokenRevocation(rp, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
      assert.equal((await verify(tokens.access_token)).status, 401);
      await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
    });

    it('introspects its own refresh token (active) and reports revoked or unknown tokens inactive', async () => {
      const { tokens } = await login();
      const active = await client.tokenIntrospection(rp, tokens.refresh_token!);
      assert.equal(active.active, true);
      assert.equal(active.client_id, 'webapp');
      assert.match(active.sub!, /^cus_/);
      assert.equal(active.scope?.includes('read'), true);
      const unknown = await client.tokenIntrospection(rp, 'not-a-token');
      assert.equal(unknown.active, false);
      await client.tokenRevocation(rp, tokens.refresh_token!);
      assert.equal((await client.tokenIntrospection(rp, tokens.refresh_token!)).active, false);
    });

    it('userinfo with a JWT says no more than its grant allows, and refuses it once the grant is revoked', async () => {
      const { tokens } = await login('openid read');
      const sub = tokens.claims()!.sub;
      const info = await client.fetchUserInfo(rp, tokens.access_token, sub);
      assert.deepEqual(Object.keys(info).sort(), ['actor_type', 'sub']);
      assert.equal(info.actor_type, 'customer');
      const fromApp = await http(`${srv.url}/oauth/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, origin: 'https://app.example.com' },
      });
      assert.equal(fromApp.headers.get('access-control-allow-origin'), 'https://app.example.com');
      const fromElsewhere = await http(`${srv.url}/oauth/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, origin: 'https://evil.example.com' },
      });
      assert.equal(fromElsewhere.headers.get('access-control-allow-origin'), null);
      await client.tokenRevocation(rp, tokens.refresh_token!);
      const refused = await http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(refused.status, 401);
      assert.equal(refused.json.error, 'invalid_token');
      assert.match(refused.headers.get('www-authenticate')!, /invalid_token/);
    });

    it('a password reset ends the sign-in at the authorization server (the next authorization asks for the password) and what apps got through it', async () => {
      const sink = await startWebhookSink();
      const peer = await startTestServer({ store: storeKind, env: { NOTIFY_WEBHOOK_URL: sink.url } });
      try {
        await peer.services.accounts.create({ actorType: 'customer', email: EMAIL, password: PASSWORD });
        const created = await peer.services.oauthClients.create({
          clientId: 'webapp',
          redirectUris: [REDIRECT_URI],
          grantTypes: ['authorization_code', 'refresh_token'],
        });
        const peerRp = await relyingParty(peer.url, { clientId: 'webapp', clientSecret: created.secret! });
        const browser = new Browser();
        const first = await authorize(peerRp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid read' });
        assert.equal(first.sawLogin, true);
        const tokens = await client.authorizationCodeGrant(peerRp, first.callback, {
          pkceCodeVerifier: first.codeVerifier,
          expectedState: first.state,
          expectedNonce: first.nonce,
        });
        assert.equal(
          (await authorize(peerRp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid read' })).sawLogin,
          false,
          'signed in',
        );

        await http(`${peer.url}/auth/customer/emailpass/reset-password`, { method: 'POST', json: { identifier: EMAIL } });
        const hook = await eventually(() => sink.events.find((e) => e.event === 'auth.password_reset'));
        const updated = await http(`${peer.url}/auth/customer/emailpass/update`, {
          method: 'POST',
          json: { password: 'a new password' },
          headers: { authorization: `Bearer ${hook.data.token}` },
        });
        assert.equal(updated.status, 200);

        const after = await authorize(peerRp, browser, { email: EMAIL, password: 'a new password', scope: 'openid read' });
        assert.equal(after.sawLogin, true, 'the old sign-in is over');
        // A derived credential ends with the sign-in it came from: the app's tokens of that sign-in stop.
        const appAccess = await http(`${peer.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        assert.equal(appAccess.status, 401, 'the access token of the ended sign-in is refused');
        await assert.rejects(client.refreshTokenGrant(peerRp, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
      } finally {
        await peer.close();
        sink.server.close();
      }
    });

    it('serves userinfo for an OpenID-only grant and ends the session at end-session', async () => {
      const { tokens, browser } = await login('openid profile email');
      const info = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
      assert.equal(info.email, EMAIL);
      assert.equal(info.name, 'Sam Shopper');
      const end = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! });
      const confirm = await browser.follow(end.href, 'https://never');
      assert.equal(confirm.res.status, 200);
      assert.match(confirm.html, /Sign out/);
      const done = await browser.submit(confirm.url, confirm.html, '/end-session/confirm', { logout: 'yes' }, 'https://never');
      assert.match(done.html, /signed out/i);
      // The session is gone: the next authorization asks for the password again.
      const next = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid' });
      assert.equal(next.sawLogin, true);
    });
  });
