import type { Context, Middleware } from 'koa';
import type { Role } from '../config.ts';
import type { Authenticate } from '../principal/authenticate.ts';
import type { Principal } from '../principal/principal.ts';
import { ForbiddenError, InvalidTokenError } from '../errors.ts';

/**
 * Guards consume the Principal that authenticate() produced; they never look at credentials.
 * Missing credential -> 401; wrong kind of caller, role or scope -> 403. A registration token
 * authenticates no one: 401 unless `allowed` names its kind.
 */
export function requirePrincipal(authenticate: Authenticate, allowed?: Principal['kind'][]): Middleware {
  return async (ctx, next) => {
    const principal = await authenticate(ctx);
    if (!principal) throw new InvalidTokenError('Authentication is required');
    if (principal.kind === 'registration' && !allowed?.includes('registration'))
      throw new InvalidTokenError('A registration token only completes its registration');
    if (allowed && !allowed.includes(principal.kind)) throw new ForbiddenError(`A ${principal.kind} credential cannot be used here`);
    return next();
  };
}

/** The authenticated principal of this request (after a requirePrincipal guard). */
export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal;
  if (!p) throw new InvalidTokenError('Authentication is required');
  return p;
}

/** Back-office roles: admin can do everything; the listed roles may do this. */
export function requireRole(...roles: Role[]): Middleware {
  return async (ctx, next) => {
    const p = principalOf(ctx);
    if (p.role !== 'admin' && !(p.role && roles.includes(p.role))) throw new ForbiddenError();
    return next();
  };
}
