import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPolicyHeader, isRatePolicy, parseRatePolicy } from '../../src/rate-limit/policy.ts';
import { createRateLimiter, rateLimitHeaders } from '../../src/rate-limit/quotas.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Principal } from '../../src/principal/principal.ts';
import { ConfigError } from '../../src/config.ts';

describe('rate policies', () => {
  it('parses N/s|m|h|d, and N per a multiple of a unit', () => {
    assert.deepEqual(parseRatePolicy('1000/h'), { limit: 1000, windowSeconds: 3600 });
    assert.deepEqual(parseRatePolicy('5/m'), { limit: 5, windowSeconds: 60 });
    assert.deepEqual(parseRatePolicy('10/s'), { limit: 10, windowSeconds: 1 });
    assert.deepEqual(parseRatePolicy('5000/d'), { limit: 5000, windowSeconds: 86_400 });
    assert.deepEqual(parseRatePolicy(' 20 / 15m '), { limit: 20, windowSeconds: 900 });
    assert.equal(formatPolicyHeader(parseRatePolicy('1000/h')), '1000;w=3600');
  });

  it('refuses malformed policies', () => {
    for (const bad of ['', '1000', '/h', '0/h', '-1/h', '10/w', '10/0h', '1e3/h', '10/h/h', 'ten/h'])
      assert.equal(isRatePolicy(bad), false, bad);
  });

  it('refuses a malformed quota in the configuration at startup, naming the variable', () => {
    assert.throws(
      () =>
        createRateLimiter({
          store: createMemoryStore(),
          rateLimits: { apiKey: '1000/h', oauth: 'lots', jwt: '2000/h', oauthAuthorize: '60/m' },
        }),
      (e: Error) => e instanceof ConfigError && /RATE_LIMIT_OAUTH/.test(e.message),
    );
  });
});

describe('quota subjects', () => {
  const limiter = createRateLimiter({
    store: createMemoryStore(),
    rateLimits: { apiKey: '1000/h', oauth: '5000/h', jwt: '2000/h', oauthAuthorize: '60/m' },
  });
  const base = { scopes: [] as string[], expiresAt: null };
  const jwtUser: Principal = { ...base, kind: 'user', id: 'user_1', actorType: 'user', method: 'jwt', sid: 'fam_a', jti: 'a' };

  it('counts a first-party user, whichever token or session it uses', () => {
    const again: Principal = { ...jwtUser, sid: 'fam_b', jti: 'b' };
    const session: Principal = { ...jwtUser, method: 'session' };
    assert.equal(limiter.quotaOf(jwtUser).subject, limiter.quotaOf(again).subject);
    assert.equal(limiter.quotaOf(jwtUser).subject, limiter.quotaOf(session).subject);
    assert.deepEqual(limiter.quotaOf(jwtUser).policy, { limit: 2000, windowSeconds: 3600 });
  });

  it('counts an OAuth grant by user and client together', () => {
    const oauth = (id: string, clientId: string): Principal => ({
      ...base,
      kind: 'user',
      id,
      actorType: 'user',
      method: 'oauth',
      clientId,
    });
    assert.equal(limiter.quotaOf(oauth('user_1', 'app_a')).subject, limiter.quotaOf(oauth('user_1', 'app_a')).subject);
    assert.notEqual(limiter.quotaOf(oauth('user_1', 'app_a')).subject, limiter.quotaOf(oauth('user_1', 'app_b')).subject);
    assert.notEqual(limiter.quotaOf(oauth('user_1', 'app_a')).subject, limiter.quotaOf(oauth('user_2', 'app_a')).subject);
    assert.notEqual(limiter.quotaOf(oauth('user_1', 'app_a')).subject, limiter.quotaOf(jwtUser).subject);
    assert.deepEqual(limiter.quotaOf(oauth('user_1', 'app_a')).policy, { limit: 5000, windowSeconds: 3600 });
  });

  it('counts an API key by key, with its own rate_limit when set', () => {
    const key = (keyId: string, rateLimit?: string): Principal => ({
      ...base,
      kind: 'api_key',
      id: 'user_1',
      actorType: 'api-key',
      method: 'api_key',
      keyId,
      ...(rateLimit ? { rateLimit } : {}),
    });
    assert.notEqual(limiter.quotaOf(key('apk_1')).subject, limiter.quotaOf(key('apk_2')).subject);
    assert.deepEqual(limiter.quotaOf(key('apk_1')).policy, { limit: 1000, windowSeconds: 3600 });
    assert.deepEqual(limiter.quotaOf(key('apk_1', '100/m')).policy, { limit: 100, windowSeconds: 60 });
    assert.deepEqual(limiter.quotaOf(key('apk_1', 'garbage')).policy, { limit: 1000, windowSeconds: 3600 });
  });

  it('writes delta-seconds headers, and a refused request leaves the count as it was', async () => {
    const small = createRateLimiter({
      store: createMemoryStore(),
      rateLimits: { apiKey: '2/m', oauth: '2/m', jwt: '2/m', oauthAuthorize: '2/m' },
    });
    const first = await small.consume(jwtUser);
    assert.deepEqual(rateLimitHeaders(first), {
      'RateLimit-Limit': '2',
      'RateLimit-Remaining': '1',
      'RateLimit-Reset': '30',
      'RateLimit-Policy': '2;w=60',
    });
    await small.consume(jwtUser);
    for (let i = 0; i < 5; i++) assert.equal((await small.consume(jwtUser)).allowed, false);
    const peek = await small.consume(jwtUser, 0);
    assert.ok(peek.resetMs <= 60_000, 'refusals did not push the reset further out');
  });
});
