import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateToken, parseRateLimit, redact, tokenHash, typeOfToken } from '../../src/api-keys/tokens.ts';
import { loadConfig } from '../../src/config.ts';
import { originMatcher } from '../../src/http/cors.ts';
import { narrowRole, secretKeyOf } from '../../src/principal/api-key.ts';

describe('API key tokens', () => {
  it('are pk_/sk_ + 32 random bytes in hex, never repeated', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => generateToken('secret')));
    assert.equal(tokens.size, 100);
    for (const t of tokens) assert.match(t, /^sk_[0-9a-f]{64}$/);
    assert.match(generateToken('publishable'), /^pk_[0-9a-f]{64}$/);
    assert.equal(typeOfToken(generateToken('publishable')), 'publishable');
    assert.equal(typeOfToken('sk_123'), null);
  });

  it('redact as Medusa does: first 6, ***, last 3', () => {
    assert.equal(redact('sk_ab1cdefgh9fz'), 'sk_ab1***9fz');
  });

  it('hash under the pepper: another pepper, another lookup key', () => {
    const t = generateToken('secret');
    assert.equal(tokenHash('p'.repeat(32), t), tokenHash('p'.repeat(32), t));
    assert.notEqual(tokenHash('p'.repeat(32), t), tokenHash('q'.repeat(32), t));
  });

  it('read rate limits like "100/h"', () => {
    assert.deepEqual(parseRateLimit('100/h'), { limit: 100, periodMs: 3_600_000 });
    assert.deepEqual(parseRateLimit('5/s'), { limit: 5, periodMs: 1000 });
    for (const bad of ['0/h', '100/w', '100', 'h/100', '-1/m']) assert.equal(parseRateLimit(bad), null, bad);
  });
});

describe('Secret keys in Authorization headers', () => {
  const sk = `sk_${'a'.repeat(64)}`;
  it('are found in Basic base64(sk_:), raw Basic sk_ and Bearer sk_', () => {
    assert.equal(secretKeyOf({ scheme: 'basic', value: Buffer.from(`${sk}:`).toString('base64') }), sk);
    assert.equal(secretKeyOf({ scheme: 'basic', value: sk }), sk);
    assert.equal(secretKeyOf({ scheme: 'bearer', value: sk }), sk);
  });
  it('leave other credentials to other resolvers', () => {
    assert.equal(secretKeyOf({ scheme: 'basic', value: Buffer.from('client_id:secret').toString('base64') }), undefined);
    assert.equal(secretKeyOf({ scheme: 'bearer', value: 'eyJ.x.y' }), undefined);
    assert.equal(secretKeyOf({ scheme: 'session', value: sk }), undefined);
  });
});

describe("A key's role", async () => {
  const { roleScopes } = await loadConfig({ NODE_ENV: 'test', DEV_SECRETS_FILE: '.portcullis/test-secrets.json' });
  it("is the creator's role narrowed by the key's scopes, never above it", () => {
    assert.equal(narrowRole('admin', ['read', 'write', 'admin'], roleScopes), 'admin');
    assert.equal(narrowRole('admin', ['read', 'write'], roleScopes), 'developer');
    assert.equal(narrowRole('admin', ['read'], roleScopes), 'member');
    assert.equal(narrowRole('member', ['read', 'write', 'admin'], roleScopes), 'member');
    assert.equal(narrowRole('developer', ['write'], roleScopes), undefined);
  });
});

describe('CORS origin lists', () => {
  it('match exact origins and /regular expressions/', () => {
    const allows = originMatcher(['http://localhost:7001', '/\\.example\\.com$/', 'https://admin.example.org/']);
    assert.ok(allows('http://localhost:7001'));
    assert.ok(allows('https://shop.example.com'));
    assert.ok(allows('https://admin.example.org'), 'a trailing slash in the setting is ignored');
    assert.ok(!allows('http://localhost:7000'));
    assert.ok(!allows('https://example.com.evil.test'));
    assert.ok(originMatcher(['*'])('https://anything.test'));
  });
});
