import { auditRequest } from '../../http/audit-request.ts';
import Router from '@koa/router';
import { z } from 'zod';
import type { ActorType } from '../../accounts/accounts.ts';
import { NotFoundError } from '../../errors.ts';
import { principalOf, requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';

const signInSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['lineage', 'family', 'session', 'oauth-session']),
    created_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z
      .object({ raw: z.string(), browser: z.string().nullable(), os: z.string().nullable(), device: z.string().nullable() })
      .nullable(),
  })
  .meta({ id: 'AdminSignIn' });

const ACCOUNTS: { path: 'users' | 'customers'; actorType: ActorType; label: string }[] = [
  { path: 'users', actorType: 'user', label: 'user' },
  { path: 'customers', actorType: 'customer', label: 'customer' },
];

/**
 * /admin/{users,customers}/:id/sessions: an account's live sign-ins, and ending one of them (admin
 * only). A sign-in is named by an opaque id that is no credential (never a session id, a token or a
 * family id).
 */
export function createAdminSignInsRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  async function accountOf(id: string, actorType: ActorType, label: string) {
    const account = await s.accounts.get(id);
    if (!account || account.actor_type !== actorType) throw new NotFoundError(`The ${label} was not found`);
    return account;
  }

  for (const { path, actorType, label } of ACCOUNTS) {
    defineRoute(
      router,
      ops,
      {
        method: 'get',
        path: `/admin/${path}/:id/sessions`,
        tags: ['admin'],
        summary: `Every live sign-in of a ${label} (admin only)`,
        description:
          'Kinds: `family` (a /v1 password login and its refresh tokens), `lineage` (Medusa tokens of one login), `session` (a cookie session), `oauth-session` (a session at the OAuth server). "Last used" is updated at most once a minute.',
        security: ['bearer', 'basic', 'session'],
        responses: {
          200: { description: 'The live sign-ins', schema: z.object({ sessions: z.array(signInSchema), count: z.number() }) },
          403: medusaErr('forbidden'),
          404: medusaErr('not_found'),
        },
      },
      requireRole('admin'),
      async (ctx) => {
        const account = await accountOf(ctx.params.id, actorType, label);
        const sessions = await s.signIns.list(account.id);
        ctx.body = { sessions, count: sessions.length };
      },
    );

    defineRoute(
      router,
      ops,
      {
        method: 'delete',
        path: `/admin/${path}/:id/sessions/:session_id`,
        tags: ['admin'],
        summary: `End one sign-in of a ${label} at once (admin only)`,
        security: ['bearer', 'basic', 'session'],
        responses: {
          200: {
            description: 'Ended',
            schema: z.object({ id: z.string(), object: z.literal('session'), deleted: z.literal(true) }),
          },
          403: medusaErr('forbidden'),
          404: medusaErr('not_found'),
        },
      },
      requireRole('admin'),
      async (ctx) => {
        const account = await accountOf(ctx.params.id, actorType, label);
        if (!(await s.signIns.endOne(account.id, ctx.params.session_id))) throw new NotFoundError('The sign-in was not found');
        await s.audit.record(`${label}.sign_in_ended`, {
          actor: principalOf(ctx),
          subject: { type: label, id: account.id },
          request: auditRequest(ctx),
          data: { sign_in_id: ctx.params.session_id },
        });
        ctx.body = { id: ctx.params.session_id, object: 'session', deleted: true };
      },
    );
  }
  return router;
}
