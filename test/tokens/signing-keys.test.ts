import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { createLogger } from '../../src/logger.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { generateJwks, generatePrivateJwk } from '../../src/tokens/generate-jwks.ts';
import {
  decryptPrivateJwk,
  developmentKeyEncryptionKey,
  encryptPrivateJwk,
  parseKeyEncryptionKey,
} from '../../src/tokens/key-encryption.ts';
import { keyStates, type StoredSigningKey } from '../../src/tokens/signing-key-states.ts';
import { createStoredSigningKeys } from '../../src/tokens/signing-keys.ts';
import { createVerifiedCache } from '../../src/tokens/verified-cache.ts';

const HOUR = 3_600_000;
const key = (kid: string, activatesAt: number, extra: Partial<StoredSigningKey> = {}): StoredSigningKey => ({
  kid,
  alg: 'RS256',
  publicJwk: {},
  createdAt: activatesAt - HOUR,
  activatesAt,
  origin: 'generated',
  ...extra,
});

describe('signing-key states, from timestamps', () => {
  it('next until it activates, then current; the key it supersedes is previous for the retire-after time, then retired', () => {
    const keys = [key('old', 0), key('new', 10 * HOUR)];
    const at = (t: number) => Object.fromEntries(keyStates(keys, t, 2 * HOUR).state);
    assert.deepEqual(at(5 * HOUR), { old: 'current', new: 'next' });
    assert.deepEqual(at(10 * HOUR), { old: 'previous', new: 'current' });
    assert.deepEqual(at(12 * HOUR - 1), { old: 'previous', new: 'current' });
    assert.deepEqual(at(12 * HOUR), { old: 'retired', new: 'current' });
    assert.equal(keyStates(keys, 5 * HOUR, 2 * HOUR).nextChangeAt, 10 * HOUR, 'when to look again without a write');
  });

  it('a revoked key is revoked whatever its timings, and one current key per algorithm', () => {
    const keys = [key('rs', 0, { revokedAt: 1 }), key('rs2', 0), key('es', 0, { alg: 'ES256' })];
    assert.deepEqual(Object.fromEntries(keyStates(keys, HOUR, HOUR).state), { rs: 'revoked', rs2: 'current', es: 'current' });
  });
});

describe('private keys at rest', () => {
  it('KEY_ENCRYPTION_KEY is 32 bytes in hex or base64url, nothing else', () => {
    assert.equal(parseKeyEncryptionKey('ab'.repeat(32)).length, 32);
    assert.equal(parseKeyEncryptionKey(Buffer.alloc(32, 7).toString('base64url')).length, 32);
    assert.equal(parseKeyEncryptionKey(Buffer.alloc(32, 7).toString('base64')).length, 32);
    for (const bad of ['', 'ab'.repeat(31), 'x'.repeat(64), Buffer.alloc(16).toString('base64url'), 'ab'.repeat(33)])
      assert.throws(() => parseKeyEncryptionKey(bad), /32 bytes/, bad);
  });

  it('a compact JWE (dir, A256GCM) that only the same KEK opens, and only as the key it was stored for', async () => {
    const jwk = await generatePrivateJwk('ES256');
    const kek = developmentKeyEncryptionKey('c'.repeat(32));
    const jwe = await encryptPrivateJwk(jwk, kek);
    assert.deepEqual(decodeProtectedHeader(jwe), { alg: 'dir', enc: 'A256GCM', kid: jwk.kid, cty: 'jwk+json' });
    assert.ok(!jwe.includes(jwk.d!));
    assert.deepEqual(await decryptPrivateJwk(jwe, jwk.kid!, kek), jwk);
    await assert.rejects(decryptPrivateJwk(jwe, jwk.kid!, developmentKeyEncryptionKey('d'.repeat(32))), /cannot decrypt/);
    await assert.rejects(decryptPrivateJwk(jwe, 'another-kid', kek), /cannot decrypt/);
  });
});

describe('stored signing keys (embedded store, a clock the test moves)', () => {
  async function setup(algorithms: ('RS256' | 'ES256' | 'EdDSA')[] = ['RS256', 'ES256']) {
    let clock = 1_000_000_000_000;
    const events: { type: string; data?: Record<string, unknown> }[] = [];
    const jwks = await generateJwks();
    const keys = await createStoredSigningKeys({
      store: createMemoryStore(),
      logger: createLogger('silent'),
      audit: { record: async (type, entry) => void events.push({ type, data: entry?.data }) },
      keyEncryptionKey: developmentKeyEncryptionKey('c'.repeat(32)),
      algorithms,
      leadTimeMs: HOUR,
      retireAfterMs: 2 * HOUR,
      importJwks: jwks,
      pollMs: 60_000,
      now: () => clock,
    });
    return { keys, jwks, events, tick: (ms: number) => (clock += ms) };
  }

  it('a rotation waits the lead time, then signs; the old key retires after the longest token lifetime', async () => {
    const { keys, jwks, events, tick } = await setup();
    try {
      const [rs] = jwks.keys;
      assert.equal(keys.keystore.signingKey().kid, rs!.kid);
      const next = await keys.rotate({ via: 'cli' });
      assert.deepEqual(next.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.deepEqual(
        (await keys.rotate({ via: 'cli' })).map((k) => k.kid),
        next.map((k) => k.kid),
        'a pending rotation is kept',
      );
      assert.equal(events.filter((e) => e.type === 'signing_key.rotated').length, 2);
      const newRs = next.find((k) => k.alg === 'RS256')!.kid;
      assert.ok(keys.keystore.hasKey(newRs), 'published while next');
      assert.equal(keys.keystore.signingKey().kid, rs!.kid, 'but not signing');
      tick(HOUR);
      await keys.refresh();
      assert.equal(keys.keystore.signingKey().kid, newRs);
      assert.equal(keys.keystore.signingKey('RS256').kid, newRs);
      assert.ok(keys.keystore.hasKey(rs!.kid!), 'previous: still verifies');
      tick(2 * HOUR);
      await keys.refresh();
      assert.ok(!keys.keystore.hasKey(rs!.kid!), 'retired');
      assert.equal((await keys.list()).find((k) => k.kid === rs!.kid)!.state, 'retired');
    } finally {
      keys.stop();
    }
  });

  it('revoking the current key promotes the next key at once and ends cached verifications of its tokens', async () => {
    const { keys, jwks, tick } = await setup();
    try {
      const [rs] = jwks.keys;
      const signer = keys.keystore.signingKey();
      const token = await new SignJWT({}).setProtectedHeader({ alg: signer.alg, kid: signer.kid }).sign(signer.key);
      const cache = createVerifiedCache<string>({ keyUsable: (kid) => keys.keystore.hasKey(kid) });
      cache.set(token, 'claims', Date.now() + HOUR, signer.kid);
      assert.equal(cache.get(token), 'claims');
      const [next] = (await keys.rotate({ via: 'cli' })).filter((k) => k.alg === 'RS256');
      tick(60_000);
      const revoked = await keys.revoke(rs!.kid!, { via: 'api' });
      assert.equal(revoked.state, 'revoked');
      assert.equal(keys.keystore.signingKey().kid, next!.kid, 'the waiting key signs at once');
      assert.equal(cache.get(token), undefined, 'the cached token is refused');
      await assert.rejects(keys.revoke(rs!.kid!, { via: 'api' }), /already revoked/);
      await assert.rejects(keys.revoke('nope', { via: 'api' }), /No signing key/);
    } finally {
      keys.stop();
    }
  });

  it('a new KEY_ENCRYPTION_KEY: the stored keys open only with the old one given as previous, and rekey moves them under the new one', async () => {
    const store = createMemoryStore();
    const events: string[] = [];
    const [oldKek, newKek] = [developmentKeyEncryptionKey('o'.repeat(32)), developmentKeyEncryptionKey('n'.repeat(32))];
    const open = (kek: Uint8Array, previous?: Uint8Array) =>
      createStoredSigningKeys({
        store,
        logger: createLogger('silent'),
        audit: { record: async (type) => void events.push(type) },
        keyEncryptionKey: kek,
        previousKeyEncryptionKey: previous,
        algorithms: ['RS256', 'ES256'],
        leadTimeMs: HOUR,
        retireAfterMs: 2 * HOUR,
        importJwks: { keys: [] },
        pollMs: 60_000,
      });
    const kidsOf = (k: Awaited<ReturnType<typeof open>>) => k.keystore.publicJwks.keys.map((j) => j.kid!).sort();
    const first = await open(oldKek);
    const stored = kidsOf(first);
    first.stop();
    await assert.rejects(open(newKek), /cannot decrypt/, 'the new key alone opens nothing yet');

    const both = await open(newKek, oldKek);
    const rotated = (await both.rotate({ via: 'cli' })).map((k) => k.kid);
    assert.deepEqual(
      (await both.rekey({ via: 'cli' })).reencrypted.sort(),
      stored,
      'the keys under the old KEK; the new ones already are not',
    );
    assert.deepEqual((await both.rekey({ via: 'cli' })).reencrypted, [], 'a second rekey has nothing to do');
    assert.equal(events.filter((e) => e === 'signing_key.reencrypted').length, stored.length);
    both.stop();

    const after = await open(newKek);
    assert.deepEqual(kidsOf(after), [...stored, ...rotated].sort(), 'every key opens with the new KEK alone');
    after.stop();
    await assert.rejects(open(oldKek), /cannot decrypt/, 'and none with the old one');
    await store.close();
  });

  it('EdDSA (Ed25519) when configured: a key is made for it, and it signs', async () => {
    const { keys } = await setup(['RS256', 'EdDSA']);
    try {
      const ed = keys.keystore.signingKey('EdDSA');
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: ed.kid }).sign(ed.key);
      assert.equal(decodeProtectedHeader(token).alg, 'EdDSA');
      assert.ok(keys.keystore.publicJwks.keys.some((k) => k.kid === ed.kid && k.crv === 'Ed25519' && !('d' in k)));
    } finally {
      keys.stop();
    }
  });
});
