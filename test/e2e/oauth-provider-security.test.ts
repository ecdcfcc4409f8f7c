import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const CUSTOMER = { email: 'shopper@example.com', password: 'customer password 1' };
const STAFF = { email: 'staff@example.com', password: 'staff password 1' };

/** Attacks and faults reported against the OAuth provider, each as a class of bug. */
describe('OAuth provider security', () => {
  let srv: TestServer;
  let shop: client.Configuration;
  let backOffice: client.Configuration;
  let service: client.Configuration;
  let shopSecret: string;
  let svcSecret: string;
  let customerId: string;
  let staffId: string;
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    srv = await startTestServer();
    customerId = (await srv.services.accounts.create({ actorType: 'customer', ...CUSTOMER })).id;
    staffId = (await srv.services.accounts.create({ actorType: 'user', ...STAFF, role: 'member' })).id;
    const c = srv.services.oauthClients;
    shopSecret = (
      await c.create({
        clientId: 'shop-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'read', 'write'],
      })
    ).secret!;
    const boSecret = (
      await c.create({
        clientId: 'back-office',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'read'],
        loginActor: 'user',
      })
    ).secret!;
    svcSecret = (
      await c.create({ clientId: 'service-app', redirectUris: [REDIRECT_URI], grantTypes: ['client_credentials'], scopes: ['read'] })
    ).secret!;
    shop = await relyingParty(srv.url, { clientId: 'shop-app', clientSecret: shopSecret });
    backOffice = await relyingParty(srv.url, { clientId: 'back-office', clientSecret: boSecret });
    service = await relyingParty(srv.url, { clientId: 'service-app', clientSecret: svcSecret });
  });
  after(() => srv.close());

  const exchange = (rp: client.Configuration, a: Awaited<ReturnType<typeof authorize>>) =>
    client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });

  it("a back-office client does not accept a customer's session: the login page, as a staff account; the tokens carry the actor type", async () => {
    const browser = new Browser();
    const asCustomer = await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read' });
    const customerTokens = await exchange(shop, asCustomer);
    assert.equal(customerTokens.claims()!.actor_type, 'customer');

    // Silently (prompt=none), the customer's session is no sign-in for the back-office client.
    const silent = client.buildAuthorizationUrl(backOffice, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const refused = await browser.follow(silent.href, REDIRECT_URI);
    assert.equal(new URL(refused.url).searchParams.get('error'), 'login_required');
    assert.equal(new URL(refused.url).searchParams.get('code'), null);

    // Interactively: the login page for staff accounts, not the consent page.
    const url = client.buildAuthorizationUrl(backOffice, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.follow(url.href, REDIRECT_URI);
    assert.equal(page.res.status, 200);
    assert.match(page.html, /name="password"/);
    assert.match(page.html, /staff account/);
    assert.doesNotMatch(page.html, /\/confirm/);

    const asStaff = await authorize(backOffice, browser, { ...STAFF, scope: 'openid read' });
    assert.equal(asStaff.sawLogin, true);
    // Signing in as the other kind of account first ends the customer's sign-in, and what the
    // customer's app got through it.
    assert.equal(asStaff.sawSignOut, true);
    assert.equal((await verify(customerTokens.access_token)).status, 401);
    const staffTokens = await exchange(backOffice, asStaff);
    assert.equal(staffTokens.claims()!.sub, staffId);
    assert.equal(staffTokens.claims()!.actor_type, 'user');
    assert.equal(decodeJwt(staffTokens.access_token).actor_type, 'user');
    assert.equal((await verify(staffTokens.access_token)).json.actor_type, 'user');

    // Back at the customer's client, the staff session is no sign-in either (and no 500 for the
    // customer's grant still remembered by the browser's session).
    const again = await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read' });
    assert.equal(again.sawLogin, true);
    assert.equal(again.sawSignOut, true);
    const back = await exchange(shop, again);
    assert.equal(back.claims()!.sub, customerId);
    assert.equal(back.claims()!.actor_type, 'customer');
  });

  it("end-session ends the session's grants: its refresh token and JWT access tokens are refused", async () => {
    const browser = new Browser();
    const tokens = await exchange(shop, await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read' }));
    assert.equal((await verify(tokens.access_token)).status, 200);
    const end = client.buildEndSessionUrl(shop, { id_token_hint: tokens.id_token! });
    const confirm = await browser.follow(end.href, 'https://never');
    const done = await browser.submit(confirm.url, confirm.html, '/end-session/confirm', { logout: 'yes' }, 'https://never');
    assert.match(done.html, /signed out/i);

    const refused = await verify(tokens.access_token);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_token');
    await assert.rejects(client.refreshTokenGrant(shop, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
  });

  it('only a grant the user allowed offline access outlives the logout', async () => {
    const secret = (
      await srv.services.oauthClients.create({
        clientId: 'offline-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'offline_access', 'read'],
      })
    ).secret!;
    const offline = await relyingParty(srv.url, { clientId: 'offline-app', clientSecret: secret });
    const browser = new Browser();
    const online = await exchange(shop, await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read' }));
    const a = await authorize(offline, browser, { ...CUSTOMER, scope: 'openid offline_access read', extra: { prompt: 'consent' } });
    assert.equal(a.sawConsent, true);
    const kept = await exchange(offline, a);
    const confirm = await browser.follow(client.buildEndSessionUrl(shop, { id_token_hint: online.id_token! }).href, 'https://never');
    await browser.submit(confirm.url, confirm.html, '/end-session/confirm', { logout: 'yes' }, 'https://never');
    await assert.rejects(client.refreshTokenGrant(shop, online.refresh_token!), (err: any) => err.error === 'invalid_grant');
    assert.equal((await verify(kept.access_token)).status, 200);
    const refreshed = await client.refreshTokenGrant(offline, kept.refresh_token!);
    assert.equal((await verify(refreshed.access_token)).status, 200);
  });

  it('pushed authorization requests (PAR) still work with hashed storage', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(shop, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);
    const page = await new Browser().follow(url.href, REDIRECT_URI);
    assert.equal(page.res.status, 200);
    assert.match(page.html, /name="password"/);
  });

  it('stores no refresh token, code or session cookie in clear: a SCAN of the database yields none; the flows still work', async () => {
    const browser = new Browser();
    const a = await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read write' });
    const code = a.callback.searchParams.get('code')!;
    const first = await exchange(shop, a);
    const tokens = await client.refreshTokenGrant(shop, first.refresh_token!);
    const sessionCookie = browser.jar.get('_session');
    assert.ok(sessionCookie && code && tokens.refresh_token);

    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const seen: string[] = [];
    try {
      for await (const batch of redis.scanIterator({ MATCH: `${srv.prefix}*`, COUNT: 500 })) {
        for (const key of batch) {
          seen.push(key);
          const type = await redis.type(key);
          if (type === 'string') seen.push((await redis.get(key)) ?? '');
          else if (type === 'hash') seen.push(JSON.stringify(await redis.hGetAll(key)));
          else if (type === 'zset') seen.push(...(await redis.zRange(key, 0, -1)));
        }
      }
    } finally {
      await redis.close();
    }
    assert.ok(
      seen.some((s) => s.includes(':oidc:RefreshToken:')),
      'the refresh tokens are stored',
    );
    for (const [name, secret] of Object.entries({
      'refresh token': tokens.refresh_token!,
      'rotated refresh token': first.refresh_token!,
      code,
      'session cookie': sessionCookie,
    })) {
      assert.ok(!seen.some((s) => s.includes(secret)), `the ${name} is stored in clear`);
    }

    // Still: the session is remembered, introspection finds the token, revocation ends the grant.
    assert.equal((await authorize(shop, browser, { ...CUSTOMER, scope: 'openid read write' })).sawLogin, false);
    assert.equal((await client.tokenIntrospection(shop, tokens.refresh_token!)).active, true);
    await client.tokenRevocation(shop, tokens.refresh_token!);
    assert.equal((await verify(tokens.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(shop, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
  });

  it('answers invalid_scope, not a code, for a scope the server does not offer', async () => {
    const url = client.buildAuthorizationUrl(shop, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid admin',
      state: 'st',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const res = await new Browser().follow(url.href, REDIRECT_URI);
    const back = new URL(res.url);
    assert.ok(res.url.startsWith(REDIRECT_URI), `expected a redirect to the client, got ${res.res.status}`);
    assert.equal(back.searchParams.get('error'), 'invalid_scope');
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('state'), 'st');

    await assert.rejects(client.clientCredentialsGrant(service, { scope: 'read admin' }), (err: any) => err.error === 'invalid_scope');
    // Offered scopes the client may not have are still narrowed, as documented.
    assert.equal((await client.clientCredentialsGrant(service, { scope: 'read write' })).scope, 'read');
  });

  it('builds discovery URLs from PUBLIC_URL whatever Host the request names (TRUST_PROXY off)', async () => {
    const { port } = new URL(srv.origin);
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const doc = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, headers: { host: 'evil.example' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`))));
        });
        req.on('error', reject);
        req.end();
      });
      const urls = Object.entries(doc).filter(
        ([k, v]) => typeof v === 'string' && (k === 'issuer' || k.endsWith('_endpoint') || k.endsWith('_uri')),
      );
      assert.ok(urls.length >= 8, JSON.stringify(urls));
      for (const [k, v] of urls) assert.ok((v as string).startsWith(srv.config.issuer), `${k}: ${v}`);
    }
  });

  it('turns off DPoP: a DPoP proof at the token endpoint gets a plain Bearer token, and a sender-constrained JWT is refused everywhere', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = await new SignJWT({ htm: 'POST', htu: `${srv.url}/oauth/token`, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
    const res = await http(`${srv.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: proof,
        authorization: `Basic ${Buffer.from(`service-app:${svcSecret}`).toString('base64')}`,
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.token_type, 'Bearer');
    assert.equal(decodeJwt(res.json.access_token).cnf, undefined);

    // A token bound to a key (cnf.jkt), signed with our own key as the provider would: refused.
    const signer = srv.services.keystore.signingKey('RS256');
    const now = Math.floor(Date.now() / 1000);
    const bound = await new SignJWT({
      client_id: 'shop-app',
      scope: 'read',
      grant_id: 'g-bound',
      actor_type: 'customer',
      cnf: { jkt: await calculateJwkThumbprint(jwk) },
    })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(srv.config.issuer)
      .setAudience(srv.config.oauth.resourceAudience)
      .setSubject(customerId)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(signer.key);
    const refused = await verify(bound);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_token');
    assert.equal((await http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${bound}` } })).status, 401);
    const pk = (await srv.services.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: staffId })).token;
    const me = (token: string) =>
      http(`${srv.url}/store/customers/me`, { headers: { 'x-publishable-api-key': pk, authorization: `Bearer ${token}` } });
    assert.equal((await me(bound)).status, 401);
    // The same token without the key binding opens it: the binding is what is refused.
    const unbound = await new SignJWT({ client_id: 'shop-app', scope: 'read', grant_id: 'g-unbound', actor_type: 'customer' })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(srv.config.issuer)
      .setAudience(srv.config.oauth.resourceAudience)
      .setSubject(customerId)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(signer.key);
    assert.equal((await me(unbound)).status, 200);
    assert.equal((await verify(unbound)).status, 200);
    const asDpop = await http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `DPoP ${bound}`, dpop: proof } });
    assert.ok(asDpop.status === 400 || asDpop.status === 401, `${asDpop.status} ${asDpop.text}`);
    assert.ok(asDpop.json.error);
  });

  it('serves exactly the OAuth features listed in the README (discovery)', async () => {
    const d = (await http(`${srv.url}/.well-known/openid-configuration`)).json;
    // On: authorization code (PKCE S256), refresh tokens, client credentials, userinfo, introspection,
    // revocation, RP-initiated logout, PAR, resource indicators (the API's JWT access tokens).
    assert.deepEqual(d.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials']);
    assert.deepEqual(d.response_types_supported, ['code']);
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    for (const endpoint of [
      'userinfo_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
      'pushed_authorization_request_endpoint',
    ])
      assert.ok(d[endpoint], endpoint);
    // Off: DPoP, dynamic registration, device flow, CIBA, back-channel logout, request objects,
    // the claims parameter, mTLS, JWT responses, encryption.
    for (const field of [
      'dpop_signing_alg_values_supported',
      'registration_endpoint',
      'device_authorization_endpoint',
      'backchannel_authentication_endpoint',
      'backchannel_logout_supported',
      'request_parameter_supported',
      'request_object_signing_alg_values_supported',
      'tls_client_certificate_bound_access_tokens',
      'authorization_signing_alg_values_supported',
      'introspection_signing_alg_values_supported',
      'userinfo_signing_alg_values_supported',
      'id_token_encryption_alg_values_supported',
    ])
      assert.equal(d[field], undefined, field);
    assert.equal(d.claims_parameter_supported, false);
    assert.equal(d.request_uri_parameter_supported, false);
    assert.ok(d.claims_supported.includes('actor_type'));
  });
});
