import {
  createLocalJWKSet,
  errors as joseErrors,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

/**
 * Algorithms we sign with and accept (EdDSA = Ed25519). Anything else (none, HS*) is refused at
 * verification; oidc-provider's enabledJWA lists the same, so discovery never offers another.
 */
export const ALLOWED_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
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
  /** The first signing key of the set (of `alg`, when given) signs. */
  signingKey(alg?: SigningAlg): SigningKey;
  /** Whether tokens naming this kid may still verify (an in-memory lookup: revoked keys are gone at once). */
  hasKey(kid: string): boolean;
}

export class KeystoreError extends Error {
  readonly code = 'ERR_KEYSTORE';
}

function inferAlg(jwk: JWK): SigningAlg {
  if (jwk.alg) {
    if (!(ALLOWED_ALGS as readonly string[]).includes(jwk.alg))
      throw new KeystoreError(`key ${jwk.kid}: alg ${jwk.alg} is not supported (use RS256, ES256 or EdDSA)`);
    return jwk.alg as SigningAlg;
  }
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new KeystoreError(`key ${jwk.kid}: only RSA, EC P-256 and Ed25519 keys are supported`);
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

/** The public members of a private JWK: what a JWKS publishes. */
export function publicJwkOf(k: JWK): JWK {
  const pub: JWK = {};
  for (const m of PUBLIC_MEMBERS) if (k[m] !== undefined) (pub as Record<string, unknown>)[m] = k[m];
  return pub;
}

/**
 * A keystore over one JWKS. `signers` (kids) limits which keys may sign: keys published ahead of
 * their turn (a rotation's next key) and keys kept only to verify are in the set but never sign.
 */
export async function createKeystore(jwks: JSONWebKeySet, opts: { signers?: readonly string[] } = {}): Promise<Keystore> {
  const privateKeys = jwks.keys.map((k) => ({ ...k, alg: inferAlg(k), use: k.use ?? 'sig' }) as JWK);
  const kids = new Set<string>();
  for (const k of privateKeys) {
    if (!k.kid) throw new KeystoreError('every key needs a kid');
    if (kids.has(k.kid)) throw new KeystoreError(`duplicate kid ${k.kid}`);
    kids.add(k.kid);
  }
  if (!privateKeys.some((k) => k.alg === 'RS256'))
    throw new KeystoreError('the JWKS needs an RS256 key (OpenID Connect ID tokens require it)');

  const publicKeys = privateKeys.map(publicJwkOf);
  const maySign = opts.signers ? new Set(opts.signers) : undefined;
  const signers = await Promise.all(
    privateKeys
      .filter((k) => !maySign || maySign.has(k.kid!))
      .map(async (k) => ({ kid: k.kid!, alg: k.alg as SigningAlg, key: (await importJWK(k, k.alg)) as CryptoKey })),
  );

  return {
    privateJwks: { keys: privateKeys },
    publicJwks: { keys: publicKeys },
    verificationKeys: byKid(createLocalJWKSet({ keys: publicKeys })),
    signingKey(alg) {
      const found = alg ? signers.find((s) => s.alg === alg) : signers[0];
      if (!found) throw new KeystoreError(alg ? `no ${alg} signing key in the JWKS` : 'no signing key in the JWKS');
      return found;
    },
    hasKey: (kid) => kids.has(kid),
  };
}

/**
 * A keystore whose keys change while the process runs (rotation, revocation): every reader asks it
 * at the moment of use, so a swap is seen by the next signature or verification, and listeners
 * (oidc-provider's rebuild) hear of each one.
 */
export interface LiveKeystore extends Keystore {
  replace(next: Keystore): void;
  onChange(listener: (keystore: Keystore) => void): void;
}

export function createLiveKeystore(initial: Keystore): LiveKeystore {
  let current = initial;
  const listeners: ((keystore: Keystore) => void)[] = [];
  return {
    get privateJwks() {
      return current.privateJwks;
    },
    get publicJwks() {
      return current.publicJwks;
    },
    verificationKeys: (header, token) => current.verificationKeys(header, token),
    signingKey: (alg) => current.signingKey(alg),
    hasKey: (kid) => current.hasKey(kid),
    replace(next) {
      current = next;
      for (const listener of listeners) listener(next);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
