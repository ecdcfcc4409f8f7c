import Router from '@koa/router';
import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';

const overviewSchema = z
  .object({
    accounts: z.object({ users: z.number(), customers: z.number() }),
    api_keys: z.object({ active: z.number().describe('Publishable and secret keys not revoked') }),
    oauth_clients: z.number(),
    last_24h: z.object({
      sign_ins: z.number().describe('Successful password logins (audit events)'),
      failed_logins: z.number().describe('Refused password logins, throttled ones included'),
      events_read: z.number(),
      complete: z.boolean().describe('false when more than 10,000 audit events were recorded in the last 24 h: the counts are a floor'),
    }),
    quota_refusals: z.object({
      count: z
        .number()
        .describe('Requests refused with 429 because their quota was spent, on every instance, in the last 24 h (whole hours)'),
      scope: z.literal('all_instances_last_24h'),
    }),
    redis: z.object({
      kind: z.enum(['redis', 'memory']).describe('memory: the embedded development store'),
      status: z.enum(['up', 'down']),
      latency_ms: z.number().nullable().describe('The PING round trip'),
    }),
  })
  .meta({ id: 'AdminOverview' });

/** /admin/overview: the console's first page, for every role (counts only, no names or ids). */
export function createAdminOverviewRouter(s: Services): Router {
  const router = new Router();
  defineRoute(
    router,
    s.operations,
    {
      method: 'get',
      path: '/admin/overview',
      tags: ['admin'],
      summary: 'Counts for the admin console: accounts, active keys, clients, the last 24 h of logins, quota refusals, Redis',
      description:
        'Cost per call: three ZCARDs, every API key record (as the key list), at most 10,000 audit events of the last 24 h, one hash of hourly quota-refusal counts (each instance writes its count at most every 5 s), a PING.',
      security: ['bearer', 'basic', 'session'],
      responses: { 200: { description: 'The overview', schema: z.object({ overview: overviewSchema }) }, 401: medusaErr('Unauthorized') },
    },
    async (ctx) => {
      ctx.body = { overview: await s.overview.get() };
    },
  );
  return router;
}
