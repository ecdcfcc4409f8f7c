import Router, { type RouterMiddleware } from '@koa/router';
import { z } from 'zod';
import { InvalidCredentialsError, InvalidTokenError } from '../../http/errors.ts';
import { validate } from '../../http/validate.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';

export const loginBody = z.strictObject({
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  actor_type: z.enum(['user', 'customer']).default('user'),
});
export const refreshBody = z.strictObject({ refresh_token: z.string().min(1).max(512) });

/** What /v1/auth/verify answers for a Principal. */
export function verifyResponse(p: Principal) {
  return {
    authenticated: true as const,
    user_id: p.id,
    actor_type: p.actorType,
    scopes: p.scopes,
    expires_at: p.expiresAt ? p.expiresAt.toISOString() : null,
    auth_method: p.method,
    ...(p.clientId ? { client_id: p.clientId } : {}),
    ...(p.keyId ? { key_id: p.keyId } : {}),
  };
}

/** The generic /v1 API: login, refresh, logout, verify. */
export function createV1AuthRouter(s: Services): Router {
  const router = new Router();

  router.post('/auth/login', async (ctx) => {
    const body = validate(loginBody, ctx.request.body);
    const account = await s.accounts.authenticate(body.actor_type, body.username, body.password);
    if (!account) throw new InvalidCredentialsError();
    const scope = s.config.roleScopes[account.actor_type === 'user' ? (account.role ?? 'member') : 'customer'];
    ctx.body = await s.refreshFamilies.start({
      sub: account.id,
      actorType: account.actor_type,
      scope,
      accessTtl: s.config.ttl.access,
      extra: account.role ? { role: account.role } : undefined,
    });
  });

  router.post('/auth/refresh', async (ctx) => {
    const body = validate(refreshBody, ctx.request.body);
    ctx.body = await s.refreshFamilies.rotate(body.refresh_token);
  });

  router.post('/auth/logout', async (ctx) => {
    const principal = await s.authenticate(ctx);
    if (!principal) throw new InvalidTokenError('A Bearer token is required');
    if (principal.method !== 'jwt' || !principal.sid) throw new InvalidTokenError('Only first-party tokens can be logged out here');
    await s.refreshFamilies.revokeFamily(principal.sid);
    ctx.status = 204;
  });

  const verify: RouterMiddleware = async (ctx) => {
    const principal = await s.authenticate(ctx);
    if (!principal) throw new InvalidTokenError('A Bearer token is required');
    ctx.body = verifyResponse(principal);
  };
  router.get('/auth/verify', verify);
  router.post('/auth/verify', verify);

  return router;
}
