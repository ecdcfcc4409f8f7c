import type { Config } from '../../src/config.ts';
import { generateJwks } from '../../src/tokens/generate-jwks.ts';
import { createKeystore, type Keystore } from '../../src/tokens/keystore.ts';

/** Fixtures for unit tests: domain libraries built from their factories, no server, no Redis. */

export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'portcullis-test';

/** Spelled out here rather than taken from the defaults, so a test says which scopes it expects. */
export const ROLE_SCOPES: Config['roleScopes'] = {
  admin: ['read', 'write', 'admin'],
  developer: ['read', 'write'],
  member: ['read'],
  customer: ['read', 'write'],
};

let jwks: ReturnType<typeof generateJwks> | undefined;
/** A keystore over one freshly generated JWKS per test process (RSA key generation is slow). */
export async function testKeystore(): Promise<Keystore> {
  jwks ??= generateJwks();
  return createKeystore(await jwks);
}

/** A keystore over keys no other keystore shares: what a forger holds. */
export async function strangerKeystore(): Promise<Keystore> {
  return createKeystore(await generateJwks());
}
