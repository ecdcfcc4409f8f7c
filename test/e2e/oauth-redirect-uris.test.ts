import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { http, runCli, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, relyingParty } from '../oauth/flow.ts';

const CUSTOMER = { email: 'native@example.com', password: 'native password 1' };
const DEVELOPER = { email: 'dev@example.com', password: 'developer pass 1' };

/** Redirect URIs no client may register, anywhere, and the words of the rule each breaks. */
const UNSAFE: [uri: string, rule: RegExp][] = [
  ['https://*.example.com/callback', /wildcard/],
  ['https://app.example.com/callback/*', /wildcard/],
  ['https://app.example.com/callback#done', /fragment/],
  ['https://app.example.com/callback#', /fragment/],
  ['https://user:secret@app.example.com/callback', /user information/],
  ['https://app.example.com@evil.example/callback', /user information/],
  ['javascript:alert(document.cookie)', /javascript: scheme/],
  ['data:text/html,<script>alert(1)</script>', /data: scheme/],
  ['file:///etc/passwd', /file: scheme/],
  ['myapp:/callback', /reverse-DNS/],
];

async function developerToken(srv: TestServer): Promise<string> {
  await srv.services.accounts.create({ actorType: 'user', email: DEVELOPER.email, password: DEVELOPER.password, role: 'developer' });
  const res = await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: DEVELOPER.email, password: DEVELOPER.password } });
  assert.equal(res.status, 200, res.text);
  return res.json.token as string;
}

describe('OAuth client redirect URIs (RFC 8252): what may be registered, native apps and loopback ports', () => {
  let srv: TestServer;
  let token: string;
  const register = (body: Record<string, unknown>, on = srv, bearer = token) =>
    http(`${on.url}/admin/oauth-clients`, { method: 'POST', json: body, headers: { authorization: `Bearer ${bearer}` } });
  const cli = (...args: string[]) => runCli(srv.prefix, ['client', ...args]);

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', email: CUSTOMER.email, password: CUSTOMER.password });
    token = await developerToken(srv);
  });
  after(() => srv.close());

  it('the Admin API refuses each unsafe redirect URI with 400 invalid_data naming the URI and the rule, and stores nothing', async () => {
    for (const [i, [uri, rule]] of UNSAFE.entries()) {
      for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
        const body =
          field === 'redirect_uris'
            ? { redirect_uris: [uri] }
            : { redirect_uris: ['https://app.example.com/cb'], post_logout_redirect_uris: [uri] };
        const res = await register({ client_id: `unsafe-${i}-${field.length}`, ...body });
        assert.equal(res.status, 400, `${field} ${uri}: ${res.text}`);
        assert.equal(res.json.type, 'invalid_data');
        assert.match(res.json.message, rule, uri);
        assert.ok(res.json.message.includes(uri), `the message names ${uri}: ${res.json.message}`);
        assert.equal(await srv.store.get(`oauth-client:unsafe-${i}-${field.length}`), null);
      }
    }
    // An update is held to the same rules.
    assert.equal((await register({ client_id: 'safe-then-not', redirect_uris: ['https://app.example.com/cb'] })).status, 200);
    const update = await http(`${srv.url}/admin/oauth-clients/safe-then-not`, {
      method: 'POST',
      json: { redirect_uris: ['https://*.example.com/cb'] },
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(update.status, 400);
    assert.match(update.json.message, /wildcard/);
    // A native app's scheme cannot be mixed with plain http to another host (one client, one kind).
    const mixed = await register({ client_id: 'mixed', redirect_uris: ['com.example.app:/cb', 'http://app.example.test/cb'] });
    assert.equal(mixed.status, 400);
    assert.match(mixed.json.message, /private-use scheme/);
  });

  it('the CLI refuses each unsafe redirect URI: exit 2, the URI and the rule on stderr, nothing on stdout', async () => {
    // One URI per rule (the CLI and the Admin API share the registry's checks; each run is a process).
    const cases = UNSAFE.filter(([, rule], i) => UNSAFE.findIndex(([, r]) => r.source === rule.source) === i);
    const results = await Promise.all(
      cases.map(([uri], i) => cli('create', '--client-id', `cli-unsafe-${i}`, '--public', '--redirect-uri', uri)),
    );
    for (const [i, [uri, rule]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.code, 2, `${uri}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, rule, uri);
      assert.ok(r.stderr.includes(uri), r.stderr);
      assert.equal(await srv.store.get(`oauth-client:cli-unsafe-${i}`), null);
    }
    const ok = await cli(
      'create',
      '--client-id',
      'cli-native',
      '--public',
      '--redirect-uri',
      'com.example.cli:/oauth2redirect',
      '--redirect-uri',
      'http://127.0.0.1/cb',
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).redirect_uris, ['com.example.cli:/oauth2redirect', 'http://127.0.0.1/cb']);
  });

  it('a native app with a private-use scheme (com.example.app:/cb) completes the code flow with PKCE', async () => {
    const created = await register({
      client_id: 'native-app',
      public: true,
      redirect_uris: ['com.example.app:/cb'],
      scopes: ['openid', 'read'],
    });
    assert.equal(created.status, 200, created.text);
    const rp = await relyingParty(srv.url, { clientId: 'native-app' });
    const browser = new Browser();
    const a = await authorize(rp, browser, { ...CUSTOMER, scope: 'openid read', redirectUri: 'com.example.app:/cb' });
    assert.equal(a.callback.protocol, 'com.example.app:');
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    const v = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(v.status, 200);
    assert.equal(v.json.client_id, 'native-app');
    // Another app can claim the same scheme (RFC 8252 §8.6): a native client's user confirms every time.
    const again = await authorize(rp, browser, { ...CUSTOMER, scope: 'openid read', redirectUri: 'com.example.app:/cb' });
    assert.equal(again.sawLogin, false);
    assert.equal(again.sawConsent, true);
    // Another scheme is not this app's.
    const other = client.buildAuthorizationUrl(rp, {
      redirect_uri: 'com.example.evil:/cb',
      scope: 'openid',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
    });
    const refused = await fetch(other, { redirect: 'manual' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /redirect_uri/);
  });

  it('a loopback redirect registered without a port (http://127.0.0.1/cb) accepts the port the app listens on, and only loopback gets that', async () => {
    const created = await register({
      client_id: 'loopback-app',
      public: true,
      redirect_uris: ['http://127.0.0.1/cb', 'http://[::1]/cb'],
      scopes: ['openid', 'read'],
    });
    assert.equal(created.status, 200, created.text);
    const rp = await relyingParty(srv.url, { clientId: 'loopback-app' });
    for (const redirectUri of ['http://127.0.0.1:53123/cb', 'http://[::1]:61000/cb']) {
      const a = await authorize(rp, new Browser(), { ...CUSTOMER, scope: 'openid read', redirectUri });
      assert.equal(a.callback.origin + a.callback.pathname, redirectUri);
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
      assert.ok(tokens.access_token);
    }
    const refusedAt = async (rpc: client.Configuration, redirect_uri: string) => {
      const url = client.buildAuthorizationUrl(rpc, {
        redirect_uri,
        scope: 'openid',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
      });
      const res = await fetch(url, { redirect: 'manual' });
      return res.status === 400 && /redirect_uri/.test(await res.text());
    };
    // The port is free; the path and the host are not.
    assert.ok(await refusedAt(rp, 'http://127.0.0.1:53123/other'));
    assert.ok(await refusedAt(rp, 'http://127.0.0.2:53123/cb'));
    // A web client's redirect keeps exact matching, port included.
    const web = await register({ client_id: 'web-app', public: true, redirect_uris: ['https://app.example.com/cb'], scopes: ['openid'] });
    assert.equal(web.status, 200);
    assert.ok(await refusedAt(await relyingParty(srv.url, { clientId: 'web-app' }), 'https://app.example.com:8443/cb'));
  });

  describe('in production', () => {
    let prod: TestServer;
    let prodToken: string;
    before(async () => {
      prod = await startTestServer({
        env: {
          NODE_ENV: 'production',
          JWKS: JSON.stringify(srv.config.jwks),
          KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
          COOKIE_SECRET: 'c'.repeat(40),
          API_KEY_PEPPER: 'p'.repeat(40),
        },
      });
      prodToken = await developerToken(prod);
    });
    after(() => prod?.close());

    it('refuses plain http off the loopback IPs and the name localhost, accepts https and http://127.0.0.1 or [::1]', async () => {
      for (const uri of [
        'http://app.example.com/callback',
        'http://localhost:3000/callback',
        'http://localhost/callback',
        'https://localhost/callback',
      ]) {
        const res = await register({ client_id: 'prod-unsafe', redirect_uris: [uri] }, prod, prodToken);
        assert.equal(res.status, 400, uri);
        assert.equal(res.json.type, 'invalid_data');
        assert.ok(res.json.message.includes(uri), res.json.message);
        assert.match(res.json.message, /https|localhost/);
      }
      const ok = await register(
        { client_id: 'prod-ok', redirect_uris: ['https://app.example.com/callback', 'http://127.0.0.1/callback', 'http://[::1]/callback'] },
        prod,
        prodToken,
      );
      assert.equal(ok.status, 200, ok.text);
      // Outside production, localhost by name stays usable for development.
      const dev = await register({ client_id: 'dev-localhost', redirect_uris: ['http://localhost:3000/callback'] });
      assert.equal(dev.status, 200, dev.text);
    });
  });
});
