import type { Middleware } from 'koa';
import { ForbiddenError, InvalidTokenError } from '../../errors.ts';
import type { Authenticate } from '../../principal/authenticate.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Config, Role } from '../../config.ts';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every /admin route except /admin/auth/*: an admin JWT, a session cookie or a secret key.
 * Runs before routing, so an unknown route answers 401 to a bad credential and 404 only to a good
 * one. Missing/invalid -> 401; a customer, OAuth or role-less credential -> 403; members read only.
 */
export function adminGuard(authenticate: Authenticate): Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/admin/auth' || ctx.path.startsWith('/admin/auth/')) return next();
    const p = await authenticate(ctx);
    if (!p || p.kind === 'registration') throw new InvalidTokenError('Authentication is required');
    if ((p.kind !== 'user' && p.kind !== 'api_key') || !p.role)
      throw new ForbiddenError(`A ${p.kind} credential cannot be used on the admin API`);
    if (p.role === 'member' && !READ_METHODS.has(ctx.method))
      throw new ForbiddenError(p.kind === 'api_key' ? 'This API key has read-only access' : 'Members have read-only access');
    return next();
  };
}

/**
 * The scopes a principal may hand on to a secret key it creates: its role's scopes, narrowed by
 * what the credential itself holds (a read-only key cannot mint a read-write key).
 */
export function scopeCeiling(p: Principal, roleScopes: Config['roleScopes']): string[] {
  const role: Role = p.role ?? 'member';
  return roleScopes[role].filter((s) => p.scopes.includes(s));
}
