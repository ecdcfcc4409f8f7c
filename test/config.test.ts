import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ConfigError, envSchema, loadConfig } from '../src/config.ts';
import { generateJwks } from '../src/tokens/generate-jwks.ts';

const base = { NODE_ENV: 'test', DEV_SECRETS_FILE: '.portcullis/test-secrets.json' };

describe('configuration', () => {
  it('has the documented defaults', async () => {
    const c = await loadConfig(base);
    assert.equal(c.port, 9000);
    assert.equal(c.publicUrl, 'http://localhost:9000');
    assert.equal(c.issuer, 'http://localhost:9000');
    assert.equal(c.redisUrl, undefined, 'no REDIS_URL: the embedded store');
    assert.equal(c.redisPrefix, 'pc:');
    assert.deepEqual(c.ttl, { access: 3600, refresh: 30 * 86400, admin: 86400, customer: 86400, oauthAccess: 3600 });
    assert.equal(c.refreshReuseGrace, 0);
    assert.equal(c.logLevel, 'info');
  });

  it('reads durations in seconds or with a unit, and strips a trailing slash from PUBLIC_URL', async () => {
    const c = await loadConfig({
      ...base,
      ACCESS_TOKEN_TTL: '15m',
      REFRESH_TOKEN_TTL: '7d',
      ADMIN_TOKEN_TTL: '12h',
      CUSTOMER_TOKEN_TTL: '90',
      PUBLIC_URL: 'https://auth.example.com/',
    });
    assert.deepEqual([c.ttl.access, c.ttl.refresh, c.ttl.admin, c.ttl.customer], [900, 604800, 43200, 90]);
    assert.equal(c.issuer, 'https://auth.example.com');
  });

  it('names the variable at fault', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ ACCESS_TOKEN_TTL: '-1' }, 'ACCESS_TOKEN_TTL'],
      [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
      [{ REFRESH_TOKEN_TTL: 'forever' }, 'REFRESH_TOKEN_TTL'],
      [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
      [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
      [{ REFRESH_REUSE_GRACE: '-5' }, 'REFRESH_REUSE_GRACE'],
      [{ COOKIE_SECRET: 'short' }, 'COOKIE_SECRET'],
      [{ API_KEY_PEPPER: 'short' }, 'API_KEY_PEPPER'],
      [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
      [{ JWKS: '{not json' }, 'JWKS'],
      [{ JWKS: '{"keys": []}' }, 'JWKS'],
      [{ JWKS_FILE: '/nonexistent/jwks.json' }, 'JWKS_FILE'],
      [{ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
      [{ BOOTSTRAP_ADMIN_EMAIL: 'not-an-email', BOOTSTRAP_ADMIN_PASSWORD: 'x' }, 'BOOTSTRAP_ADMIN_EMAIL'],
      [{ RATE_LIMIT_API_KEY: '1000 per hour' }, 'RATE_LIMIT_API_KEY'],
      [{ JWKS: '{"keys":[{"kid":"k1","kty":"oct","k":"c2VjcmV0","d":"x"}]}' }, 'JWKS'],
      [{ PUBLIC_URL: 'ftp://auth.example.com' }, 'PUBLIC_URL'],
      [{ PUBLIC_URL: 'https://auth.example.com/?tenant=1' }, 'PUBLIC_URL'],
      [{ NOTIFY_WEBHOOK_URL: 'file:///etc/passwd' }, 'NOTIFY_WEBHOOK_URL'],
      [{ DEV_SECRETS_FILE: 'package.json/dev-secrets.json' }, 'DEV_SECRETS_FILE'],
      [{ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: 'short' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
      [{ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: 'changeme' }, 'BOOTSTRAP_ADMIN_PASSWORD'],
    ];
    for (const [env, name] of cases) {
      await assert.rejects(loadConfig({ ...base, ...env }), (err: Error) => {
        assert.ok(err instanceof ConfigError, `${name}: ${err}`);
        assert.ok(err.message.includes(name), `${JSON.stringify(env)} -> "${err.message}" should name ${name}`);
        return true;
      });
    }
  });

  it('TRUST_PROXY takes the usual spellings, a hop count or a proxy list, and refuses anything else by name', async () => {
    const trust = async (value: string) => (await loadConfig({ ...base, TRUST_PROXY: value })).trustProxy;
    for (const on of ['1', 'true', 'TRUE', 'yes', 'Yes', 'on', 'ON', ' on '])
      assert.deepEqual(await trust(on), { mode: 'hops', hops: 1 }, on);
    for (const off of ['', '0', 'false', 'FALSE', 'no', 'off', 'Off']) assert.deepEqual(await trust(off), { mode: 'off' }, off);
    assert.deepEqual((await loadConfig(base)).trustProxy, { mode: 'off' }, 'off by default');
    assert.deepEqual(await trust('2'), { mode: 'hops', hops: 2 });
    assert.deepEqual(await trust('10.0.0.0/8, 192.168.1.1,fd00::/8'), { mode: 'list', proxies: ['10.0.0.0/8', '192.168.1.1', 'fd00::/8'] });
    for (const bad of ['maybe', 'enabled', '-1', '1.5', '1000', '10.0.0.0/33', '999.1.1.1', '10.0.0.1/8/8', 'loopback']) {
      await assert.rejects(
        loadConfig({ ...base, TRUST_PROXY: bad }),
        (err: Error) => err instanceof ConfigError && err.message.includes('TRUST_PROXY') && err.message.includes(bad),
        bad,
      );
    }
  });

  it('REDIS_CLUSTER takes the usual spellings and refuses anything else by name (never silently off)', async () => {
    const cluster = async (value: string) => (await loadConfig({ ...base, REDIS_CLUSTER: value })).redisCluster;
    for (const on of ['1', 'true', 'TRUE', 'yes', 'on', 'ON', ' On ']) assert.equal(await cluster(on), true, on);
    for (const off of ['', '0', 'false', 'FALSE', 'no', 'off']) assert.equal(await cluster(off), false, off);
    assert.equal((await loadConfig(base)).redisCluster, false, 'off by default');
    for (const bad of ['maybe', 'enabled', '2', 'cluster']) {
      await assert.rejects(
        loadConfig({ ...base, REDIS_CLUSTER: bad }),
        (err: Error) => err instanceof ConfigError && /^REDIS_CLUSTER: expected 1\/true\/yes\/on or 0\/false\/no\/off/.test(err.message),
        bad,
      );
    }
  });

  it('refuses a CORS entry that can never match (not an origin, a broken pattern) by name', async () => {
    const ok = await loadConfig({
      ...base,
      ADMIN_CORS: 'https://admin.example.com, http://localhost:7000/,/\\.example\\.com$/i',
      STORE_CORS: '*',
      AUTH_CORS: 'https://auth.example.com',
    });
    assert.deepEqual(ok.cors.admin, ['https://admin.example.com', 'http://localhost:7000/', '/\\.example\\.com$/i']);
    const cases: [Record<string, string>, string][] = [
      [{ ADMIN_CORS: 'admin.example.com' }, 'ADMIN_CORS'],
      [{ ADMIN_CORS: 'https://admin.example.com/app' }, 'ADMIN_CORS'],
      [{ STORE_CORS: 'https://shop.example.com,/[/' }, 'STORE_CORS'],
      [{ STORE_CORS: 'ftp://shop.example.com' }, 'STORE_CORS'],
      [{ AUTH_CORS: 'https://auth.example.com,auth' }, 'AUTH_CORS'],
    ];
    for (const [env, name] of cases) {
      await assert.rejects(
        loadConfig({ ...base, ...env }),
        (err: Error) => err instanceof ConfigError && err.message.startsWith(`${name}: expected`),
        JSON.stringify(env),
      );
    }
  });

  it('NODE_ENV=production refuses to start without KEY_ENCRYPTION_KEY, COOKIE_SECRET, API_KEY_PEPPER and REDIS_URL, and names each missing one', async () => {
    const full = {
      NODE_ENV: 'production',
      KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
      COOKIE_SECRET: 'c'.repeat(32),
      API_KEY_PEPPER: 'p'.repeat(32),
      REDIS_URL: 'redis://127.0.0.1:6379',
      ADMIN_CORS: 'https://admin.example.com',
      STORE_CORS: 'https://shop.example.com',
    };
    const ok = await loadConfig(full);
    assert.equal(ok.env, 'production');
    assert.equal(ok.devSecretsFile, undefined, 'production never uses generated development secrets');
    assert.deepEqual(ok.jwks, { keys: [] }, 'no JWKS: the store generates the first keys');
    for (const name of ['KEY_ENCRYPTION_KEY', 'COOKIE_SECRET', 'API_KEY_PEPPER', 'REDIS_URL'] as const) {
      const env: Record<string, string> = { ...full };
      delete env[name];
      await assert.rejects(
        loadConfig(env),
        (err: Error) => err instanceof ConfigError && err.message.includes(name) && /production/.test(err.message),
        name,
      );
    }
    await assert.rejects(loadConfig({ ...full, ADMIN_CORS: '*' }), /ADMIN_CORS/);
    // Keys managed outside (SIGNING_KEYS=static): the JWKS is required instead of the key-encryption key.
    const { KEY_ENCRYPTION_KEY: _kek, ...withoutKek } = full;
    await assert.rejects(loadConfig({ ...withoutKek, SIGNING_KEYS: 'static' }), /JWKS or JWKS_FILE \(SIGNING_KEYS=static\)/);
    const staticKeys = await loadConfig({ ...withoutKek, SIGNING_KEYS: 'static', JWKS: JSON.stringify(await generateJwks()) });
    assert.equal(staticKeys.signingKeys.mode, 'static');
  });

  it('signing keys: the lead time is at least the JWKS max-age; the algorithms include RS256; KEY_ENCRYPTION_KEY is 32 bytes', async () => {
    const base = { NODE_ENV: 'test', DEV_SECRETS_FILE: '.portcullis/test-secrets.json' };
    const ok = await loadConfig({ ...base, SIGNING_KEY_ROTATION: '90d', JWKS_MAX_AGE: '600', SIGNING_KEY_LEAD_TIME: '10m' });
    assert.equal(ok.signingKeys.rotation, 90 * 86400);
    assert.equal(ok.jwksMaxAge, 600);
    assert.equal((await loadConfig(base)).signingKeys.rotation, undefined, 'off by default');
    await assert.rejects(
      loadConfig({ ...base, JWKS_MAX_AGE: '3600', SIGNING_KEY_LEAD_TIME: '10m' }),
      /^ConfigError: SIGNING_KEY_LEAD_TIME: expected at least JWKS_MAX_AGE/,
    );
    await assert.rejects(loadConfig({ ...base, SIGNING_KEY_ALGORITHMS: 'ES256' }), /SIGNING_KEY_ALGORITHMS: expected .*includes RS256/);
    await assert.rejects(loadConfig({ ...base, SIGNING_KEY_ALGORITHMS: 'RS256,HS256' }), /SIGNING_KEY_ALGORITHMS/);
    await assert.rejects(loadConfig({ ...base, KEY_ENCRYPTION_KEY: 'short' }), /KEY_ENCRYPTION_KEY: expected 32 random bytes/);
    await assert.rejects(loadConfig({ ...base, SIGNING_KEY_ROTATION: 'often' }), /SIGNING_KEY_ROTATION: expected off, or/);
    // Replacing the key-encryption key: the old one is read as previous, in the same format, and never alone or twice.
    const moving = await loadConfig({ ...base, KEY_ENCRYPTION_KEY: 'ab'.repeat(32), KEY_ENCRYPTION_KEY_PREVIOUS: 'cd'.repeat(32) });
    assert.deepEqual(moving.signingKeys.previousKeyEncryptionKey, new Uint8Array(32).fill(0xcd));
    assert.equal((await loadConfig(base)).signingKeys.previousKeyEncryptionKey, undefined);
    await assert.rejects(
      loadConfig({ ...base, KEY_ENCRYPTION_KEY: 'ab'.repeat(32), KEY_ENCRYPTION_KEY_PREVIOUS: 'short' }),
      /KEY_ENCRYPTION_KEY_PREVIOUS: expected the KEY_ENCRYPTION_KEY being replaced/,
    );
    await assert.rejects(
      loadConfig({ ...base, KEY_ENCRYPTION_KEY_PREVIOUS: 'cd'.repeat(32) }),
      /KEY_ENCRYPTION_KEY_PREVIOUS: expected KEY_ENCRYPTION_KEY too/,
    );
    await assert.rejects(
      loadConfig({
        ...base,
        KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
        KEY_ENCRYPTION_KEY_PREVIOUS: Buffer.alloc(32, 0xab).toString('base64url'),
      }),
      /KEY_ENCRYPTION_KEY_PREVIOUS: expected a key other than KEY_ENCRYPTION_KEY/,
    );
  });

  it('refuses a brand colour white button text cannot be read on (WCAG AA 4.5:1), and reads the page settings', async () => {
    await assert.rejects(loadConfig({ ...base, BRAND_PRIMARY_COLOR: '#7b9cff' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /^BRAND_PRIMARY_COLOR: #7b9cff has a contrast of 2\.6\d:1 against the buttons' white text; WCAG AA needs 4\.5:1/,
      );
      return true;
    });
    // #767676 is the lightest grey that passes on white (4.54:1).
    assert.equal((await loadConfig({ ...base, BRAND_PRIMARY_COLOR: '#767676' })).branding.primaryColor, '#767676');
    await assert.rejects(loadConfig({ ...base, BRAND_PRIMARY_COLOR: '#777777' }), /BRAND_PRIMARY_COLOR/);
    for (const bad of ['red', '#12345', 'javascript:alert(1)'])
      await assert.rejects(loadConfig({ ...base, BRAND_PRIMARY_COLOR: bad }), /BRAND_PRIMARY_COLOR: expected a colour as #rrggbb/);
    for (const bad of ['javascript:alert(1)', 'http://cdn.example.com/logo.png', '//evil.example/logo.png'])
      await assert.rejects(loadConfig({ ...base, BRAND_LOGO_URL: bad }), /BRAND_LOGO_URL/, bad);
    await assert.rejects(
      loadConfig({ ...base, RESET_URL_TEMPLATE: 'https://shop.example.com/reset' }),
      /RESET_URL_TEMPLATE: expected a URL containing \{token\}/,
    );
    await assert.rejects(loadConfig({ ...base, CUSTOMER_SIGNUP: 'maybe' }), /CUSTOMER_SIGNUP/);
    const c = await loadConfig({
      ...base,
      SERVICE_NAME: 'Acme',
      BRAND_LOGO_URL: '/logo.svg',
      CUSTOMER_SIGNUP: 'off',
      PUBLIC_URL: 'https://id.example.com',
    });
    assert.deepEqual(c.branding, { serviceName: 'Acme', logoUrl: '/logo.svg', primaryColor: undefined });
    assert.equal(c.customerSignup, false);
    assert.equal(c.resetUrlTemplate, 'https://id.example.com/account/reset?token={token}');
    const d = await loadConfig(base);
    assert.equal(d.branding.serviceName, 'Portcullis');
    assert.equal(d.customerSignup, true, 'sign-up is on by default');
  });

  it('config/.env.example and docs/configuration.md document every variable, and the example values are the defaults', async () => {
    const names = Object.keys(envSchema.shape);
    assert.ok(names.length > 20);
    const example = await readFile(new URL('../config/.env.example', import.meta.url), 'utf8');
    const env: Record<string, string> = {};
    for (const line of example.split('\n')) {
      const m = /^([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) env[m[1]] = m[2];
    }
    for (const name of names) assert.ok(name in env, `config/.env.example lacks ${name}`);
    const table = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    for (const name of names)
      assert.ok(table.includes(`| \`${name}\` |`), `the configuration table in docs/configuration.md lacks ${name}`);
    const fromExample = await loadConfig({ ...env, ...base });
    const defaults = await loadConfig(base);
    assert.deepEqual(fromExample, defaults);
  });
});
