import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer, runCli } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

/** The OAuth error code of an openid-client failure (a body error, or a WWW-Authenticate challenge). */
const oauthError = (err: any): string | undefined => err.error ?? err.cause?.[0]?.parameters?.error;
const CUSTOMER = { email: 'buyer@example.com', password: 'buyer password 1' };
const STAFF = { email: 'staff@example.com', password: 'staff password 1' };

describe('OAuth clients: CLI, Admin API, the reference document flow, client credentials', () => {
  let srv: TestServer;
  let adminToken: string;
  let memberToken: string;
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
  const admin = (path: string, init: Parameters<typeof http>[1] = {}, token = adminToken) =>
    http(`${srv.url}/admin${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  const cli = (...args: string[]) => runCli(srv.prefix, ['client', ...args]);
  const loginUser = async (email: string, password: string) =>
    (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: email, password } })).json.token as string;

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', email: CUSTOMER.email, password: CUSTOMER.password });
    await srv.services.accounts.create({ actorType: 'user', email: STAFF.email, password: STAFF.password, role: 'member' });
    await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'developer pass', role: 'developer' });
    adminToken = await loginUser('dev@example.com', 'developer pass');
    memberToken = await loginUser(STAFF.email, STAFF.password);
  });
  after(() => srv.close());

  it('a client created with the CLI completes the reference document flow with JSON token requests', async () => {
    const created = await cli(
      'create',
      '--client-id',
      'ref-app',
      '--client-secret',
      'reference-secret-123',
      '--redirect-uri',
      'https://yourapp.com/callback',
      '--scope',
      'read write',
      '--name',
      'Your App',
    );
    assert.equal(created.code, 0, created.stderr);
    const shown = JSON.parse(created.stdout);
    assert.equal(shown.client_id, 'ref-app');
    assert.equal(shown.client_secret, 'reference-secret-123');
    assert.deepEqual(shown.grant_types, ['authorization_code', 'refresh_token']);
    const stored = await srv.store.get('oauth-client:ref-app');
    assert.ok(stored && !stored.includes('reference-secret-123'), 'the secret is stored only as a hash');

    // Step 1 exactly as the document builds it: no PKCE, no state, scope "read write".
    const authUrl = `${srv.url}/oauth/authorize?client_id=ref-app&redirect_uri=https://yourapp.com/callback&response_type=code&scope=read write`;
    const browser = new Browser();
    let step = await browser.follow(authUrl, 'https://yourapp.com/callback');
    step = await browser.submit(step.url, step.html, '/login', CUSTOMER, 'https://yourapp.com/callback');
    assert.match(step.html, /Read your data/);
    assert.match(step.html, /Your App/);
    step = await browser.submit(step.url, step.html, '/confirm', {}, 'https://yourapp.com/callback');
    const code = new URL(step.url).searchParams.get('code');
    assert.ok(code);

    // Step 3: the JSON body with client_id and client_secret, as written. The library's own
    // plain-text console warnings would break the JSON log stream: it must not print any.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
    const res = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      json: {
        grant_type: 'authorization_code',
        code,
        client_id: 'ref-app',
        client_secret: 'reference-secret-123',
        redirect_uri: 'https://yourapp.com/callback',
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const { access_token, refresh_token } = res.json;
    assert.ok(access_token && refresh_token);
    assert.equal(res.json.expires_in, 3600);
    const v = await verify(access_token);
    assert.equal(v.json.auth_method, 'oauth');
    assert.deepEqual(v.json.scopes, ['read', 'write']);

    // Refresh, also JSON; a wrong secret in JSON is refused like in a form.
    const refreshed = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      json: { grant_type: 'refresh_token', refresh_token, client_id: 'ref-app', client_secret: 'reference-secret-123' },
    });
    assert.equal(refreshed.status, 200);
    assert.ok(refreshed.json.access_token);
    const wrong = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      json: { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token, client_id: 'ref-app', client_secret: 'nope' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'invalid_client');
    const badJson = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      body: '{"grant_type":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.error, 'invalid_request');
    console.warn = consoleWarn;
    assert.deepEqual(
      warnings.filter((w) => w.includes('oidc-provider')),
      [],
    );
  });

  it('the CLI refuses bad input with a usage error', async () => {
    const noId = await cli('create', '--redirect-uri', 'https://a.example/cb');
    assert.equal(noId.code, 2);
    const badUri = await cli('create', '--client-id', 'bad-uri', '--redirect-uri', 'not a url');
    assert.equal(badUri.code, 2);
    assert.match(badUri.stderr, /redirect URI/);
    const badScope = await cli(
      'create',
      '--client-id',
      'bad-scope',
      '--redirect-uri',
      'https://a.example/cb',
      '--scope',
      'read superpowers',
    );
    assert.equal(badScope.code, 2);
  });

  it('Admin API: developers manage clients, members get 403, secrets are shown once, rotation and deletion take effect', async () => {
    assert.equal((await admin('/oauth-clients', {}, memberToken)).status, 403);
    assert.equal((await admin('/oauth-clients', { method: 'POST', json: { redirect_uris: [REDIRECT_URI] } }, memberToken)).status, 403);
    assert.equal((await http(`${srv.url}/admin/oauth-clients`)).status, 401);

    const created = await admin('/oauth-clients', {
      method: 'POST',
      json: {
        client_id: 'svc-app',
        name: 'Service',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scopes: ['openid', 'read'],
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const secret = created.json.oauth_client.client_secret;
    assert.ok(secret && secret.length >= 32);
    assert.equal(created.json.oauth_client.type, 'confidential');
    const dup = await admin('/oauth-clients', { method: 'POST', json: { client_id: 'svc-app', redirect_uris: [REDIRECT_URI] } });
    assert.equal(dup.status, 409);
    const invalid = await admin('/oauth-clients', {
      method: 'POST',
      json: { client_id: 'x1y', public: true, grant_types: ['client_credentials'] },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.type, 'invalid_data');

    const listed = await admin('/oauth-clients?limit=50');
    assert.equal(listed.status, 200);
    assert.ok(listed.json.oauth_clients.some((c: any) => c.id === 'svc-app' && c.client_secret === undefined));
    assert.equal(typeof listed.json.count, 'number');
    const one = await admin('/oauth-clients/svc-app');
    assert.equal(one.json.oauth_client.name, 'Service');
    assert.equal((await admin('/oauth-clients/nope')).status, 404);
    const updated = await admin('/oauth-clients/svc-app', { method: 'POST', json: { name: 'Service v2' } });
    assert.equal(updated.json.oauth_client.name, 'Service v2');

    // client_credentials: scopes limited to the client's; the token speaks for the client.
    const rp = await relyingParty(srv.url, { clientId: 'svc-app', clientSecret: secret });
    const cc = await client.clientCredentialsGrant(rp, { scope: 'read write' });
    assert.equal(cc.scope, 'read');
    const jwks = createRemoteJWKSet(new URL(`${srv.url}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(cc.access_token, jwks, {
      issuer: srv.config.issuer,
      audience: srv.config.oauth.resourceAudience,
      typ: 'at+jwt',
    });
    assert.equal(payload.sub, 'svc-app');
    const v = await verify(cc.access_token);
    assert.equal(v.status, 200);
    assert.equal(v.json.actor_type, 'client');
    assert.equal(v.json.user_id, 'svc-app');
    assert.equal(v.json.client_id, 'svc-app');
    assert.deepEqual(v.json.scopes, ['read']);
    assert.equal(
      (await http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${cc.access_token}` } })).status,
      401,
      'no user behind a client token',
    );

    // Rotation: the old secret stops, so do the tokens it minted; the new one works.
    const rotated = await admin('/oauth-clients/svc-app/rotate-secret', { method: 'POST', json: {} });
    const newSecret = rotated.json.oauth_client.client_secret;
    assert.ok(newSecret && newSecret !== secret);
    await assert.rejects(client.clientCredentialsGrant(rp, { scope: 'read' }), (err: any) => oauthError(err) === 'invalid_client');
    assert.equal((await verify(cc.access_token)).status, 401);
    const rp2 = await relyingParty(srv.url, { clientId: 'svc-app', clientSecret: newSecret }, 'post');
    const cc2 = await client.clientCredentialsGrant(rp2, { scope: 'read' });

    // A user grant too, then delete: every grant and token of the client stops.
    const a = await authorize(rp2, new Browser(), { ...CUSTOMER, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp2, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.equal((await verify(tokens.access_token)).status, 200);
    const deleted = await admin('/oauth-clients/svc-app', { method: 'DELETE' });
    assert.deepEqual(deleted.json, { id: 'svc-app', object: 'oauth_client', deleted: true });
    assert.equal((await verify(tokens.access_token)).status, 401);
    assert.equal((await verify(cc2.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp2, tokens.refresh_token!), (err: any) =>
      ['invalid_client', 'invalid_grant'].includes(oauthError(err)!),
    );
    assert.equal((await admin('/oauth-clients/svc-app')).status, 404);
  });

  it('Admin API changes to a client are audited (who, which client, when; never its secret), like API key changes', async () => {
    const created = await admin('/oauth-clients', { method: 'POST', json: { client_id: 'audited-app', redirect_uris: [REDIRECT_URI] } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const rotated = await admin('/oauth-clients/audited-app/rotate-secret', { method: 'POST', json: {} });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    assert.equal((await admin('/oauth-clients/audited-app', { method: 'DELETE' })).status, 200);
    const developer = await srv.services.accounts.findByEmail('user', 'dev@example.com');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const entries = (await redis.xRange(`${srv.prefix}events:audit`, '-', '+'))
      .map((e) => e.message)
      .filter((m) => m.subject_type === 'oauth_client' && m.subject_id === 'audited-app');
    await redis.close();
    assert.deepEqual(
      entries.map((m) => m.type),
      ['oauth_client.created', 'oauth_client.secret_rotated', 'oauth_client.deleted'],
    );
    assert.ok(entries.every((m) => m.actor_type === 'user' && m.actor_id === developer?.id && !Number.isNaN(Date.parse(m.time!))));
    const log = JSON.stringify(entries);
    assert.ok(!log.includes(created.json.oauth_client.client_secret) && !log.includes(rotated.json.oauth_client.client_secret));
  });

  it('a public client must use PKCE and authenticates with none', async () => {
    const { client: pub } = await srv.services.oauthClients.create({
      clientId: 'spa',
      public: true,
      redirectUris: [REDIRECT_URI],
      scopes: ['openid', 'read'],
    });
    assert.equal(pub.token_endpoint_auth_method, 'none');
    const rp = await relyingParty(srv.url, { clientId: 'spa' });
    const noPkce = client.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT_URI, scope: 'openid read', state: 's1' });
    const res = await new Browser().request(noPkce.href);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description')!, /PKCE/);

    const a = await authorize(rp, new Browser(), { ...CUSTOMER, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.equal((await verify(tokens.access_token)).json.client_id, 'spa');
    const rotated = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
  });

  it('a client configured for back-office users signs in users, not customers', async () => {
    const { secret } = await srv.services.oauthClients.create({
      clientId: 'backoffice-tool',
      redirectUris: [REDIRECT_URI],
      loginActor: 'user',
      scopes: ['openid', 'read'],
    });
    const rp = await relyingParty(srv.url, { clientId: 'backoffice-tool', clientSecret: secret! });
    const browser = new Browser();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(url.href, REDIRECT_URI);
    assert.match(page.html, /staff account/);
    const refused = await browser.submit(page.url, page.html, '/login', CUSTOMER, REDIRECT_URI);
    assert.equal(refused.url, page.url, 'back on the login page (post/redirect/get)');
    assert.match(refused.html, /role="alert"[^>]*>The email or password is incorrect/);

    const a = await authorize(rp, new Browser(), { ...STAFF, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    const v = await verify(tokens.access_token);
    assert.equal(v.json.actor_type, 'user');
    assert.match(v.json.user_id, /^user_/);
    // An OAuth token is not an admin credential, whatever its user's role.
    assert.equal((await admin('/oauth-clients', {}, tokens.access_token)).status, 403);
  });

  it('discovery is served at both well-known paths and honours X-Forwarded-* only with TRUST_PROXY', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const d = await http(`${srv.url}${path}`);
      assert.equal(d.status, 200);
      assert.equal(d.json.issuer, srv.config.issuer);
      assert.equal(d.json.token_endpoint, `${srv.url}/oauth/token`);
      assert.deepEqual(
        d.json.token_endpoint_auth_methods_supported.filter((m: string) => m.startsWith('client_secret')),
        ['client_secret_basic', 'client_secret_post'],
      );
      assert.deepEqual(d.json.code_challenge_methods_supported, ['S256']);
      assert.ok(d.json.scopes_supported.includes('read'));
    }
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' };
    const untrusted = await http(`${srv.url}/.well-known/openid-configuration`, { headers: forwarded });
    assert.equal(untrusted.json.token_endpoint, `${srv.url}/oauth/token`);
    const proxied = await startTestServer({ env: { TRUST_PROXY: '1', PUBLIC_URL: 'https://auth.example.com' } });
    try {
      const d = await http(`${proxied.origin}/.well-known/openid-configuration`, { headers: forwarded });
      assert.equal(d.json.issuer, 'https://auth.example.com');
      assert.equal(d.json.authorization_endpoint, 'https://auth.example.com/oauth/authorize');
      assert.equal(d.json.jwks_uri, 'https://auth.example.com/oauth/jwks');
      // Redirects and cookies follow the forwarded scheme and host: Secure cookies behind TLS.
      await proxied.services.oauthClients.create({ clientId: 'proxied-app', redirectUris: [REDIRECT_URI] });
      const authz = await fetch(
        `${proxied.origin}/oauth/authorize?client_id=proxied-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
        { headers: forwarded, redirect: 'manual' },
      );
      assert.equal(authz.status, 303);
      assert.match(authz.headers.get('location')!, /^(https:\/\/auth\.example\.com)?\/oauth\/interaction\//);
      const cookies = authz.headers.getSetCookie();
      assert.ok(
        cookies.length > 0 && cookies.every((c) => /;\s*secure/i.test(c) && /httponly/i.test(c) && /samesite=lax/i.test(c)),
        cookies.join('\n'),
      );
    } finally {
      await proxied.close();
    }
  });
});
