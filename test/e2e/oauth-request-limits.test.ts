import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const CUSTOMER = { email: 'limits@example.com', password: 'limits password 1' };
const SECRET = 'limits-client-secret-1234';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const basic = `Basic ${Buffer.from(`limits-app:${SECRET}`).toString('base64')}`;

/** Every key a test server has in Redis, by name (SCAN: fine in a test, never on a request path). */
async function keysOf(srv: TestServer): Promise<string[]> {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    const found: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${srv.prefix}*`, COUNT: 500 })) found.push(...batch);
    // The address's quota cell comes and goes with its own short TTL (GCRA), however slow the machine: it is
    // bounded by design, so only what the request itself could make the server keep is compared.
    return found
      .map((k) => k.slice(srv.prefix.length))
      .filter((k) => !k.startsWith('rl:{oauth-authorize:'))
      .sort();
  } finally {
    await redis.close();
  }
}

async function ttlOf(srv: TestServer, key: string): Promise<number> {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    return await redis.ttl(`${srv.prefix}${key}`);
  } finally {
    await redis.close();
  }
}

const authorizeUrl = (srv: TestServer, params: Record<string, string>) =>
  `${srv.url}/oauth/authorize?${new URLSearchParams({ client_id: 'limits-app', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid read', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's', ...params })}`;
const par = (srv: TestServer, body: string | URLSearchParams) =>
  fetch(`${srv.url}/oauth/par`, {
    method: 'POST',
    body,
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
  });

describe('OAuth: what an anonymous authorization or PAR request may make the server store', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', email: CUSTOMER.email, password: CUSTOMER.password });
    await srv.services.oauthClients.create({
      clientId: 'limits-app',
      clientSecret: SECRET,
      redirectUris: [REDIRECT_URI],
      scopes: ['openid', 'read'],
    });
    // The first request creates this address's quota cell: every count below starts after it.
    await fetch(authorizeUrl(srv, { client_id: 'nobody' }), { redirect: 'manual' });
  });
  after(() => srv.close());

  it('an oversized parameter comes back to the client as invalid_request on its redirect_uri, and nothing is stored', async () => {
    const before = await keysOf(srv);
    const oversized: Record<string, string> = {
      state: 'x'.repeat(513),
      nonce: 'n'.repeat(513),
      login_hint: `${'a'.repeat(320)}@example.com`,
      // The provider drops repeated scopes before the check: distinct ones make it long.
      scope: ['openid', 'read', ...Array.from({ length: 300 }, (_, i) => `s${i}`)].join(' '),
      ui_locales: 'en '.repeat(100),
      code_challenge: 'c'.repeat(129),
    };
    for (const [param, value] of Object.entries(oversized)) {
      const res = await fetch(authorizeUrl(srv, { [param]: value }), { redirect: 'manual' });
      assert.equal(res.status, 303, param);
      const location = new URL(res.headers.get('location')!);
      assert.equal(location.origin + location.pathname, REDIRECT_URI, param);
      // Scopes this server does not offer may be refused as such first: a refusal all the same.
      assert.ok(
        ['invalid_request', ...(param === 'scope' ? ['invalid_scope'] : [])].includes(location.searchParams.get('error')!),
        `${param}: ${location.search}`,
      );
      assert.match(location.searchParams.get('error_description')!, param === 'scope' ? /scope/ : new RegExp(param), param);
      assert.equal(location.searchParams.get('code'), null);
    }
    assert.deepEqual(await keysOf(srv), before, 'no interaction, session or other key was stored');
  });

  it('a query string over 8 KB is refused with 400 invalid_request before the provider reads it, and nothing is stored', async () => {
    const before = await keysOf(srv);
    const res = await fetch(authorizeUrl(srv, { junk: 'j'.repeat(9000) }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /8192 bytes/);
    // The provider's router ignores case and a trailing slash, and answers HEAD as GET: so does the limit.
    for (const [method, path] of [
      ['GET', '/oauth/AUTHORIZE/'],
      ['HEAD', '/oauth/authorize'],
    ]) {
      const other = await fetch(`${srv.url}${path}?${new URL(authorizeUrl(srv, { junk: 'j'.repeat(9000) })).search.slice(1)}`, {
        method,
        redirect: 'manual',
      });
      assert.equal(other.status, 400, `${method} ${path}`);
    }
    // A form POST to /oauth/authorize is bounded the same way.
    const posted = await fetch(`${srv.url}/oauth/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'limits-app', state: 'x'.repeat(10_000) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    assert.equal(posted.status, 413);
    assert.equal((await posted.json()).error, 'invalid_request');
    assert.deepEqual(await keysOf(srv), before);
  });

  it('PAR: a body over 8 KB is 413, an oversized parameter 400 invalid_request, neither stored; a normal PAR still works', async () => {
    const before = await keysOf(srv);
    const big = await par(
      srv,
      new URLSearchParams({
        client_id: 'limits-app',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: 'x'.repeat(50_000),
      }),
    );
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error, 'invalid_request');
    const oversized = await par(
      srv,
      new URLSearchParams({
        client_id: 'limits-app',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        state: 'x'.repeat(2000),
      }),
    );
    assert.equal(oversized.status, 400);
    const err = await oversized.json();
    assert.equal(err.error, 'invalid_request');
    assert.match(err.error_description, /state/);
    assert.deepEqual(await keysOf(srv), before);

    const ok = await par(
      srv,
      new URLSearchParams({
        client_id: 'limits-app',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid read',
        code_challenge: CHALLENGE,
        code_challenge_method: 'S256',
        state: 'fine',
      }),
    );
    assert.equal(ok.status, 201);
    const { request_uri, expires_in } = await ok.json();
    assert.ok(request_uri && expires_in <= 60);
    const page = await new Browser().follow(
      `${srv.url}/oauth/authorize?${new URLSearchParams({ client_id: 'limits-app', request_uri })}`,
      REDIRECT_URI,
    );
    assert.match(page.html, /name="password"/);
  });

  it('end-session: an oversized parameter is 400 invalid_request with nothing stored; an anonymous logout keeps its state 10 minutes, not days', async () => {
    const before = await keysOf(srv);
    for (const [param, value] of [
      ['state', 'x'.repeat(513)],
      ['post_logout_redirect_uri', `${REDIRECT_URI}?${'x'.repeat(2048)}`],
      ['logout_hint', 'h'.repeat(321)],
    ]) {
      const res = await fetch(`${srv.url}/oauth/end-session?${new URLSearchParams({ [param!]: value! })}`, { redirect: 'manual' });
      assert.equal(res.status, 400, param);
      const body = await res.json();
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description, new RegExp(param!));
    }
    const posted = await fetch(`${srv.url}/oauth/end-session`, {
      method: 'POST',
      body: new URLSearchParams({ state: 'x'.repeat(513) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(posted.status, 400);
    assert.deepEqual(await keysOf(srv), before);

    // No cookie, a short state: the provider answers its logout form and keeps the state briefly.
    const res = await fetch(`${srv.url}/oauth/end-session?state=bye`, { redirect: 'manual' });
    assert.equal(res.status, 200);
    const sessions = (await keysOf(srv)).filter((k) => k.startsWith('oidc:Session:') && !before.includes(k));
    assert.equal(sessions.length, 1);
    const ttl = await ttlOf(srv, sessions[0]!);
    assert.ok(ttl > 0 && ttl <= 600, `an anonymous session expires in ${ttl}s`);
  });

  it('the normal code flow still works, and its login interaction lives at most 10 minutes', async () => {
    const rp = await relyingParty(srv.url, { clientId: 'limits-app', clientSecret: SECRET });
    const browser = new Browser();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      state: client.randomState(),
    });
    await browser.follow(url.href, REDIRECT_URI);
    const interactions = (await keysOf(srv)).filter((k) => k.startsWith('oidc:Interaction:'));
    assert.ok(interactions.length >= 1);
    for (const key of interactions) {
      const ttl = await ttlOf(srv, key);
      assert.ok(ttl > 0 && ttl <= 600, `${key} expires in ${ttl}s`);
    }
    const a = await authorize(rp, new Browser(), { ...CUSTOMER, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    assert.ok(tokens.access_token);
    // The signed-in session keeps its usual lifetime (days), unlike an anonymous one.
    const signedIn = (await keysOf(srv)).filter((k) => k.startsWith('oidc:Session:'));
    const ttls = await Promise.all(signedIn.map((k) => ttlOf(srv, k)));
    assert.ok(
      ttls.some((t) => t > 86_400),
      `session TTLs ${ttls.join(', ')}`,
    );
  });
});

describe('OAuth: authorization, PAR and end-session requests are rate-limited per client address (RATE_LIMIT_OAUTH_AUTHORIZE)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { RATE_LIMIT_OAUTH_AUTHORIZE: '5/m' } });
    await srv.services.oauthClients.create({
      clientId: 'limits-app',
      clientSecret: SECRET,
      redirectUris: [REDIRECT_URI],
      scopes: ['openid', 'read'],
    });
  });
  after(() => srv.close());

  it('a burst past the limit gets 429 with Retry-After and an OAuth error body, for /authorize, /par and /end-session alike, and stores nothing more', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(authorizeUrl(srv, { state: `s${i}` }), { redirect: 'manual' });
      assert.equal(res.status, 303, `request ${i + 1}`);
      assert.equal(res.headers.get('ratelimit-limit'), '5');
    }
    const before = await keysOf(srv);
    const refused = await fetch(authorizeUrl(srv, { state: 'over' }), { redirect: 'manual' });
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = await refused.json();
    assert.ok(body.error && body.error_description, JSON.stringify(body));
    assert.equal(refused.headers.get('ratelimit-remaining'), '0');

    // However the provider's router would still match the path.
    for (const [method, path] of [
      ['GET', '/oauth/AUTHORIZE'],
      ['GET', '/oauth/authorize/'],
      ['HEAD', '/oauth/authorize'],
      ['POST', '/oauth/Par/'],
    ]) {
      const res = await fetch(`${srv.url}${path}?client_id=limits-app`, { method, redirect: 'manual' });
      assert.equal(res.status, 429, `${method} ${path}`);
    }
    const logout = await fetch(`${srv.url}/oauth/end-session?state=x`, { redirect: 'manual' });
    assert.equal(logout.status, 429);
    const pushed = await par(
      srv,
      new URLSearchParams({
        client_id: 'limits-app',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: CHALLENGE,
        code_challenge_method: 'S256',
      }),
    );
    assert.equal(pushed.status, 429);
    assert.ok(pushed.headers.get('retry-after'));
    assert.deepEqual(await keysOf(srv), before, 'a refused request stores nothing');
    // Token requests are not counted here (their clients authenticate).
    const token = await fetch(`${srv.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.notEqual(token.status, 429);
  });
});
