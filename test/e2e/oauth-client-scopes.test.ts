import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const CUSTOMER = { email: 'scoped-client@example.com', password: 'customer password 1' };

/**
 * A client asks for scopes it was not registered for (RFC 6749 §3.3): the server narrows them away
 * and says in the token response what it granted, or refuses with invalid_scope; never a code or
 * token that silently holds less than the response claims, and never a code that cannot be exchanged.
 */
describe('OAuth: scopes a client was not registered for', () => {
  let srv: TestServer;
  /** Registered with scopes ['read']: its OpenID scope metadata is just openid. */
  let readOnly: client.Configuration;
  /** Registered with scopes ['openid', 'read'], with client credentials too. */
  let oidcRead: client.Configuration;

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', ...CUSTOMER });
    const c = srv.services.oauthClients;
    const s1 = (
      await c.create({
        clientId: 'read-only-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['read'],
      })
    ).secret!;
    const s2 = (
      await c.create({
        clientId: 'oidc-read-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        scopes: ['openid', 'read'],
      })
    ).secret!;
    readOnly = await relyingParty(srv.url, { clientId: 'read-only-app', clientSecret: s1 });
    oidcRead = await relyingParty(srv.url, { clientId: 'oidc-read-app', clientSecret: s2 });
  });
  after(() => srv.close());

  const exchange = (rp: client.Configuration, a: Awaited<ReturnType<typeof authorize>>) =>
    client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
      idTokenExpected: true,
    });

  /** The authorization request as a browser makes it, without signing in: where it sends the user. */
  async function authorizationRedirect(rp: client.Configuration, scope: string): Promise<URL> {
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope,
      state: 'st',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const res = await new Browser().follow(url.href, REDIRECT_URI);
    assert.ok(res.url.startsWith(REDIRECT_URI), `expected a redirect to the client, got ${res.res.status} ${res.url}`);
    return new URL(res.url);
  }

  it('OpenID scopes the client was not registered for answer invalid_scope at the authorization step, not a code', async () => {
    for (const [rp, scope, refused] of [
      [readOnly, 'openid profile email read', 'profile'],
      [readOnly, 'openid email read', 'email'],
      [oidcRead, 'openid profile read', 'profile'],
    ] as const) {
      const back = await authorizationRedirect(rp, scope);
      assert.equal(back.searchParams.get('error'), 'invalid_scope', `${scope}: ${back.search}`);
      assert.equal(back.searchParams.get('scope'), refused);
      assert.equal(back.searchParams.get('code'), null);
      assert.equal(back.searchParams.get('state'), 'st');
    }
    // The same request through PAR is refused when pushed.
    const verifier = client.randomPKCECodeVerifier();
    await assert.rejects(
      client.buildAuthorizationUrlWithPAR(readOnly, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile email read',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }),
      (err: any) => err.error === 'invalid_scope',
    );
  });

  it('API scopes the client was not registered for are narrowed away: consent shows the allowed ones, the token response says what was granted, the code exchanges', async () => {
    const browser = new Browser();
    const a = await authorize(readOnly, browser, { ...CUSTOMER, scope: 'openid read write' });
    assert.equal(a.sawConsent, true);
    const tokens = await exchange(readOnly, a);
    assert.equal(tokens.scope, 'read');
    assert.equal(decodeJwt(tokens.access_token).scope, 'read');
    assert.equal(tokens.claims()!.aud, 'read-only-app');
    const verified = await http(`${srv.url}/v1/auth/verify?scope=write`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(verified.status, 403);

    // The consent page lists only what the client may get.
    const url = client.buildAuthorizationUrl(oidcRead, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read write',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const consent = await browser.follow(url.href, REDIRECT_URI);
    assert.match(consent.html, /\/confirm/);
    assert.match(consent.html, /\(read\)/);
    assert.doesNotMatch(consent.html, /\(write\)/);

    // A refresh asking for more than was granted: invalid_scope; for what was granted: the same.
    await assert.rejects(
      client.refreshTokenGrant(readOnly, tokens.refresh_token!, { scope: 'read write' }),
      (err: any) => err.error === 'invalid_scope',
    );
    await assert.rejects(
      client.refreshTokenGrant(readOnly, tokens.refresh_token!, { scope: 'write' }),
      (err: any) => err.error === 'invalid_scope',
    );
    const refreshed = await client.refreshTokenGrant(readOnly, tokens.refresh_token!, { scope: 'openid read' });
    assert.equal(refreshed.scope, 'read');
    assert.equal(decodeJwt(refreshed.access_token).scope, 'read');
  });

  it('a request left with nothing the client may have answers invalid_scope, not a scopeless code or token', async () => {
    // Only API scopes were asked for, and none of them is the client's.
    const back = await authorizationRedirect(readOnly, 'write');
    assert.equal(back.searchParams.get('error'), 'invalid_scope', back.search);
    assert.equal(back.searchParams.get('code'), null);
    await assert.rejects(
      client.buildAuthorizationUrlWithPAR(readOnly, {
        redirect_uri: REDIRECT_URI,
        scope: 'write',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
      (err: any) => err.error === 'invalid_scope',
    );

    await assert.rejects(client.clientCredentialsGrant(oidcRead, { scope: 'write' }), (err: any) => err.error === 'invalid_scope');
    await assert.rejects(client.clientCredentialsGrant(oidcRead, { scope: 'openid write' }), (err: any) => err.error === 'invalid_scope');
    // Partly allowed: narrowed, and the response says so.
    const narrowed = await client.clientCredentialsGrant(oidcRead, { scope: 'read write' });
    assert.equal(narrowed.scope, 'read');
    assert.equal(decodeJwt(narrowed.access_token).scope, 'read');
  });
});
