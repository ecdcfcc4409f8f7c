import { auditRequest } from '../../http/audit-request.ts';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ActorType } from '../../accounts/accounts.ts';
import { NotFoundError } from '../../errors.ts';
import { principalOf, requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { GrantOwner } from '../../oauth/grant-administration.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';

const grantSchema = z
  .object({
    id: z.string(),
    client: z.object({ id: z.string(), name: z.string().nullable() }),
    account_id: z.string().nullable(),
    scopes: z.array(z.string()),
    created_at: z.string().nullable(),
    last_refreshed_at: z.string().nullable(),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'AdminOAuthGrant' });
const grantList = z.object({ grants: z.array(grantSchema), count: z.number() });
const deleted = z.object({ id: z.string(), object: z.literal('oauth_grant'), deleted: z.literal(true) });
const SECURITY = ['bearer', 'basic', 'session'] as const;

const ACCOUNTS: { path: 'users' | 'customers'; actorType: ActorType; label: string }[] = [
  { path: 'users', actorType: 'user', label: 'user' },
  { path: 'customers', actorType: 'customer', label: 'customer' },
];

/**
 * OAuth grants an account gave and a client holds (admin only): listing, and withdrawing one, which
 * ends every token of it at once (its JWT access tokens are refused by /v1/auth/verify next request).
 */
export function createAdminGrantsRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  const withdraw = async (ctx: Context, grantId: string, owner: GrantOwner) => {
    const grant = await s.grantAdministration.withdraw(grantId, { actor: principalOf(ctx), request: auditRequest(ctx), owner });
    ctx.body = { id: grant.id, object: 'oauth_grant', deleted: true };
  };

  for (const { path, actorType, label } of ACCOUNTS) {
    const accountOf = async (id: string) => {
      const account = await s.accounts.get(id);
      if (!account || account.actor_type !== actorType) throw new NotFoundError(`The ${label} was not found`);
      return account;
    };

    defineRoute(
      router,
      ops,
      {
        method: 'get',
        path: `/admin/${path}/:id/grants`,
        tags: ['admin'],
        summary: `The OAuth grants a ${label} gave (admin only)`,
        security: [...SECURITY],
        responses: { 200: { description: 'The live grants', schema: grantList }, 403: medusaErr('forbidden'), 404: medusaErr('not_found') },
      },
      requireRole('admin'),
      async (ctx) => {
        const grants = await s.grantAdministration.list({ accountId: (await accountOf(ctx.params.id)).id });
        ctx.body = { grants, count: grants.length };
      },
    );

    defineRoute(
      router,
      ops,
      {
        method: 'delete',
        path: `/admin/${path}/:id/grants/:grant_id`,
        tags: ['admin'],
        summary: `Withdraw a grant a ${label} gave, and every token of it (admin only)`,
        security: [...SECURITY],
        responses: { 200: { description: 'Withdrawn', schema: deleted }, 403: medusaErr('forbidden'), 404: medusaErr('not_found') },
      },
      requireRole('admin'),
      async (ctx) => {
        const account = await accountOf(ctx.params.id);
        await withdraw(ctx, ctx.params.grant_id, { accountId: account.id });
      },
    );
  }

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/oauth-clients/:id/grants',
      tags: ['admin'],
      summary: 'The OAuth grants a client holds (admin only)',
      security: [...SECURITY],
      responses: { 200: { description: 'The live grants', schema: grantList }, 403: medusaErr('forbidden'), 404: medusaErr('not_found') },
    },
    requireRole('admin'),
    async (ctx) => {
      const client = await s.oauthClients.mustGet(ctx.params.id);
      const grants = await s.grantAdministration.list({ clientId: client.client_id });
      ctx.body = { grants, count: grants.length };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/admin/oauth-clients/:id/grants/:grant_id',
      tags: ['admin'],
      summary: 'Withdraw a grant of a client, and every token of it (admin only)',
      security: [...SECURITY],
      responses: { 200: { description: 'Withdrawn', schema: deleted }, 403: medusaErr('forbidden'), 404: medusaErr('not_found') },
    },
    requireRole('admin'),
    async (ctx) => {
      const client = await s.oauthClients.mustGet(ctx.params.id);
      await withdraw(ctx, ctx.params.grant_id, { clientId: client.client_id });
    },
  );
  return router;
}
