import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { dropPrefix, http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const USER = { email: 'two@example.com', password: 'two instances pw' };

describe('OAuth on two instances sharing one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let rp: client.Configuration;
  let basic: string;

  before(async () => {
    a = await startTestServer();
    // Same PUBLIC_URL and Redis prefix: two replicas behind one load balancer.
    b = await startTestServer({ prefix: a.prefix, env: { PUBLIC_URL: a.url } });
    await a.services.accounts.create({ actorType: 'customer', ...USER });
    const { secret } = await a.services.oauthClients.create({ clientId: 'replicated', redirectUris: [REDIRECT_URI] });
    basic = `Basic ${Buffer.from(`replicated:${secret}`).toString('base64')}`;
    rp = await relyingParty(a.url, { clientId: 'replicated', clientSecret: secret! });
  });
  after(async () => {
    await b.close();
    await a.close();
    await dropPrefix(a.prefix);
  });

  const token = (origin: string, body: Record<string, string>) =>
    http(`${origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams(body),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    });

  it('one refresh token presented to both instances at once succeeds exactly once', async () => {
    const x = await authorize(rp, new Browser(), { ...USER, scope: 'openid read write' });
    const tokens = await client.authorizationCodeGrant(rp, x.callback, {
      pkceCodeVerifier: x.codeVerifier,
      expectedState: x.state,
      expectedNonce: x.nonce,
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        token(i % 2 ? b.origin : a.origin, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.json)));
    for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.json.error, 'invalid_grant');
  });

  it('one authorization code presented to both instances at once succeeds exactly once', async () => {
    const x = await authorize(rp, new Browser(), { ...USER, scope: 'openid read' });
    const code = x.callback.searchParams.get('code')!;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        token(i % 2 ? b.origin : a.origin, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: x.codeVerifier,
        }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.json)));
  });

  it('a login started on one instance completes on the other, and either verifies the tokens', async () => {
    const browser = new Browser();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: await client.calculatePKCECodeChallenge('v'.repeat(43)),
      code_challenge_method: 'S256',
    });
    // The browser's requests alternate instances, as a load balancer without affinity would.
    const first = await browser.follow(url.href.replace(a.url, a.origin), REDIRECT_URI);
    const login = await browser.submit(first.url.replace(a.origin, b.origin), first.html, '/login', USER, REDIRECT_URI);
    assert.match(login.html, /Allow/);
    const done = await browser.submit(login.url, login.html, '/confirm', {}, REDIRECT_URI);
    const code = new URL(done.url).searchParams.get('code')!;
    const exchanged = await token(a.origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: 'v'.repeat(43),
    });
    assert.equal(exchanged.status, 200);
    const verifyOn = (origin: string) =>
      http(`${origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${exchanged.json.access_token}` } });
    assert.equal((await verifyOn(b.origin)).status, 200);
    // Revoked on A: refused on B at once.
    const revoked = await http(`${a.origin}/oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: exchanged.json.refresh_token }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    });
    assert.equal(revoked.status, 200);
    assert.equal((await verifyOn(b.origin)).status, 401);
  });
});
