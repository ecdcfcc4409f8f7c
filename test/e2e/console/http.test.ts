import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../../helpers/harness.ts';
import { CONSOLE_CSP } from '../../../src/http/console/pages.ts';

const EXPECTED_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Sign in as the console does: a Medusa token, then a cookie session; returns the Set-Cookie line. */
async function cookieSignIn(url: string, email: string, password: string) {
  const token = await http(`${url}/auth/user/emailpass`, { method: 'POST', json: { email, password } });
  assert.equal(token.status, 200);
  const session = await http(`${url}/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${token.json.token}` } });
  assert.equal(session.status, 200);
  const line = session.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
  assert.ok(line, 'a session cookie');
  const cookie = session.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { line, cookie };
}

describe('the console over HTTP: shell, assets, headers, /admin/overview', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'boss@example.com', password: 'boss password 1', role: 'admin' });
    await srv.services.accounts.create({ actorType: 'user', email: 'reader@example.com', password: 'reader password 1', role: 'member' });
  });
  after(() => srv?.close());

  it('redirects / to /app', async () => {
    const res = await fetch(`${srv.url}/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get('location')!, srv.url).pathname, '/app');
  });

  it('serves the shell at /app and every client-side route under it, uncached, with a strict CSP', async () => {
    for (const path of ['/app', '/app/', '/app/api-keys', '/app/users/user_123']) {
      const res = await http(`${srv.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('content-security-policy'), EXPECTED_CSP);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      // No inline script or style for the CSP to have to allow.
      assert.doesNotMatch(res.text, /<script>(?!<)|<style|style=/);
    }
    assert.equal(CONSOLE_CSP, EXPECTED_CSP);
  });

  it('serves the bundle under content-hashed names, cached for a year, and 404 for any other name', async () => {
    const shell = (await http(`${srv.url}/app`)).text;
    const script = /src="(\/app\/assets\/console-[\w-]{16}\.js)"/.exec(shell)?.[1];
    const style = /href="(\/app\/assets\/console-[\w-]{16}\.css)"/.exec(shell)?.[1];
    assert.ok(script && style, 'the shell names a hashed script and stylesheet');
    for (const [path, type] of [
      [script, /^text\/javascript/],
      [style, /^text\/css/],
    ] as const) {
      const res = await http(`${srv.url}${path}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, type);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('pragma'), null);
      assert.ok(res.text.length > 1000);
    }
    assert.equal((await http(`${srv.url}/app/assets/console-AAAAAAAAAAAAAAAA.js`)).status, 404);
    assert.equal((await http(`${srv.url}/app`, { method: 'POST' })).status, 405);
  });

  it('signs in with an httpOnly session cookie', async () => {
    const { line, cookie } = await cookieSignIn(srv.url, 'boss@example.com', 'boss password 1');
    assert.match(line, /;\s*httponly/i);
    assert.match(line, /;\s*samesite=lax/i);
    const me = await http(`${srv.url}/admin/users/me`, { headers: { cookie } });
    assert.equal(me.json.user.email, 'boss@example.com');
  });

  it('GET /admin/overview counts accounts, keys, clients and the last day of logins, for every role', async () => {
    assert.equal((await http(`${srv.url}/admin/overview`)).status, 401);
    const failed = await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: { email: 'boss@example.com', password: 'wrong' } });
    assert.equal(failed.status, 401);
    const { cookie } = await cookieSignIn(srv.url, 'reader@example.com', 'reader password 1');
    const res = await http(`${srv.url}/admin/overview`, { headers: { cookie } });
    assert.equal(res.status, 200);
    const o = res.json.overview;
    assert.deepEqual(o.accounts, { users: 2, customers: 0 });
    assert.equal(o.oauth_clients, 0);
    assert.equal(o.api_keys.active, 0);
    assert.ok(o.last_24h.sign_ins >= 1, 'the sign-ins of this test');
    assert.ok(o.last_24h.failed_logins >= 1, 'the failed login above');
    assert.equal(o.last_24h.complete, true);
    assert.equal(o.redis.status, 'up');
    assert.equal(o.redis.kind, 'redis');
    assert.equal(typeof o.quota_refusals.count, 'number');
  });
});
