import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';

async function privateJwk(alg: 'RS256' | 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.alg = alg;
  jwk.use = 'sig';
  jwk.kid = await calculateJwkThumbprint(jwk);
  return jwk;
}

/** A private JWKS with one RS256 key (OIDC ID tokens need it) and one ES256 key. */
export async function generateJwks(): Promise<{ keys: JWK[] }> {
  return { keys: [await privateJwk('RS256'), await privateJwk('ES256')] };
}
