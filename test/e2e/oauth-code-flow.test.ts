import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const EMAIL = 'shopper@example.com';
const PASSWORD = 'correct horse battery';

describe('OAuth authorization code flow with openid-client (Redis)', () => {
  let srv: TestServer;
  let rp: client.Configuration;
  let secret: string;
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', email: EMAIL, password: PASSWORD, firstName: 'Sam', lastName: 'Shopper' });
    const created = await srv.services.oauthClients.create({ clientId: 'webapp', name: 'Example Web App', redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code', 'refresh_token'] });
    secret = created.secret!;
    rp = await relyingParty(srv.url, { clientId: 'webapp', clientSecret: secret });
  });
  after(() => srv.close());

  it('signs in, consents and exchanges the code: JWT access token and RS256 ID token verified with the remote JWKS', async () => {
    const browser = new Browser();
    const a = await authorize(rp, browser, { email: EMAIL, password: PASSWORD, scope: 'openid profile email read write' });
    assert.ok(a.sawLogin && a.sawConsent);
    assert.equal(a.callback.searchParams.get('state'), a.state);
    const tokens = await client.authorizationCodeGrant(rp, a.callback, { pkceCodeVerifier: a.codeVerifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.refresh_token, 'a refresh token without offline_access');

    const jwks = createRemoteJWKSet(new URL(`${srv.url}/oauth/jwks`));
    const at = await jwtVerify(tokens.access_token, jwks, { issuer: srv.config.issuer, audience: srv.config.oauth.resourceAudience, typ: 'at+jwt' });
    const customer = await srv.services.accounts.findByEmail('customer', EMAIL);
    assert.equal(at.payload.sub, customer!.id);
    assert.equal(at.payload.client_id, 'webapp');
    assert.equal(at.payload.scope, 'read write');
    assert.ok(at.payload.jti && at.payload.grant_id);
    assert.equal(at.payload.exp! - at.payload.iat!, 3600);

    const idHeader = decodeProtectedHeader(tokens.id_token!);
    assert.equal(idHeader.alg, 'RS256');
    const id = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${srv.url}/.well-known/jwks.json`)), { issuer: srv.config.issuer, audience: 'webapp' });
    assert.equal(id.payload.sub, customer!.id);
    assert.equal(id.payload.nonce, a.nonce);

    const v = await verify(tokens.access_token);
    assert.equal(v.status, 200);
    assert.equal(v.json.auth_method, 'oauth');
    assert.equal(v.json.client_id, 'webapp');
    assert.equal(v.json.user_id, customer!.id);
    assert.equal(v.json.actor_type, 'customer');
    assert.deepEqual(v.json.scopes, ['read', 'write']);
  });
});
