import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const PASSWORD = 'correct horse battery';

/**
 * An app acts for the user who signed in, never with more than that user may do: the API scopes of
 * an OAuth access token are those the client may have, the user consented to, and the account's
 * role allows now (ROLE_SCOPES), at the code exchange and at every refresh. A read-only member's
 * token never says `write` to /v1/auth/verify (a gateway's `?scope=write`), whatever the client asks.
 */
describe("OAuth access tokens hold no scope the account's role lacks", () => {
  let srv: TestServer;
  let rp: client.Configuration;
  const verify = (token: string, scope?: string) =>
    http(`${srv.url}/v1/auth/verify${scope ? `?scope=${scope}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  const signIn = async (email: string, scope = 'openid read write') => {
    const result = await authorize(rp, new Browser(), { email, password: PASSWORD, scope });
    return client.authorizationCodeGrant(rp, result.callback, {
      pkceCodeVerifier: result.codeVerifier,
      expectedState: result.state,
      expectedNonce: result.nonce,
    });
  };

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: PASSWORD, role: 'member' });
    await srv.services.accounts.create({ actorType: 'user', email: 'developer@example.com', password: PASSWORD, role: 'developer' });
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

  it("a member's token holds read only, though the client asked for read write", async () => {
    const tokens = await signIn('member@example.com');
    assert.equal(decodeJwt(tokens.access_token).scope, 'read');
    assert.equal((await verify(tokens.access_token, 'read')).status, 200);
    const write = await verify(tokens.access_token, 'write');
    assert.equal(write.status, 403);
    assert.equal(write.json.error, 'insufficient_scope');
  });

  it("a demoted user's refresh mints tokens of the lower role", async () => {
    const tokens = await signIn('developer@example.com');
    assert.equal(decodeJwt(tokens.access_token).scope, 'read write');
    const developer = await srv.services.accounts.findByEmail('user', 'developer@example.com');
    await srv.services.accounts.update(developer!.id, { role: 'member' });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    assert.equal(decodeJwt(refreshed.access_token).scope, 'read');
    assert.equal((await verify(refreshed.access_token, 'write')).status, 403);
  });
});
