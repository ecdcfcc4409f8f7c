import { auditRequest } from '../../http/audit-request.ts';
import Router from '@koa/router';
import { z } from 'zod';
import { principalOf, requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { customerSchema, customerView, medusaErr } from '../medusa-shapes.ts';
import { recordAccountChanges } from '../../audit/account-changes.ts';
import { orderQuery, pageQuery } from './users.ts';

const customerList = z.object({ customers: z.array(customerSchema), count: z.number(), offset: z.number(), limit: z.number() });

/** /admin/customers: admins and developers read; only admins change, disable, sign out or delete. */
export function createAdminCustomersRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const read = requireRole('admin', 'developer');
  const write = requireRole('admin');

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/customers',
      tags: ['admin'],
      summary: 'List customers (admin, developer)',
      description: '`q` searches email and names; `order` is a field, `-` in front for descending (default `-created_at`).',
      security: ['bearer', 'basic', 'session'],
      query: pageQuery.extend({ q: z.string().max(200).optional(), order: orderQuery }),
      responses: { 200: { description: 'A page of customers', schema: customerList }, 403: medusaErr('forbidden') },
    },
    read,
    async (ctx, { query }) => {
      const { accounts, count } = await s.accounts.search('customer', {
        q: query.q,
        order: query.order,
        offset: query.offset,
        limit: query.limit,
      });
      ctx.body = { customers: accounts.map(customerView), count, offset: query.offset, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/customers/:id',
      tags: ['admin'],
      summary: 'A customer (admin, developer)',
      security: ['bearer', 'basic', 'session'],
      query: z.object({ fields: z.string().optional() }),
      responses: {
        200: { description: 'The customer', schema: z.object({ customer: customerSchema }) },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    read,
    async (ctx) => {
      ctx.body = { customer: customerView(await s.accountAdministration.get('customer', ctx.params.id!)) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/customers/:id',
      tags: ['admin'],
      summary: 'Change a customer: names, metadata, disabled (admin only)',
      description: 'Disabling ends every sign-in of the customer; a disabled customer cannot sign in until enabled again.',
      security: ['bearer', 'basic', 'session'],
      body: z.strictObject({
        disabled: z.boolean().optional(),
        first_name: z.string().max(200).nullable().optional(),
        last_name: z.string().max(200).nullable().optional(),
        metadata: z.record(z.string().max(100), z.unknown()).nullable().optional(),
      }),
      responses: {
        200: { description: 'The customer', schema: z.object({ customer: customerSchema }) },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    write,
    async (ctx, { body }) => {
      const { before, after } = await s.accountAdministration.update('customer', ctx.params.id!, body);
      await recordAccountChanges(s.audit, { actor: principalOf(ctx), request: auditRequest(ctx) }, before, after);
      ctx.body = { customer: customerView(after) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/admin/customers/:id',
      tags: ['admin'],
      summary: 'Delete a customer (admin only)',
      description: 'Every sign-in of the customer ends.',
      security: ['bearer', 'basic', 'session'],
      responses: {
        200: { description: 'Deleted', schema: z.object({ id: z.string(), object: z.literal('customer'), deleted: z.literal(true) }) },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    write,
    async (ctx) => {
      const actor = principalOf(ctx);
      const customer = await s.accountAdministration.delete('customer', ctx.params.id!, actor.id);
      await s.audit.record('customer.deleted', { actor, subject: { type: 'customer', id: customer.id }, request: auditRequest(ctx) });
      ctx.body = { id: customer.id, object: 'customer', deleted: true };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/customers/:id/sign-out',
      tags: ['admin'],
      summary: 'End every sign-in of a customer (admin only)',
      security: ['bearer', 'basic', 'session'],
      responses: {
        200: {
          description: 'Signed out',
          schema: z.object({
            id: z.string(),
            object: z.literal('customer'),
            signed_out: z.literal(true),
            sign_ins_ended: z.number().int(),
          }),
        },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    write,
    async (ctx) => {
      const actor = principalOf(ctx);
      const customer = await s.accountAdministration.get('customer', ctx.params.id!);
      const ended = await s.signIns.endAll(customer.id);
      await s.audit.record('customer.signed_out', {
        actor,
        subject: { type: 'customer', id: customer.id },
        request: auditRequest(ctx),
        data: { sign_ins_ended: ended },
      });
      ctx.body = { id: customer.id, object: 'customer', signed_out: true, sign_ins_ended: ended };
    },
  );

  return router;
}
