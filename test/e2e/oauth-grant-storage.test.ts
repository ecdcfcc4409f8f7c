import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { added, assertMarkerLife, census } from '../helpers/key-census.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, relyingParty, REDIRECT_URI } from '../oauth/flow.ts';

const PASSWORD = 'a grant ends with its storage';
/** OAuth access tokens live ten minutes here; the longest token of any kind (customers') a day, the old marker's life. */
const OAUTH_ACCESS_TTL_SECONDS = 600;
/**
 * The person's own sign-ins (the session at the OAuth server the grant was given in, the Medusa login
 * that withdraws it) are not the grant's storage: they end with a logout of their own.
 */
const SIGN_IN_KEY = /^(signins?:|oidc:Session:|oidc:session-uid:)/;

/**
 * What an OAuth grant (consent given to an app in the code flow, its refresh tokens rotated once)
 * keeps in Redis, counted key by key on the test's private prefix: once withdrawn, only the
 * revocation of its JWT access tokens, which are stored nowhere, kept until the latest can expire.
 */
describe('the storage of an OAuth grant ends when it is withdrawn', () => {
  let srv: TestServer;
  let redis: ReturnType<typeof createClient>;
  let rp: client.Configuration;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const snapshot = () => census(redis, srv.prefix);
  const verify = (token: string) => api('/v1/auth/verify', { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    srv = await startTestServer({ env: { OAUTH_ACCESS_TOKEN_TTL: String(OAUTH_ACCESS_TTL_SECONDS), CUSTOMER_TOKEN_TTL: '24h' } });
    const created = await srv.services.oauthClients.create({
      clientId: 'photo-app',
      name: 'Photo app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'offline_access', 'read'],
      loginActor: 'customer',
    });
    rp = await relyingParty(srv.url, { clientId: 'photo-app', clientSecret: created.secret! });
    await srv.services.accounts.create({ actorType: 'customer', email: 'owner@example.com', password: PASSWORD });
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await srv?.close();
  });

  it('withdrawn: every record of the grant goes; its revocation lasts as long as its latest access token', async () => {
    const before = await snapshot();
    const flow = await authorize(rp, new Browser(), {
      email: 'owner@example.com',
      password: PASSWORD,
      scope: 'openid offline_access read',
    });
    const first = await client.authorizationCodeGrant(rp, flow.callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    const latest = await client.refreshTokenGrant(rp, first.refresh_token!);
    const grantId = String(decodeJwt(first.access_token).grant_id);
    const live = added(before, await snapshot());
    const grantKeys = (m: Map<string, unknown>) => [...m.keys()].filter((k) => !SIGN_IN_KEY.test(k));
    assert.ok(
      ['oidc:Grant:', 'oidc:grant-members:', 'oidc:RefreshToken:', 'oidc:client-grants:', 'oidc:account-grants:'].every((kind) =>
        grantKeys(live).some((k) => k.startsWith(kind)),
      ),
      grantKeys(live).join(', '),
    );
    assert.equal((await verify(latest.access_token)).status, 200);

    // Withdrawn by its owner on the account API, with a token of another sign-in (a Medusa login).
    const owner = await api('/auth/customer/emailpass', { method: 'POST', json: { email: 'owner@example.com', password: PASSWORD } });
    assert.equal(owner.status, 200, owner.text);
    const out = await api(`/v1/account/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${owner.json.token}` } });
    assert.equal(out.status, 200, out.text);

    const left = added(before, await snapshot());
    assert.deepEqual(grantKeys(left), [`rev:{${grantId}}`], 'of the grant, only its revocation remains');
    assertMarkerLife(left.get(`rev:{${grantId}}`)!.pttl, decodeJwt(latest.access_token).exp!);
    for (const token of [first, latest]) assert.equal((await verify(token.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, latest.refresh_token!), (e: any) => e.error === 'invalid_grant');
  });
});
