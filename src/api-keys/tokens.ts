import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type ApiKeyType = 'publishable' | 'secret';

const PREFIX: Record<ApiKeyType, string> = { publishable: 'pk_', secret: 'sk_' };
/** `pk_`/`sk_` + 32 random bytes as hex: what we issue, and all we ever look up. */
export const TOKEN_FORMAT = /^(pk|sk)_[0-9a-f]{64}$/;

export function generateToken(type: ApiKeyType): string {
  return PREFIX[type] + randomBytes(32).toString('hex');
}

export function typeOfToken(token: string): ApiKeyType | null {
  if (!TOKEN_FORMAT.test(token)) return null;
  return token.startsWith('sk_') ? 'secret' : 'publishable';
}

/**
 * The keyed hash (HMAC-SHA-256 with the server pepper) that names a key in the store. Without
 * the pepper a stolen database cannot be searched for a guessed token, and the lookup itself
 * is by hash, so response timing says nothing about the token's characters.
 */
export function tokenHash(pepper: string, token: string): string {
  return createHmac('sha256', pepper).update(token).digest('hex');
}

/** Constant-time equality of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Medusa's redacted form: first 6 characters, `***`, last 3 (`sk_ab1***9fz`). */
export function redact(token: string): string {
  return `${token.slice(0, 6)}***${token.slice(-3)}`;
}

/** "100/h", "10/s", "5000/d" -> {limit, periodMs}; null when malformed. */
export function parseRateLimit(value: string): { limit: number; periodMs: number } | null {
  const m = /^(\d{1,9})\/(s|m|h|d)$/.exec(value);
  if (!m || Number(m[1]) < 1) return null;
  return { limit: Number(m[1]), periodMs: { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's'] };
}
