import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser, formOf } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const EMAIL = 'shopper@example.com';
const PASSWORD = 'correct horse battery';

/** OAuth: access tokens count per user and client; the login page shares the failed-login back-off. */
describe('rate limits on the OAuth side', () => {
  let srv: TestServer;
  let shop: client.Configuration;
  let partner: client.Configuration;
  before(async () => {
    srv = await startTestServer({ env: { RATE_LIMIT_OAUTH: '3/m', TRUST_PROXY: '1' } });
    await srv.services.accounts.create({ actorType: 'customer', email: EMAIL, password: PASSWORD });
    const register = async (clientId: string) => {
      const { secret } = await srv.services.oauthClients.create({
        clientId,
        name: clientId,
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      return relyingParty(srv.url, { clientId, clientSecret: secret! });
    };
    shop = await register('shop');
    partner = await register('partner');
  });
  after(() => srv?.close());

  const accessToken = async (rp: client.Configuration) => {
    const a = await authorize(rp, new Browser(), { email: EMAIL, password: PASSWORD, scope: 'openid read' });
    return (
      await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      })
    ).access_token;
  };
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it("counts a user's tokens per client: a new grant does not reset it, another client has its own", async () => {
    const first = await accessToken(shop);
    for (let i = 0; i < 3; i++) {
      const res = await verify(first);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-policy'), '3;w=60');
    }
    assert.equal((await verify(first)).status, 429);
    assert.equal((await verify(await accessToken(shop))).status, 429, 'a new authorization of the same client shares the count');
    const other = await verify(await accessToken(partner));
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('ratelimit-remaining'), '2');
  });

  it('backs off on the login page after repeated failures, and answers an unknown email the same way', async () => {
    const attempt = async (email: string, password: string, ip: string) => {
      const browser = new Browser();
      const url = client.buildAuthorizationUrl(shop, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid read',
        state: 'st',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const page = await browser.follow(url.href, REDIRECT_URI, { headers: { 'x-forwarded-for': ip } });
      const form = formOf(page.html, '/login');
      const res = await browser.request(new URL(form.action, page.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams({ ...form.hidden, email, password }),
      });
      // Post/redirect/get: the 303 carries the throttle's Retry-After; the page it leads to, the words.
      const shown = await browser.follow(new URL(res.headers.get('location')!, page.url).href, REDIRECT_URI);
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        alert: /role="alert"[^>]*>([^<]*)</.exec(shown.html)?.[1] ?? null,
      };
    };
    const known: unknown[] = [];
    const unknown: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      known.push(await attempt(EMAIL, `wrong ${i}`, '203.0.113.1'));
      unknown.push(await attempt('nobody@example.com', `wrong ${i}`, '203.0.113.2'));
    }
    assert.deepEqual(known, unknown);
    const first = known[0] as { status: number; retryAfter: string | null; alert: string | null };
    assert.equal(first.status, 303);
    assert.equal(first.retryAfter, null);
    assert.match(first.alert ?? '', /incorrect/);
    const locked = known[5] as { status: number; retryAfter: string | null; alert: string | null };
    assert.equal(locked.status, 303);
    assert.ok(Number(locked.retryAfter) >= 1);
    // The wait the server knows, in words: "Try again in 2 seconds".
    const wait = /Too many attempts\. Try again in (\d+) seconds?\./.exec(locked.alert ?? '');
    assert.ok(wait, `the wait is stated: ${locked.alert}`);
    assert.ok(Number(wait[1]) >= 1 && Number(wait[1]) <= Number(locked.retryAfter));
  });
});
