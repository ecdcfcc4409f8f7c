import { hkdfSync } from 'node:crypto';
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader, type JWK } from 'jose';

/**
 * Private signing keys at rest: each private JWK is a compact JWE (`alg: dir`, `enc: A256GCM`) under
 * the key-encryption key (KEY_ENCRYPTION_KEY), its protected header naming the signing key's kid, so a
 * ciphertext moved onto another key's record fails to open instead of signing under the wrong kid.
 */
export class KeyEncryptionError extends Error {
  readonly code = 'ERR_KEY_ENCRYPTION';
}

const KEK_BYTES = 32;

/** KEY_ENCRYPTION_KEY: 32 bytes as 64 hex digits or base64/base64url (43 characters, optional `=`). */
export function parseKeyEncryptionKey(value: string): Uint8Array {
  const v = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return new Uint8Array(Buffer.from(v, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const bytes = Buffer.from(v.replace(/=$/, ''), 'base64url');
    if (bytes.length === KEK_BYTES) return new Uint8Array(bytes);
  }
  throw new KeyEncryptionError('expected 32 bytes as 64 hex digits or 43 base64url characters');
}

/**
 * Outside production, without KEY_ENCRYPTION_KEY: a key derived from the development cookie secret,
 * which the server and the CLI already share, so both open the keys they stored.
 */
export function developmentKeyEncryptionKey(cookieSecret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', cookieSecret, 'portcullis', 'signing-key encryption (development only)', KEK_BYTES));
}

export async function encryptPrivateJwk(jwk: JWK, kek: Uint8Array): Promise<string> {
  if (!jwk.kid) throw new KeyEncryptionError('the key has no kid');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: jwk.kid, cty: 'jwk+json' })
    .encrypt(kek);
}

export async function decryptPrivateJwk(jwe: string, kid: string, kek: Uint8Array): Promise<JWK> {
  let jwk: JWK;
  try {
    if (decodeProtectedHeader(jwe).kid !== kid) throw new Error('kid mismatch');
    const { plaintext } = await compactDecrypt(jwe, kek, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    jwk = JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
  } catch {
    throw new KeyEncryptionError(`signing key ${kid}: cannot decrypt its private part (is KEY_ENCRYPTION_KEY the one it was stored with?)`);
  }
  if (jwk.kid !== kid) throw new KeyEncryptionError(`signing key ${kid}: the stored private part belongs to another key`);
  return jwk;
}
