import type { Context } from 'koa';
import { InvalidTokenError } from '../errors.ts';
import type { Credential } from './principal.ts';

/**
 * The credential a request carries: `Authorization: Bearer x` or `Basic x` (case-insensitive
 * scheme, exactly one space, as the Medusa document requires), else a session cookie if the
 * surface uses one. A malformed Authorization header is an invalid token, not "no credential".
 */
export function readCredential(ctx: Context, sessionCookie?: string): Credential | null {
  const header = ctx.get('authorization');
  if (header) {
    const m = /^(Bearer|Basic) ([^\s]+)$/i.exec(header);
    if (!m) throw new InvalidTokenError('The Authorization header must be "Bearer <token>" or "Basic <credentials>"');
    return { scheme: m[1]!.toLowerCase() as 'bearer' | 'basic', value: m[2]! };
  }
  if (sessionCookie) {
    const value = ctx.cookies.get(sessionCookie, { signed: true });
    if (value) return { scheme: 'session', value };
  }
  return null;
}
