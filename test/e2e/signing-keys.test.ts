import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { once } from 'node:events';
import {
  dropPrefix,
  http,
  privatePrefix,
  REDIS_URL,
  redisBinariesMissing,
  runCli,
  startTestServer,
  type TestServer,
} from '../helpers/harness.ts';
import { startPrivateRedis } from '../helpers/private-redis.ts';
import { keys as storeKeys } from '../../src/store/keys.ts';
import { generateJwks, generatePrivateJwk } from '../../src/tokens/generate-jwks.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const PASSWORD = 'signing keys pw 1';
/** A verifier's JWKS max-age and the lead time, scaled down from minutes to seconds. */
const FAST = { JWKS_MAX_AGE: '1', SIGNING_KEY_LEAD_TIME: '2s' };

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function adminToken(srv: TestServer, email: string): Promise<string> {
  const res = await http(`${srv.origin}/admin/auth/token`, { method: 'POST', json: { email, password: PASSWORD } });
  assert.equal(res.status, 200, res.text);
  return res.json.token as string;
}

async function login(srv: TestServer, email: string): Promise<{ access_token: string; refresh_token: string }> {
  const res = await http(`${srv.origin}/v1/auth/login`, { method: 'POST', json: { username: email, password: PASSWORD } });
  assert.equal(res.status, 200, res.text);
  return { access_token: res.json.token, refresh_token: res.json.refresh_token };
}

const verify = (srv: TestServer, token: string) => http(`${srv.origin}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
const asAdmin = (srv: TestServer, token: string, path: string, method = 'GET') =>
  http(`${srv.origin}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

/** Every value under a prefix, whatever its type: what an attacker reading Redis would see. */
async function everyValue(prefix: string): Promise<string> {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  const out: string[] = [];
  try {
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      for (const key of batch) {
        const type = await redis.type(key);
        if (type === 'string') out.push((await redis.get(key)) ?? '');
        else if (type === 'hash') out.push(JSON.stringify(await redis.hGetAll(key)));
        else if (type === 'stream') out.push(JSON.stringify(await redis.xRange(key, '-', '+')));
        else if (type === 'zset') out.push(JSON.stringify(await redis.zRange(key, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await redis.sMembers(key)));
        else if (type === 'list') out.push(JSON.stringify(await redis.lRange(key, 0, -1)));
      }
    }
  } finally {
    await redis.close();
  }
  return out.join('\n');
}

describe('signing-key rotation seen by a microservice verifying with jose.createRemoteJWKSet, on two instances', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: string;

  before(async () => {
    a = await startTestServer({ env: FAST });
    b = await startTestServer({ prefix: a.prefix, env: { ...FAST, PUBLIC_URL: a.url } });
    await a.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: PASSWORD, role: 'admin' });
    await a.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: PASSWORD, role: 'developer' });
    admin = await adminToken(a, 'admin@example.com');
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await dropPrefix(a.prefix);
  });

  it('tokens issued before, during and after a rotation all verify, with no JWKS fetch beyond the one the new kid requires', async () => {
    const jwksUrl = new URL(`${a.origin}/.well-known/jwks.json`);
    let fetches = 0;
    const counted = (input: string, init: RequestInit) => {
      fetches++;
      return fetch(input, init);
    };
    // A microservice with jose's defaults (JWKS kept 10 minutes, refetched on an unknown kid once its
    // cooldown has passed); the cooldown is scaled down like the lead time.
    const service = createRemoteJWKSet(jwksUrl, { cooldownDuration: 1000, [customFetch]: counted });
    // One that honours Cache-Control (max-age 1 s here) and keeps jose's 30-s cooldown: a new kid met
    // inside the cooldown would fail, so this proves the lead time publishes keys early enough.
    const honouring = createRemoteJWKSet(jwksUrl, { cacheMaxAge: 1000 });
    const check = async (token: string) => {
      for (const keys of [service, honouring]) await jwtVerify(token, keys, { issuer: a.url, algorithms: ['RS256', 'ES256'] });
    };

    const before = (await login(a, 'dev@example.com')).access_token;
    await check(before);
    assert.equal(fetches, 1);
    const oldKid = kidOf(before);

    const rotated = await asAdmin(a, admin, '/admin/signing-keys/rotate', 'POST');
    assert.equal(rotated.status, 200, rotated.text);
    const next = rotated.json.signing_keys.find((k: { alg: string }) => k.alg === 'RS256');
    assert.equal(next.state, 'next');
    assert.equal(
      Date.parse(next.activates_at) - Date.parse(next.created_at),
      2000,
      'the new key waits the lead time (>= the JWKS max-age)',
    );
    const jwks = await http(jwksUrl.href);
    assert.equal(jwks.headers.get('cache-control'), 'public, max-age=1');
    assert.ok(
      jwks.json.keys.some((k: JWK) => k.kid === next.kid),
      'the next key is published at once',
    );

    // During the lead time both instances still sign with the current key.
    const during = [(await login(a, 'dev@example.com')).access_token, (await login(b, 'dev@example.com')).access_token];
    for (const t of during) {
      assert.equal(kidOf(t), oldKid);
      await check(t);
    }
    assert.equal(fetches, 1, 'no fetch while the kid is unchanged');

    // After the lead time the new key signs, on both instances.
    const afterA = await eventually('the new key to sign on a', async () => {
      const t = (await login(a, 'dev@example.com')).access_token;
      return kidOf(t) === next.kid ? t : undefined;
    });
    const afterB = await eventually('the new key to sign on b', async () => {
      const t = (await login(b, 'dev@example.com')).access_token;
      return kidOf(t) === next.kid ? t : undefined;
    });
    await check(afterA);
    await check(afterB);
    assert.equal(fetches, 2, 'one fetch, for the new kid');
    // The old key's tokens still verify (previous key), everywhere, with no further fetch.
    for (const t of [before, ...during]) {
      await check(t);
      for (const srv of [a, b]) assert.equal((await verify(srv, t)).status, 200);
    }
    assert.equal(fetches, 2);

    const listed = await asAdmin(a, admin, '/admin/signing-keys');
    const states = Object.fromEntries(listed.json.signing_keys.map((k: { kid: string; state: string }) => [k.kid, k.state]));
    assert.equal(states[next.kid], 'current');
    assert.equal(states[oldKid], 'previous');
    for (const k of listed.json.signing_keys) assert.equal(k.public_jwk.d, undefined, 'public parts only');
  });

  it('a revoked key: its tokens are refused by /v1/auth/verify on both instances within a second, cached ones included; refresh tokens still work', async () => {
    const session = await login(a, 'dev@example.com');
    const kid = kidOf(session.access_token);
    // Seen twice on each instance: the second answer comes from the verify fast lane's cache.
    for (const srv of [a, b]) for (let i = 0; i < 2; i++) assert.equal((await verify(srv, session.access_token)).status, 200);

    const revoked = await asAdmin(a, admin, `/admin/signing-keys/${kid}/revoke`, 'POST');
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.signing_key.state, 'revoked');
    const started = Date.now();
    const refusedAt = await Promise.all(
      [a, b].map((srv) =>
        eventually(`a refusal on ${srv.origin}`, async () =>
          (await verify(srv, session.access_token)).status === 401 ? Date.now() : undefined,
        ),
      ),
    );
    for (const at of refusedAt) assert.ok(at - started < 1000, `refused after ${at - started} ms`);
    const jwks = await http(`${b.origin}/.well-known/jwks.json`);
    assert.ok(!jwks.json.keys.some((k: JWK) => k.kid === kid), 'gone from the JWKS');

    // The refresh token yields a token signed by the key that replaced it, valid on both instances.
    const refreshed = await http(`${b.origin}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: session.refresh_token } });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.notEqual(kidOf(refreshed.json.token), kid);
    for (const srv of [a, b]) assert.equal((await verify(srv, refreshed.json.token)).status, 200);

    // The admin's own token was signed by that key too: a new sign-in sees the change in the audit trail.
    admin = await adminToken(a, 'admin@example.com');
    const events = await a.services.audit.list({ type: 'signing_key.revoked', limit: 10 });
    assert.equal(events.events.length, 1);
    assert.equal(events.events[0]!.subject_id, kid);
  });

  it('admin only: a developer cannot list, rotate or revoke', async () => {
    const dev = await adminToken(a, 'dev@example.com');
    for (const [path, method] of [
      ['/admin/signing-keys', 'GET'],
      ['/admin/signing-keys/rotate', 'POST'],
      ['/admin/signing-keys/nope/revoke', 'POST'],
    ] as const)
      assert.equal((await asAdmin(a, dev, path, method)).status, 403, path);
    const unknown = await asAdmin(a, admin, '/admin/signing-keys/no-such-kid/revoke', 'POST');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.type, 'not_found');
  });
});

describe('scheduled rotation (SIGNING_KEY_ROTATION) on two instances', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    const env = { SIGNING_KEY_ROTATION: '2s' };
    a = await startTestServer({ env });
    b = await startTestServer({ prefix: a.prefix, env: { ...env, PUBLIC_URL: a.url } });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await dropPrefix(a.prefix);
  });

  it('happens once, on one instance, and both publish the new keys', async () => {
    const next = await eventually('a scheduled rotation', async () => {
      const keys = await a.services.signingKeys.list();
      const waiting = keys.filter((k) => k.state === 'next');
      return waiting.length ? waiting : undefined;
    });
    await sleep(1500); // both instances have polled several times since
    const keys = await a.services.signingKeys.list();
    assert.deepEqual(
      keys
        .filter((k) => k.state === 'next')
        .map((k) => k.alg)
        .sort(),
      ['ES256', 'RS256'],
    );
    assert.equal(keys.length, 4, JSON.stringify(keys.map((k) => [k.kid, k.state])));
    const events = await a.services.audit.list({ type: 'signing_key.rotated', limit: 10 });
    assert.equal(events.events.length, 2, 'one rotation: one event per algorithm');
    for (const srv of [a, b]) {
      const jwks = await http(`${srv.origin}/.well-known/jwks.json`);
      for (const k of next)
        assert.ok(
          jwks.json.keys.some((j: JWK) => j.kid === k.kid),
          `${srv.origin} publishes ${k.kid}`,
        );
    }
  });
});

describe('the OAuth code flow with openid-client across a rotation', () => {
  let srv: TestServer;
  let rp: client.Configuration;
  before(async () => {
    srv = await startTestServer({ env: FAST });
    await srv.services.accounts.create({ actorType: 'customer', email: 'rp@example.com', password: PASSWORD });
    const { secret } = await srv.services.oauthClients.create({ clientId: 'rotating', redirectUris: [REDIRECT_URI] });
    rp = await relyingParty(srv.url, { clientId: 'rotating', clientSecret: secret! });
  });
  after(() => srv?.close());

  async function codeFlow(browser: Browser) {
    const x = await authorize(rp, browser, { email: 'rp@example.com', password: PASSWORD, scope: 'openid read' });
    // openid-client checks the ID token's signature against the provider's JWKS (jwks_uri).
    const tokens = await client.authorizationCodeGrant(rp, x.callback, {
      pkceCodeVerifier: x.codeVerifier,
      expectedState: x.state,
      expectedNonce: x.nonce,
      idTokenExpected: true,
    });
    return tokens;
  }

  it('ID tokens and JWT access tokens are signed by the current key before and after, and validate', async () => {
    const browser = new Browser();
    const first = await codeFlow(browser);
    const oldKid = kidOf(first.id_token!);
    assert.equal(kidOf(first.access_token), oldKid);
    const [next] = (await srv.services.signingKeys.rotate({ via: 'cli' })).filter((k) => k.alg === 'RS256');
    await eventually('the new key to activate', async () =>
      (await srv.services.signingKeys.list()).find((k) => k.kid === next!.kid)?.state === 'current' ? true : undefined,
    );
    await srv.services.signingKeys.refresh();
    const second = await codeFlow(browser);
    assert.equal(kidOf(second.id_token!), next!.kid);
    assert.equal(kidOf(second.access_token), next!.kid);
    await client.fetchUserInfo(rp, second.access_token, second.claims()!.sub);
    // The access token issued before the rotation still works (its key is previous).
    assert.equal((await verify(srv, first.access_token)).status, 200);
    const discovery = await http(`${srv.origin}/.well-known/openid-configuration`);
    const oauthJwks = await http(discovery.json.jwks_uri.replace(srv.url, srv.origin));
    assert.deepEqual(
      oauthJwks.json.keys.map((k: JWK) => k.kid).sort(),
      (await http(`${srv.origin}/.well-known/jwks.json`)).json.keys.map((k: JWK) => k.kid).sort(),
      'the provider publishes the same keys',
    );
    assert.equal(oauthJwks.headers.get('cache-control'), 'public, max-age=1');
  });
});

describe('keys in the store: import, restart, the CLI, static mode, and never a private key in clear', () => {
  let dir: string;
  let file: string;
  let imported: JWK[];
  const prefix = privatePrefix('signing-keys');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const kek = 'ab'.repeat(32);
  const env = () => ({ JWKS_FILE: file, KEY_ENCRYPTION_KEY: kek, LOG_LEVEL: 'debug' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pc-keys-'));
    file = join(dir, 'jwks.json');
    const pair = await generateJwks();
    // The key the CLI revokes has a kid beginning with "-", as one thumbprint in 64 does (CI met one).
    const revokedLater = { ...(await generatePrivateJwk('RS256')), kid: `-Z${randomBytes(8).toString('base64url')}` };
    imported = [pair.keys[0]!, pair.keys[1]!, revokedLater];
    await writeFile(file, JSON.stringify({ keys: imported }));
  });
  after(async () => {
    await dropPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  it('imports JWKS_FILE at the first start (its first key of each algorithm current, the others previous), keeps keys across a restart, and the CLI changes reach the server', async () => {
    const privateParts = new Set(imported.map((k) => k.d!));
    let srv = await startTestServer({ prefix, env: env(), logDestination: sink });
    try {
      const keys = await srv.services.signingKeys.list();
      const state = Object.fromEntries(keys.map((k) => [k.kid, [k.state, k.origin]]));
      assert.deepEqual(state, {
        [imported[0]!.kid!]: ['current', 'imported'],
        [imported[1]!.kid!]: ['current', 'imported'],
        [imported[2]!.kid!]: ['previous', 'imported'],
      });
      await srv.services.accounts.create({ actorType: 'user', email: 'keeper@example.com', password: PASSWORD });
      const token = (await login(srv, 'keeper@example.com')).access_token;
      assert.equal(kidOf(token), imported[0]!.kid);

      // The CLI rotates (with the same KEY_ENCRYPTION_KEY); the running server publishes the key within a poll.
      const cli = async (args: string[]) => {
        const r = await runCli(prefix, args, { env: { JWKS_FILE: file, KEY_ENCRYPTION_KEY: kek } });
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      const rotated = await cli(['keys', 'rotate']);
      assert.equal(rotated.signing_keys.length, 2);
      await eventually('the server to publish the CLI-rotated keys', async () => {
        const jwks = await http(`${srv.origin}/.well-known/jwks.json`);
        return rotated.signing_keys.every((k: { kid: string }) => jwks.json.keys.some((j: JWK) => j.kid === k.kid)) ? true : undefined;
      });
      for (const k of srv.services.keystore.privateJwks.keys) privateParts.add(k.d!);
      // And revokes the imported previous key; the listing says so.
      await cli(['keys', 'revoke', imported[2]!.kid!]);
      const listed = await cli(['keys', 'list']);
      assert.equal(listed.signing_keys.find((k: { kid: string }) => k.kid === imported[2]!.kid).state, 'revoked');
      const bad = await runCli(prefix, ['keys', 'revoke'], { env: { JWKS_FILE: file, KEY_ENCRYPTION_KEY: kek } });
      assert.equal(bad.code, 2);

      const before = (await srv.services.signingKeys.list()).map((k) => [k.kid, k.state]);
      await srv.close();
      // A restart (the file changed meanwhile: the store's keys win, nothing is imported again).
      await writeFile(file, JSON.stringify(await generateJwks()));
      srv = await startTestServer({ prefix, env: { ...env(), PUBLIC_URL: srv.url }, logDestination: sink });
      assert.deepEqual(
        (await srv.services.signingKeys.list()).map((k) => [k.kid, k.state]),
        before,
      );
      assert.equal((await verify(srv, token)).status, 200, 'a token from before the restart verifies');

      // Never in clear: not in any value under the prefix, not in any log line.
      const everything = await everyValue(prefix);
      assert.ok(everything.includes('signing-keys') || everything.length > 0);
      for (const d of privateParts) {
        assert.ok(!everything.includes(d), 'a private key is in Redis in clear');
        assert.ok(!lines.join('').includes(d), 'a private key is in the logs');
      }
      const record = JSON.parse((await srv.store.get('signing-keys'))!);
      for (const k of record.keys)
        if (k.privateJwe) assert.match(k.privateJwe, /^eyJ[\w-]*\.\.[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWE with dir (no encrypted key)');
      assert.ok(
        lines.some((l) => l.includes('signing keys loaded')),
        'the logs were captured',
      );
    } finally {
      await srv.close();
    }
  });

  it('refuses to open the keys under another KEY_ENCRYPTION_KEY', async () => {
    await assert.rejects(startTestServer({ prefix, env: { ...env(), KEY_ENCRYPTION_KEY: 'cd'.repeat(32) } }), /cannot decrypt/);
  });

  it('moves the keys under a new KEY_ENCRYPTION_KEY: with the old one as previous the server signs on, keys rekey re-encrypts, then the new one alone opens them', async () => {
    const newKek = 'ef'.repeat(32);
    const moving = { JWKS_FILE: file, KEY_ENCRYPTION_KEY: newKek, KEY_ENCRYPTION_KEY_PREVIOUS: kek };
    let srv = await startTestServer({ prefix, env: { ...env(), ...moving } });
    let token: string;
    try {
      token = (await login(srv, 'keeper@example.com')).access_token;
      const underOld = JSON.parse((await srv.store.get('signing-keys'))!)
        .keys.filter((k: { privateJwe?: string }) => k.privateJwe)
        .map((k: { kid: string }) => k.kid)
        .sort();
      const rekey = () => runCli(prefix, ['keys', 'rekey'], { env: moving });
      const first = await rekey();
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(JSON.parse(first.stdout).reencrypted.sort(), underOld, 'every stored private part');
      assert.deepEqual(JSON.parse((await rekey()).stdout).reencrypted, [], 'a second run has nothing to do');
      const audited = (await srv.store.streamRange(storeKeys.eventStream('audit'), { count: 1000 })).filter(
        (e) => e.fields.type === 'signing_key.reencrypted',
      );
      assert.deepEqual(audited.map((e) => e.fields.subject_id).sort(), underOld);
      assert.ok(audited.every((e) => e.fields.actor_type === 'cli'));
    } finally {
      await srv.close();
    }
    await assert.rejects(startTestServer({ prefix, env: env() }), /cannot decrypt/, 'the old key alone opens nothing now');
    // The same issuer as before the restart, so the earlier token is one this server issued.
    srv = await startTestServer({ prefix, env: { ...env(), KEY_ENCRYPTION_KEY: newKek, PUBLIC_URL: srv.url } });
    try {
      assert.equal((await verify(srv, token)).status, 200, 'a token from before verifies');
      assert.equal(kidOf((await login(srv, 'keeper@example.com')).access_token), kidOf(token), 'the same key signs');
    } finally {
      await srv.close();
    }
  });

  it('SIGNING_KEYS=static serves JWKS_FILE as it is and refuses rotation', async () => {
    await writeFile(file, JSON.stringify({ keys: imported }));
    const srv = await startTestServer({ env: { JWKS_FILE: file, SIGNING_KEYS: 'static' } });
    try {
      await srv.services.accounts.create({ actorType: 'user', email: 'root@example.com', password: PASSWORD, role: 'admin' });
      const token = await adminToken(srv, 'root@example.com');
      const list = await asAdmin(srv, token, '/admin/signing-keys');
      assert.equal(list.json.mode, 'static');
      assert.deepEqual(
        list.json.signing_keys.map((k: { kid: string }) => k.kid),
        imported.map((k) => k.kid),
      );
      const rotate = await asAdmin(srv, token, '/admin/signing-keys/rotate', 'POST');
      assert.equal(rotate.status, 400);
      assert.match(rotate.json.message, /SIGNING_KEYS=static/);
      assert.equal(await srv.store.get('signing-keys'), null, 'nothing stored');
    } finally {
      await srv.close();
    }
  });
});

describe('signing keys across a Redis restart', { skip: redisBinariesMissing() }, () => {
  it('an instance that lost Redis picks up a revocation made after Redis came back', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pc-keys-redis-'));
    const args = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
    const started0 = await startPrivateRedis({ args });
    const { url, port } = started0;
    let { redis } = started0;
    const prefix = privatePrefix('keys-reconnect');
    const a = await startTestServer({ redisUrl: url, prefix });
    const b = await startTestServer({ redisUrl: url, prefix, env: { PUBLIC_URL: a.url } });
    try {
      await a.services.accounts.create({ actorType: 'user', email: 'outage@example.com', password: PASSWORD });
      const token = (await login(a, 'outage@example.com')).access_token;
      for (let i = 0; i < 2; i++) assert.equal((await verify(a, token)).status, 200);

      redis.kill('SIGKILL');
      await once(redis, 'exit');
      await sleep(1500); // several polls fail meanwhile
      assert.equal((await verify(a, token)).status, 503, 'fails closed while Redis is away');
      ({ redis } = await startPrivateRedis({ port, args }));
      await eventually('a to reach Redis again', async () => ((await verify(a, token)).status === 200 ? true : undefined), 20_000);

      await b.services.signingKeys.revoke(kidOf(token), { via: 'cli' });
      const started = Date.now();
      await eventually('a to refuse the revoked key', async () => ((await verify(a, token)).status === 401 ? true : undefined), 5000);
      assert.ok(Date.now() - started < 1000, `refused after ${Date.now() - started} ms`);
    } finally {
      await b.close();
      await a.close();
      redis.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
