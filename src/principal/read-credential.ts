import type { Context } from 'koa';
import { InvalidTokenError } from '../errors.ts';
import type { Credential } from './principal.ts';

const AUTHORIZATION = /^(Bearer|Basic) ([^\s]+)$/i;

/**
 * The credential a request carries: `Authorization: Bearer x` or `Basic x` (case-insensitive
 * scheme, exactly one space, as the Medusa document requires), else a session cookie if the
 * surface uses one. A malformed Authorization header is an invalid token, not "no credential".
 */
export function readCredential(ctx: Context, sessionCookie?: string): Credential | null {
  const header = ctx.get('authorization');
  if (header) {
    const m = AUTHORIZATION.exec(header);
    if (!m) throw new InvalidTokenError('The Authorization header must be "Bearer <token>" or "Basic <credentials>"');
    return { scheme: m[1]!.toLowerCase() as 'bearer' | 'basic', value: m[2]! };
  }
  if (sessionCookie) {
    const value = ctx.cookies.get(sessionCookie, { signed: true });
    if (value) return { scheme: 'session', value };
  }
  return null;
}

/** The token of a well-formed `Authorization: Bearer` header; undefined for no header, another scheme or a malformed one. */
export function readBearer(ctx: Context): string | undefined {
  const m = AUTHORIZATION.exec(ctx.get('authorization'));
  return m?.[1]!.toLowerCase() === 'bearer' ? m[2] : undefined;
}
