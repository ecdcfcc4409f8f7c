import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningAlg } from './keystore.ts';

/** A new private JWK for `alg`, its kid the key's thumbprint. */
export async function generatePrivateJwk(alg: SigningAlg): Promise<JWK> {
  const { privateKey } =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { extractable: true, crv: 'Ed25519' })
      : await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.alg = alg;
  jwk.use = 'sig';
  jwk.kid = await calculateJwkThumbprint(jwk);
  return jwk;
}

/** A private JWKS with one RS256 key (OIDC ID tokens need it) and one ES256 key. */
export async function generateJwks(): Promise<{ keys: JWK[] }> {
  return { keys: [await generatePrivateJwk('RS256'), await generatePrivateJwk('ES256')] };
}
