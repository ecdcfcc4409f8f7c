import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cookieWriteGuard, CrossSiteWriteError } from '../../src/http/cookie-writes.ts';
import { UnsupportedMediaTypeError } from '../../src/errors.ts';
import { koaContext, run, signedCookie } from '../helpers/koa-context.ts';

const ORIGIN = 'https://auth.example.test';
const guard = cookieWriteGuard({ sessionCookie: 'connect.sid', trustedOrigins: [ORIGIN], readOnlyPaths: ['/v1/auth/verify'] });
const session = signedCookie('connect.sid', 'sess_1');
const json = { 'content-type': 'application/json' };

/** What the guard decides for one request: passed on, or the error it refused with. */
async function decide(request: Parameters<typeof koaContext>[0], setup: (ctx: ReturnType<typeof koaContext>) => void = () => {}) {
  const ctx = koaContext({ method: 'POST', url: '/auth/session', ...request });
  setup(ctx);
  try {
    return (await run(guard, ctx)).reachedNext ? 'passed' : 'stopped';
  } catch (err) {
    return err;
  }
}

describe('the cookie-write guard (cross-site request forgery)', () => {
  it('lets through what the session cookie does not authenticate: safe methods, no cookie, an Authorization header, a badly signed cookie', async () => {
    assert.equal(await decide({ method: 'GET', headers: { cookie: session } }), 'passed');
    assert.equal(await decide({ method: 'OPTIONS', headers: { cookie: session } }), 'passed');
    assert.equal(await decide({ headers: { origin: 'https://evil.example' } }), 'passed');
    assert.equal(await decide({ headers: { cookie: session, authorization: 'Bearer x', origin: 'https://evil.example' } }), 'passed');
    assert.equal(await decide({ headers: { cookie: 'connect.sid=sess_1', origin: 'https://evil.example' } }), 'passed');
  });

  it('lets through a JSON write from a trusted page', async () => {
    assert.equal(await decide({ headers: { cookie: session, origin: ORIGIN, ...json } }), 'passed');
    assert.equal(
      await decide({ headers: { cookie: session, 'sec-fetch-site': 'same-origin', ...json } }),
      'passed',
      'no Origin but a same-origin fetch',
    );
    assert.equal(
      await decide(
        { headers: { cookie: session, origin: 'https://admin.example.test', ...json } },
        (ctx) => (ctx.state.corsOriginAllowed = true),
      ),
      'passed',
      'an origin the surface CORS rules allow',
    );
    assert.equal(
      await decide({ headers: { cookie: session, origin: ORIGIN, 'content-type': 'application/json; charset=utf-8' } }),
      'passed',
    );
  });

  it('refuses a cookie-authenticated write from any other page with 403', async () => {
    for (const headers of [
      { origin: 'https://evil.example', ...json },
      { origin: 'https://sub.auth.example.test', ...json },
      { origin: 'null', 'sec-fetch-site': 'same-origin', ...json },
      { ...json },
      { 'sec-fetch-site': 'same-site', ...json },
    ]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const err = await decide({ method, headers: { cookie: session, ...headers } });
        assert.ok(err instanceof CrossSiteWriteError && err.status === 403, `${method} ${JSON.stringify(headers)}: ${err}`);
      }
    }
  });

  it('refuses a trusted page write that is not JSON (a form post needs no preflight) with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const err = await decide({ headers: { cookie: session, origin: ORIGIN, 'content-type': type } });
      assert.ok(err instanceof UnsupportedMediaTypeError, type);
    }
    assert.ok(
      (await decide({ headers: { cookie: session, origin: ORIGIN } })) instanceof UnsupportedMediaTypeError,
      'no content type at all',
    );
  });

  it('leaves read-only paths alone whatever the method (forward auth asks with the original one)', async () => {
    assert.equal(
      await decide({ method: 'DELETE', url: '/v1/auth/verify', headers: { cookie: session, origin: 'https://evil.example' } }),
      'passed',
    );
  });
});
