import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { oauthAccessTokenResolver } from '../../src/principal/oauth-access-token.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { createKeystore, type Keystore } from '../../src/tokens/keystore.ts';
import { createRevocations } from '../../src/tokens/revocations.ts';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://api.example.com';

describe('OAuth access token resolver (at+jwt)', () => {
  let keystore: Keystore;
  let resolver: ReturnType<typeof oauthAccessTokenResolver>;
  let revocations: ReturnType<typeof createRevocations>;

  before(async () => {
    const config = await loadConfig({ NODE_ENV: 'test', DEV_SECRETS_FILE: '.portcullis/test-secrets.json' });
    keystore = await createKeystore(config.jwks);
    revocations = createRevocations(createMemoryStore(), 3600);
    resolver = oauthAccessTokenResolver({ keystore, revocations, issuer: ISSUER, audience: AUDIENCE });
  });

  const sign = async (
    over: {
      claims?: Record<string, unknown>;
      typ?: string;
      key?: { key: CryptoKey; kid: string; alg: string };
      exp?: number;
      iss?: string;
      aud?: string;
    } = {},
  ) => {
    const signer = over.key ?? keystore.signingKey('RS256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: 'app', scope: 'read write', grant_id: 'grant-1', actor_type: 'customer', ...over.claims })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: over.typ ?? 'at+jwt' })
      .setIssuer(over.iss ?? ISSUER)
      .setAudience(over.aud ?? AUDIENCE)
      .setSubject('cus_1')
      .setJti(`jti-${Math.random()}`)
      .setIssuedAt(now)
      .setExpirationTime(over.exp ?? now + 600)
      .sign(signer.key);
  };
  const resolve = (token: string) => resolver.resolve({ scheme: 'bearer', value: token });
  const refused = (code: string) => (err: any) => err.code === code;

  it('turns a valid token into an oauth principal', async () => {
    const p = await resolve(await sign());
    assert.equal(p?.method, 'oauth');
    assert.equal(p?.kind, 'customer');
    assert.equal(p?.clientId, 'app');
    assert.deepEqual(p?.scopes, ['read', 'write']);
    const c = await resolve(await sign({ claims: { actor_type: 'client', sub: 'app' } }));
    assert.equal(c?.kind, 'client');
  });

  it('leaves other credentials to other resolvers', async () => {
    assert.equal(await resolve(await sign({ typ: 'JWT' })), undefined);
    assert.equal(await resolver.resolve({ scheme: 'bearer', value: 'sk_abc' }), undefined);
    assert.equal(await resolver.resolve({ scheme: 'basic', value: 'abc' }), undefined);
  });

  it('refuses foreign keys, other audiences and issuers, missing grant ids, expiry, sender-constrained tokens and revoked grants', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await assert.rejects(
      resolve(await sign({ key: { key: privateKey, kid: keystore.signingKey('RS256').kid, alg: 'RS256' } })),
      refused('invalid_token'),
    );
    await assert.rejects(resolve(await sign({ aud: 'https://other.example.com' })), refused('invalid_token'));
    await assert.rejects(resolve(await sign({ iss: 'https://evil.example.com' })), refused('invalid_token'));
    await assert.rejects(resolve(await sign({ claims: { grant_id: undefined } })), refused('invalid_token'));
    await assert.rejects(resolve(await sign({ exp: Math.floor(Date.now() / 1000) - 60 })), refused('token_expired'));
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'cus_1', iss: ISSUER, aud: AUDIENCE, exp: 9e9, iat: 1, jti: 'x', client_id: 'app', grant_id: 'g' }),
    ).toString('base64url');
    await assert.rejects(resolve(`${header}.${body}.`), refused('invalid_token'));
    // Sender-constrained (DPoP cnf.jkt, mTLS cnf.x5t#S256): no proof is checked here, so refused.
    await assert.rejects(resolve(await sign({ claims: { cnf: { jkt: 'bm90LWEtcmVhbC10aHVtYnByaW50' } } })), refused('invalid_token'));
    await assert.rejects(
      resolve(await sign({ claims: { cnf: { 'x5t#S256': 'bm90LWEtcmVhbC10aHVtYnByaW50' } } })),
      refused('invalid_token'),
    );
    const token = await sign({ claims: { grant_id: 'grant-revoked' } });
    assert.ok(await resolve(token));
    await revocations.revokeLineage('grant-revoked');
    await assert.rejects(resolve(token), refused('invalid_token'));
  });
});
