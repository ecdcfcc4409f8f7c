import Router from '@koa/router';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../accounts/password-policy.ts';
import { InvalidTokenError, NotFoundError } from '../../errors.ts';
import { principalOf, requirePrincipal, requireRole } from '../../http/guards.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { recordAccountChanges } from '../../audit/account-changes.ts';
import { medusaErr, userSchema, userView } from '../medusa-shapes.ts';

const roleSchema = z.enum(['admin', 'member', 'developer']);
/** `true`/`false` in a query string (z.coerce.boolean would read "false" as true). */
export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
/** `email`, `-created_at`, ...: a field of the account, `-` for descending. */
export const orderQuery = z
  .enum(['created_at', '-created_at', 'updated_at', '-updated_at', 'email', '-email'])
  .default('-created_at')
  .transform((v) => ({ field: v.replace(/^-/, '') as 'created_at' | 'updated_at' | 'email', desc: v.startsWith('-') }));
const userNotFound = (id: string) => new NotFoundError(`User with id: ${id} was not found`);

export const pageQuery = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  fields: z.string().optional(),
});

/** /admin/users: who am I (any admin credential), list and create (admin only). */
export function createAdminUsersRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/users/me',
      tags: ['admin'],
      summary: 'The logged-in user (for a secret key: its creator)',
      security: ['bearer', 'basic', 'session'],
      query: z.object({ fields: z.string().optional() }),
      responses: { 200: { description: 'The user', schema: z.object({ user: userSchema }) }, 401: medusaErr('Unauthorized') },
    },
    async (ctx) => {
      const account = await s.accounts.get(principalOf(ctx).id);
      if (!account || account.actor_type !== 'user') throw new InvalidTokenError();
      ctx.body = { user: userView(account) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/users',
      tags: ['admin'],
      summary: 'List back-office users (admin only)',
      description: '`q` searches email and names; `order` is a field, `-` in front for descending (default `-created_at`).',
      security: ['bearer', 'basic', 'session'],
      query: pageQuery.extend({
        q: z.string().max(200).optional(),
        role: roleSchema.optional(),
        disabled: booleanQuery.optional(),
        order: orderQuery,
      }),
      responses: {
        200: {
          description: 'A page of users',
          schema: z.object({ users: z.array(userSchema), count: z.number(), offset: z.number(), limit: z.number() }),
        },
        403: medusaErr('forbidden'),
      },
    },
    requireRole('admin'),
    async (ctx, { query }) => {
      const { accounts, count } = await s.accounts.search('user', {
        q: query.q,
        role: query.role,
        disabled: query.disabled,
        order: query.order,
        offset: query.offset,
        limit: query.limit,
      });
      ctx.body = { users: accounts.map(userView), count, offset: query.offset, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/users',
      tags: ['admin'],
      summary: 'Create a back-office user (admin only)',
      security: ['bearer', 'basic', 'session'],
      body: z.strictObject({
        email: z.email().max(320),
        // Length and content are the password policy's (accounts.create), with its messages.
        password: z.string().max(4 * PASSWORD_MAX_LENGTH),
        first_name: z.string().max(200).nullable().optional(),
        last_name: z.string().max(200).nullable().optional(),
        role: z.enum(['admin', 'member', 'developer']).default('member'),
      }),
      responses: {
        200: { description: 'The user', schema: z.object({ user: userSchema }) },
        400: medusaErr('invalid_data (names the password rule that failed)'),
        403: medusaErr('forbidden (also for an API key)'),
        409: medusaErr('duplicate_error'),
      },
    },
    // A password is a credential: a signed-in admin sets it, never an API key (it would outlive the key).
    requirePrincipal(s.authenticate, ['user']),
    requireRole('admin'),
    async (ctx, { body }) => {
      const user = await s.accounts.create({
        actorType: 'user',
        email: body.email,
        password: body.password,
        firstName: body.first_name,
        lastName: body.last_name,
        role: body.role,
      });
      await s.audit.record('user.created', {
        actor: principalOf(ctx),
        subject: { type: 'user', id: user.id },
        request: auditRequest(ctx),
        data: { role: user.role ?? 'member', via: 'admin_api' },
      });
      ctx.body = { user: userView(user) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/users/:id',
      tags: ['admin'],
      summary: 'A back-office user (admin only)',
      security: ['bearer', 'basic', 'session'],
      query: z.object({ fields: z.string().optional() }),
      responses: {
        200: { description: 'The user', schema: z.object({ user: userSchema }) },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      ctx.body = { user: userView(await s.accountAdministration.get('user', ctx.params.id!)) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/users/:id',
      tags: ['admin'],
      summary: 'Change a user: role, disabled, names, metadata (admin only)',
      description:
        'Disabling ends every sign-in of the user and suspends its API keys at once (enabling restores them). A new role reaches the next token refresh, session use and API-key use. The last active admin cannot be demoted or disabled (400 `not_allowed`).',
      security: ['bearer', 'basic', 'session'],
      body: z.strictObject({
        role: roleSchema.optional(),
        disabled: z.boolean().optional(),
        first_name: z.string().max(200).nullable().optional(),
        last_name: z.string().max(200).nullable().optional(),
        metadata: z.record(z.string().max(100), z.unknown()).nullable().optional(),
      }),
      responses: {
        200: { description: 'The user', schema: z.object({ user: userSchema }) },
        400: medusaErr('invalid_data, or not_allowed for the last admin'),
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    requireRole('admin'),
    async (ctx, { body }) => {
      const { before, after } = await s.accountAdministration.update('user', ctx.params.id!, body);
      await recordAccountChanges(s.audit, { actor: principalOf(ctx), request: auditRequest(ctx) }, before, after);
      ctx.body = { user: userView(after) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/admin/users/:id',
      tags: ['admin'],
      summary: 'Delete a user (admin only)',
      description:
        'Every sign-in of the user ends and its API keys are revoked. The last active admin cannot be deleted (400 `not_allowed`).',
      security: ['bearer', 'basic', 'session'],
      responses: {
        200: {
          description: 'Deleted',
          schema: z.object({ id: z.string(), object: z.literal('user'), deleted: z.literal(true) }),
        },
        400: medusaErr('not_allowed for the last admin'),
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      const actor = principalOf(ctx);
      const user = await s.accountAdministration.delete('user', ctx.params.id!, actor.id);
      await s.audit.record('user.deleted', { actor, subject: { type: 'user', id: user.id }, request: auditRequest(ctx) });
      ctx.body = { id: user.id, object: 'user', deleted: true };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/users/:id/sign-out',
      tags: ['admin'],
      summary: 'End every sign-in of a user (admin only)',
      description:
        'For a compromised account: tokens, refresh tokens, cookie sessions and the OAuth server session end. API keys and OAuth grants kept past the sign-in (offline_access) stay: revoke them separately.',
      security: ['bearer', 'basic', 'session'],
      responses: {
        200: {
          description: 'Signed out',
          schema: z.object({ id: z.string(), object: z.literal('user'), signed_out: z.literal(true), sign_ins_ended: z.number().int() }),
        },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      const { id } = ctx.params;
      const account = await s.accounts.get(id!);
      if (!account || account.actor_type !== 'user') throw userNotFound(id!);
      const ended = await s.signIns.endAll(account.id);
      await s.audit.record('user.signed_out', {
        actor: principalOf(ctx),
        subject: { type: 'user', id: account.id },
        request: auditRequest(ctx),
        data: { sign_ins_ended: ended },
      });
      ctx.body = { id: account.id, object: 'user', signed_out: true, sign_ins_ended: ended };
    },
  );

  return router;
}
