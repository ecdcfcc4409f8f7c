import {
  createLocalJWKSet,
  errors as joseErrors,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

/** Algorithms we sign with and accept. Anything else (none, HS*) is refused at verification. */
export const ALLOWED_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof ALLOWED_ALGS)[number];

const PUBLIC_MEMBERS = ['kty', 'kid', 'use', 'alg', 'crv', 'x', 'y', 'n', 'e'] as const;

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey;
}

export interface Keystore {
  /** The private JWKS as configured (for oidc-provider, which signs with it too). */
  readonly privateJwks: { keys: JWK[] };
  /** Public parts only: what /.well-known/jwks.json serves. */
  readonly publicJwks: { keys: JWK[] };
  /** Key resolver for jose.jwtVerify: picks the key by `kid`, which every token must name. */
  readonly verificationKeys: JWTVerifyGetKey;
  /** The first key of the set signs (rotation: put the new key first, keep the old one after it). */
  signingKey(alg?: SigningAlg): SigningKey;
}

export class KeystoreError extends Error {
  readonly code = 'ERR_KEYSTORE';
}

function inferAlg(jwk: JWK): SigningAlg {
  if (jwk.alg) {
    if (!(ALLOWED_ALGS as readonly string[]).includes(jwk.alg))
      throw new KeystoreError(`key ${jwk.kid}: alg ${jwk.alg} is not supported (use RS256 or ES256)`);
    return jwk.alg as SigningAlg;
  }
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new KeystoreError(`key ${jwk.kid}: only RSA and EC P-256 keys are supported`);
}

/**
 * jose's local JWKS falls back to "the one key of this alg" when a header names no kid; we sign
 * every token with a kid, so a token without one is not ours and is refused before any key is tried.
 */
function byKid(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return (header, token) => {
    if (typeof header.kid !== 'string' || !header.kid) throw new joseErrors.JWKSNoMatchingKey('the token names no kid');
    return keys(header, token);
  };
}

export async function createKeystore(jwks: JSONWebKeySet): Promise<Keystore> {
  const privateKeys = jwks.keys.map((k) => ({ ...k, alg: inferAlg(k), use: k.use ?? 'sig' }) as JWK);
  const kids = new Set<string>();
  for (const k of privateKeys) {
    if (!k.kid) throw new KeystoreError('every key needs a kid');
    if (kids.has(k.kid)) throw new KeystoreError(`duplicate kid ${k.kid}`);
    kids.add(k.kid);
  }
  if (!privateKeys.some((k) => k.alg === 'RS256'))
    throw new KeystoreError('the JWKS needs an RS256 key (OpenID Connect ID tokens require it)');

  const publicKeys = privateKeys.map((k) => {
    const pub: JWK = {};
    for (const m of PUBLIC_MEMBERS) if (k[m] !== undefined) (pub as Record<string, unknown>)[m] = k[m];
    return pub;
  });
  const signers = await Promise.all(
    privateKeys.map(async (k) => ({ kid: k.kid!, alg: k.alg as SigningAlg, key: (await importJWK(k, k.alg)) as CryptoKey })),
  );

  return {
    privateJwks: { keys: privateKeys },
    publicJwks: { keys: publicKeys },
    verificationKeys: byKid(createLocalJWKSet({ keys: publicKeys })),
    signingKey(alg) {
      const found = alg ? signers.find((s) => s.alg === alg) : signers[0];
      if (!found) throw new KeystoreError(`no ${alg} key in the JWKS`);
      return found;
    },
  };
}
