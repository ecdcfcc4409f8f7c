import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { decodeProtectedHeader, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { InvalidTokenError, TokenExpiredError } from '../../src/errors.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { createJwtService, type JwtService } from '../../src/tokens/jwt.ts';
import { createKeystore, KeystoreError, type Keystore } from '../../src/tokens/keystore.ts';
import { createRevocations, type Revocations } from '../../src/tokens/revocations.ts';
import { createVerifiedCache } from '../../src/tokens/verified-cache.ts';
import { generateJwks } from '../../src/tokens/generate-jwks.ts';
import { AUDIENCE, ISSUER, strangerKeystore, testKeystore } from '../helpers/units.ts';

const now = () => Math.floor(Date.now() / 1000);

describe('first-party JWTs', () => {
  let keystore: Keystore;
  let revocations: Revocations;
  let jwt: JwtService;

  before(async () => {
    keystore = await testKeystore();
    revocations = createRevocations(createMemoryStore(), 3600);
    jwt = createJwtService({ keystore, revocations, issuer: ISSUER, audience: AUDIENCE, registrationTtlSeconds: 3600 });
  });

  const issueUser = (sid = `fam_${randomUUID()}`) =>
    jwt.issue({ sub: 'user_1', actorType: 'user', scope: ['read', 'write'], sid, ttlSeconds: 60, extra: { role: 'developer' } });

  /** A token as we would sign it, with `payload`/`header` changed: what a forger or an older release produces. */
  async function forge(payload: JWTPayload = {}, header: Record<string, unknown> = {}, signer = keystore.signingKey()): Promise<string> {
    const claims = {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user_1',
      actor_id: 'user_1',
      actor_type: 'user',
      scope: 'read',
      sid: 'fam_x',
      jti: randomUUID(),
      iat: now(),
      exp: now() + 60,
      ...payload,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT', ...header }).sign(signer.key);
  }

  it('issues a token that verifies to the claims it was issued with, signed with the first key and naming it', async () => {
    const issued = await issueUser('fam_a');
    const claims = await jwt.verify(issued.token);
    assert.equal(claims.sub, 'user_1');
    assert.equal(claims.actor_id, 'user_1');
    assert.equal(claims.actor_type, 'user');
    assert.equal(claims.scope, 'read write');
    assert.equal(claims.sid, 'fam_a');
    assert.equal(claims.jti, issued.jti);
    assert.equal(claims.role, 'developer');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.exp - claims.iat, 60);
    assert.equal(issued.expiresIn, 60);
    assert.equal(issued.expiresAt.getTime(), claims.exp * 1000);
    const header = decodeProtectedHeader(issued.token);
    assert.deepEqual(header, { alg: 'RS256', kid: keystore.signingKey().kid, typ: 'JWT' });
  });

  it('verifies a well-formed token signed by the ES256 key too', async () => {
    const token = await forge({}, {}, keystore.signingKey('ES256'));
    assert.equal((await jwt.verify(token)).sub, 'user_1');
  });

  const refusals: [string, () => Promise<string>][] = [
    ['another issuer', () => forge({ iss: 'https://evil.example' })],
    ['another audience', () => forge({ aud: 'someone-else' })],
    ['another typ (an OAuth access token)', () => forge({}, { typ: 'at+jwt' })],
    ['a registration token', () => forge({}, { typ: 'registration+jwt' })],
    ['no kid', () => forge({}, { kid: undefined })],
    ['a kid we do not have', () => forge({}, { kid: 'not-ours' })],
    ['no sid', () => forge({ sid: undefined })],
    ['no jti', () => forge({ jti: undefined })],
    ['an actor type that is not user or customer', () => forge({ actor_type: 'client' })],
    ['an actor_id that is not the subject', () => forge({ actor_id: 'user_2' })],
    ['no actor_id (an older release registration token)', () => forge({ actor_id: undefined })],
    ['a sign_in_exp that is not a number', () => forge({ sign_in_exp: 'later' })],
    ['a not-before in the future', () => forge({ nbf: now() + 120 })],
    [
      'our kid but another key',
      async () => {
        const forger = (await strangerKeystore()).signingKey();
        return forge({}, {}, { ...forger, kid: keystore.signingKey().kid });
      },
    ],
    [
      'HS256 keyed with our public key material',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(keystore.publicJwks.keys[0]));
        return new SignJWT({
          iss: ISSUER,
          aud: AUDIENCE,
          sub: 'user_1',
          actor_id: 'user_1',
          actor_type: 'user',
          sid: 's',
          jti: 'j',
          iat: now(),
          exp: now() + 60,
        })
          .setProtectedHeader({ alg: 'HS256', kid: keystore.signingKey().kid, typ: 'JWT' })
          .sign(secret);
      },
    ],
    [
      'alg none',
      async () =>
        new UnsecuredJWT({
          iss: ISSUER,
          aud: AUDIENCE,
          sub: 'user_1',
          actor_id: 'user_1',
          actor_type: 'user',
          sid: 's',
          jti: 'j',
          iat: now(),
          exp: now() + 60,
        }).encode(),
    ],
    [
      'a changed payload',
      async () => {
        const [h, , s] = (await issueUser()).token.split('.');
        const payload = Buffer.from(
          JSON.stringify({
            iss: ISSUER,
            aud: AUDIENCE,
            sub: 'user_1',
            actor_id: 'user_1',
            actor_type: 'user',
            scope: 'read write admin',
            sid: 's',
            jti: 'j',
            iat: now(),
            exp: now() + 60,
          }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
    ['not a JWT at all', async () => 'not-a-token'],
  ];
  for (const [what, make] of refusals) {
    it(`refuses a token with ${what} as invalid_token`, async () => {
      const token = await make();
      await assert.rejects(jwt.verify(token), (err: Error) => err instanceof InvalidTokenError && err.status === 401);
      assert.equal(jwt.signatureChecked(token), undefined, 'a refused token is not cached');
    });
  }

  it('reports an expired token as token_expired, allowing five seconds of clock skew', async () => {
    await assert.rejects(
      jwt.verify(await forge({ iat: now() - 120, exp: now() - 30 })),
      (err: Error) => err instanceof TokenExpiredError && err.status === 401,
    );
    assert.equal((await jwt.verify(await forge({ iat: now() - 120, exp: now() - 2 }))).sub, 'user_1');
  });

  it('refuses a revoked token at once, and only that token of its sign-in', async () => {
    const sid = 'fam_revoke_one';
    const [a, b] = [await issueUser(sid), await issueUser(sid)];
    await jwt.verify(a.token);
    await revocations.revokeToken(sid, a.jti);
    await assert.rejects(jwt.verify(a.token), (err: Error) => err instanceof InvalidTokenError && /revoked/.test(err.message));
    assert.equal((await jwt.verify(b.token)).jti, b.jti);
  });

  it('refuses every token of a revoked lineage, also those verified before', async () => {
    const sid = 'fam_revoke_all';
    const tokens = [await issueUser(sid), await issueUser(sid)];
    for (const t of tokens) await jwt.verify(t.token);
    const other = await issueUser('fam_untouched');
    await revocations.revokeLineage(sid);
    for (const t of tokens) await assert.rejects(jwt.verify(t.token), InvalidTokenError);
    assert.equal((await jwt.verify(other.token)).sid, 'fam_untouched');
  });

  it('remembers a checked signature for the fast lane, and forgets a token found revoked', async () => {
    const issued = await issueUser('fam_cache');
    assert.equal(jwt.signatureChecked(issued.token), undefined, 'nothing is known of a token never verified');
    await jwt.verify(issued.token);
    assert.equal(jwt.signatureChecked(issued.token)?.jti, issued.jti);
    await revocations.revokeLineage('fam_cache');
    await assert.rejects(jwt.verify(issued.token), InvalidTokenError);
    assert.equal(jwt.signatureChecked(issued.token), undefined, 'a revoked token never returns to the cache');

    const again = await issueUser();
    await jwt.verify(again.token);
    jwt.forget(again.token);
    assert.equal(jwt.signatureChecked(again.token), undefined);
  });

  it('does not answer from the cache for a token that has expired since it was checked', async () => {
    const issued = await jwt.issue({ sub: 'user_1', actorType: 'user', scope: ['read'], sid: 'fam_short', ttlSeconds: 1 });
    await jwt.verify(issued.token);
    assert.ok(jwt.signatureChecked(issued.token));
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(jwt.signatureChecked(issued.token), undefined);
  });
});

describe('the verified cache', () => {
  it('answers until the entry expires, with the grace a caller asks for', () => {
    let clock = 1_000;
    const cache = createVerifiedCache<string>({ now: () => clock });
    cache.set('t', 'claims', 2_000);
    assert.equal(cache.get('t'), 'claims');
    clock = 2_000;
    assert.equal(cache.get('t'), undefined, 'gone at its expiry');
    assert.equal(cache.get('t', 5_000), 'claims', 'kept within the grace');
    clock = 7_000;
    assert.equal(cache.get('t', 5_000), undefined, 'not past the grace');
  });

  it('holds at most `limit` entries, dropping the oldest first', () => {
    const cache = createVerifiedCache<number>({ limit: 2, now: () => 0 });
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    cache.set('c', 3, 10);
    assert.deepEqual(
      ['a', 'b', 'c'].map((k) => cache.get(k)),
      [undefined, 2, 3],
    );
  });
});

describe('revocation records', () => {
  it('refuse a token by jti or its whole lineage; only a lineage revocation ends what derives from the sign-in', async () => {
    const revocations = createRevocations(createMemoryStore(), 3600);
    await revocations.revokeToken('sid_a', 'jti_1');
    assert.equal(await revocations.isRevoked('sid_a', 'jti_1'), true);
    assert.equal(await revocations.isRevoked('sid_a', 'jti_2'), false);
    assert.equal(await revocations.isRevoked('sid_b', 'jti_1'), false, 'a jti is revoked within its own sid only');
    assert.equal(await revocations.isLineageRevoked('sid_a'), false, 'revoking one token leaves the sign-in alive');
    await revocations.revokeLineage('sid_a');
    assert.equal(await revocations.isRevoked('sid_a', 'jti_2'), true);
    assert.equal(await revocations.isLineageRevoked('sid_a'), true);
  });

  it('are kept as long as the longest access token lives (and verification accepts it, 5 s past exp), then expire', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const store = createMemoryStore();
    const revocations = createRevocations(store, 600);
    await revocations.revokeLineage('sid_ttl');
    t.mock.timers.tick(604_000);
    assert.equal(await revocations.isRevoked('sid_ttl', 'x'), true);
    t.mock.timers.tick(2_000);
    assert.equal(await revocations.isRevoked('sid_ttl', 'x'), false, 'the record expired with the tokens it refused');
  });
});

describe('the keystore', () => {
  it('publishes only the public members of its keys', async () => {
    const keystore = await testKeystore();
    for (const key of keystore.publicJwks.keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        assert.equal((key as Record<string, unknown>)[secret], undefined, `${key.kid} publishes ${secret}`);
      assert.ok(key.kid && key.alg);
    }
  });

  it('refuses a JWKS without an RS256 key, with duplicate or missing kids, or with an unsupported algorithm', async () => {
    const { keys } = await generateJwks();
    const [rsa, ec] = keys as [Record<string, unknown>, Record<string, unknown>];
    for (const bad of [
      [ec],
      [rsa, { ...ec, kid: rsa.kid }],
      [{ ...rsa, kid: undefined }],
      [rsa, { ...ec, alg: 'HS256' }],
      [rsa, { kty: 'oct', kid: 'h', k: 'c2VjcmV0' }],
    ]) {
      await assert.rejects(createKeystore({ keys: bad as never }), KeystoreError);
    }
  });
});
