import Router from '@koa/router';
import { z } from 'zod';
import { NotFoundError } from '../../errors.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { principalOf, requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';
import { pageQuery } from './users.ts';

const channelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    is_disabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.null(),
  })
  .meta({ id: 'SalesChannel', description: 'What publishable keys link to' });
const SECURITY = ['bearer', 'basic', 'session'];

/** A minimal /admin/sales-channels: what publishable keys link to. Creating one is for admins. */
export function createAdminSalesChannelsRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/sales-channels',
      tags: ['admin'],
      summary: 'List sales channels',
      security: SECURITY,
      query: pageQuery,
      responses: {
        200: {
          description: 'A page',
          schema: z.object({ sales_channels: z.array(channelSchema), count: z.number(), offset: z.number(), limit: z.number() }),
        },
      },
    },
    async (ctx, { query }) => {
      const page = await s.salesChannels.list({ offset: query.offset, limit: query.limit });
      ctx.body = { ...page, offset: query.offset, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/sales-channels',
      tags: ['admin'],
      summary: 'Create a sales channel (admin only)',
      security: SECURITY,
      body: z.strictObject({
        name: z.string().trim().min(1).max(255),
        description: z.string().max(2000).nullable().optional(),
        is_disabled: z.boolean().optional(),
      }),
      responses: { 200: { description: 'The channel', schema: z.object({ sales_channel: channelSchema }) }, 403: medusaErr('forbidden') },
    },
    requireRole('admin'),
    async (ctx, { body }) => {
      const channel = await s.salesChannels.create(body);
      await s.audit.record('sales_channel.created', {
        actor: principalOf(ctx),
        subject: { type: 'sales_channel', id: channel.id },
        request: auditRequest(ctx),
        data: { name: channel.name },
      });
      ctx.body = { sales_channel: channel };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/sales-channels/:id',
      tags: ['admin'],
      summary: 'One sales channel',
      security: SECURITY,
      query: z.object({ fields: z.string().optional() }),
      responses: { 200: { description: 'The channel', schema: z.object({ sales_channel: channelSchema }) }, 404: medusaErr('not_found') },
    },
    async (ctx) => {
      const channel = await s.salesChannels.get(ctx.params.id);
      if (!channel) throw new NotFoundError(`Sales channel with id: ${ctx.params.id} was not found`);
      ctx.body = { sales_channel: channel };
    },
  );
  return router;
}
