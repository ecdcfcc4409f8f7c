import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trustForwardedHeaders } from '../../src/http/client-address.ts';
import { isValidHost, requireValidHost } from '../../src/http/host-header.ts';
import { koaContext, run, unitApp, type FakeRequest } from '../helpers/koa-context.ts';

describe('Host header validation', () => {
  it('accepts host[:port] as RFC 9110 and the URL parser read it', () => {
    for (const host of [
      'auth.example.com',
      'auth.example.com:8443',
      'localhost',
      '127.0.0.1:9000',
      '[::1]',
      '[2001:db8::1]:443',
      'my_host.internal',
    ])
      assert.equal(isValidHost(host), true, host);
  });

  it('refuses what would break every URL built from it', () => {
    for (const host of [
      '',
      'auth example.com',
      'auth.example.com:65536',
      'auth.example.com:',
      'user@auth.example.com',
      '[::1',
      '::1',
      'http://auth.example.com',
      'auth.example.com/path',
      'auth.example.com?x',
      '-bad.example',
      '[zz::1]',
    ]) {
      assert.equal(isValidHost(host), false, host);
    }
  });

  async function decide(request: FakeRequest, trustProxy = false) {
    const app = unitApp();
    if (trustProxy) trustForwardedHeaders(app, { mode: 'hops', hops: 1 });
    const ctx = koaContext(request, app);
    const { reachedNext } = await run(
      requireValidHost((path) => (path.startsWith('/oauth') ? 'oauth' : 'v1')),
      ctx,
    );
    return { reachedNext, status: ctx.status, body: ctx.body as Record<string, unknown> | undefined };
  }

  it('answers 400 in the surface dialect for a bad Host, and lets a good one through', async () => {
    assert.equal((await decide({ headers: { host: 'auth.example.com' } })).reachedNext, true);
    const v1 = await decide({ url: '/v1/auth/verify', headers: { host: 'bad host' } });
    assert.deepEqual([v1.reachedNext, v1.status, v1.body?.error, v1.body?.code], [false, 400, 'invalid_request', 400]);
    const oauth = await decide({ url: '/oauth/auth', headers: { host: 'bad host' } });
    assert.deepEqual([oauth.status, oauth.body?.error], [400, 'invalid_request']);
    assert.ok(oauth.body && 'error_description' in oauth.body);
  });

  it('lets an HTTP/1.0 request come without a Host, but not an HTTP/1.1 one', async () => {
    assert.equal((await decide({ headers: { host: '' }, httpVersion: '1.0' })).reachedNext, true);
    assert.equal((await decide({ headers: { host: '' }, httpVersion: '1.1' })).status, 400);
  });

  it('checks X-Forwarded-Host too when a proxy is trusted', async () => {
    assert.equal((await decide({ headers: { host: 'internal:9000', 'x-forwarded-host': 'auth.example.com' } }, true)).reachedNext, true);
    assert.equal((await decide({ headers: { host: 'internal:9000', 'x-forwarded-host': 'bad host' } }, true)).status, 400);
    assert.equal(
      (await decide({ headers: { host: 'internal:9000', 'x-forwarded-host': 'bad host' } }, false)).reachedNext,
      true,
      'an untrusted X-Forwarded-Host is not read at all',
    );
  });
});
