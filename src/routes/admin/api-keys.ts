import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ApiKeyRecord, ListFilters } from '../../api-keys/api-keys.ts';
import { parseRateLimit } from '../../api-keys/tokens.ts';
import { apiKeyViews } from '../../api-keys/view.ts';
import { ForbiddenError, InvalidRequestError } from '../../errors.ts';
import { principalOf, requirePrincipal, requireRole } from '../../http/guards.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';
import { scopeCeiling } from './guard.ts';

const apiKeySchema = z
  .object({
    id: z.string().meta({ examples: ['apk_01JD3X9Q5T6V7W8X9Y0Z1A2B3C'] }),
    title: z.string().meta({ examples: ['Storefront'] }),
    token: z.string().describe('The clear token: publishable keys always; secret keys only in the create/roll response, "" afterwards'),
    redacted: z
      .string()
      .describe('Enough of the token to recognise it')
      .meta({ examples: ['sk_4f2a…b91c'] }),
    type: z
      .enum(['publishable', 'secret'])
      .describe('publishable (pk_): names a storefront, is no credential; secret (sk_): a credential for server code'),
    scopes: z.array(z.string()).nullable().describe("A secret key's scopes (null for publishable keys)"),
    sales_channels: z.array(z.object({ id: z.string(), name: z.string() })),
    expires_at: z.string().nullable(),
    rate_limit: z.string().nullable().describe('The key\'s own quota, e.g. "100/h" (null: RATE_LIMIT_API_KEY)'),
    last_used_at: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
    deleted_at: z.null(),
  })
  .meta({ id: 'ApiKey', description: 'A publishable or secret API key' });
const one = z.object({ api_key: apiKeySchema });
const SECURITY = ['bearer', 'basic', 'session'];
const revokeIn = z
  .number()
  .int()
  .min(0)
  .max(366 * 86_400)
  .optional()
  .describe('Seconds the key keeps working (0, the default: now)');
const rateLimit = z.string().refine((v) => parseRateLimit(v) !== null, 'expected "<count>/<s|m|h|d>", e.g. "100/h"');

const createBody = z.strictObject({
  title: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .meta({ examples: ['CI deploys'] }),
  type: z.enum(['publishable', 'secret']).default('publishable'),
  scopes: z
    .array(z.string().regex(/^[\w:.-]{1,64}$/))
    .max(50)
    .optional()
    .describe("Secret keys only; no wider than the creator's (default: all of them)")
    .meta({ examples: [['read']] }),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional().describe('When the key stops working (null: never)'),
  rate_limit: rateLimit
    .nullable()
    .optional()
    .describe('"<count>/<s|m|h|d>"')
    .meta({ examples: ['100/h'] }),
});

const ORDER_FIELDS = ['created_at', 'updated_at', 'title', 'revoked_at', 'last_used_at'] as const;
const listQuery = z.looseObject({
  q: z.string().max(200).optional(),
  id: z.union([z.string(), z.array(z.string())]).optional(),
  title: z.string().optional(),
  type: z.union([z.enum(['publishable', 'secret']), z.array(z.enum(['publishable', 'secret']))]).optional(),
  revoked: z.enum(['true', 'false']).optional(),
  created_by: z.string().optional(),
  order: z
    .string()
    .regex(new RegExp(`^-?(${ORDER_FIELDS.join('|')})$`), `one of ${ORDER_FIELDS.join(', ')}, optionally prefixed with "-"`)
    .default('-created_at'),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  fields: z.string().optional(),
});

const arrayOf = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : v.split(','));

/** `revoked_at[$ne]=`, `revoked_at[$gt]=2025-01-01` ... ("" or "null" meaning null), as Medusa's filters read. */
function revokedAtFilters(ctx: Context): ListFilters['revokedAt'] {
  const out: NonNullable<ListFilters['revokedAt']> = [];
  for (const [name, raw] of Object.entries(ctx.query)) {
    const m = /^revoked_at\[(\$eq|\$ne|\$gt|\$gte|\$lt|\$lte)\]$/.exec(name);
    if (!m) {
      if (name.startsWith('revoked_at')) throw new InvalidRequestError(`Unsupported filter: ${name}`);
      continue;
    }
    const value = Array.isArray(raw) ? raw[0]! : (raw ?? '');
    if (value !== '' && value !== 'null' && Number.isNaN(Date.parse(value)))
      throw new InvalidRequestError(`${name}: expected a date or null`);
    out.push({ op: m[1] as '$eq', value: value === '' || value === 'null' ? null : value });
  }
  return out.length ? out : undefined;
}

/** /admin/api-keys: Medusa's API key routes, plus roll, scopes, expiry and rate limits. */
export function createAdminApiKeysRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const manage = requireRole('developer');
  // A new key is minted by a signed-in user only: one minted by a key would outlive that key's
  // expiry, quota and revocation (a leaked key would survive its revoke through its children).
  const mintedByUser = requirePrincipal(s.authenticate, ['user']);

  const view = (records: ApiKeyRecord[], clearTokens?: Map<string, string>) => apiKeyViews(s, records, clearTokens);
  const viewOne = async (k: ApiKeyRecord, token?: string) => (await view([k], token ? new Map([[k.id, token]]) : undefined))[0]!;

  /** Who changed which key (never its token). */
  const audit = (event: string, ctx: Context, actor: Principal, key: ApiKeyRecord, data?: Record<string, string>) =>
    s.audit.record(event, {
      actor,
      subject: { type: 'api_key', id: key.id },
      request: auditRequest(ctx),
      data: { key_type: key.type, ...data },
    });

  function checkScopes(p: Principal, scopes: string[]) {
    const ceiling = scopeCeiling(p, s.config.roleScopes);
    const beyond = scopes.filter((sc) => !ceiling.includes(sc));
    if (beyond.length) throw new ForbiddenError(`A key cannot hold scopes its creator does not have: ${beyond.join(' ')}`);
  }

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/api-keys',
      tags: ['admin', 'api-keys'],
      summary: 'List API keys',
      description:
        'Filters: `q` (title), `id`, `title`, `type`, `revoked` or `revoked_at[$eq|$ne|$gt|$gte|$lt|$lte]` (a date, or empty for null), `created_by`; `order` (a field, `-` for descending), `offset`, `limit`.',
      security: SECURITY,
      query: listQuery,
      responses: {
        200: {
          description: 'A page of keys',
          schema: z.object({ api_keys: z.array(apiKeySchema), count: z.number(), offset: z.number(), limit: z.number() }),
        },
        400: medusaErr('invalid_data'),
      },
    },
    async (ctx, { query }) => {
      const desc = query.order.startsWith('-');
      const result = await s.apiKeys.list({
        q: query.q,
        ids: arrayOf(query.id),
        title: query.title,
        types: arrayOf(query.type) as ListFilters['types'],
        revoked: query.revoked === undefined ? undefined : query.revoked === 'true',
        revokedAt: revokedAtFilters(ctx),
        createdBy: query.created_by,
        order: { field: query.order.replace(/^-/, '') as ListFilters['order']['field'], desc },
        offset: query.offset,
        limit: query.limit,
      });
      ctx.body = { api_keys: await view(result.keys), count: result.count, offset: query.offset, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/api-keys',
      tags: ['admin', 'api-keys'],
      summary: 'Create a key',
      description:
        "Type defaults to publishable. A secret key's token is in this response only (it is stored hashed); its scopes are no wider than its creator's. Developers and admins only.",
      security: SECURITY,
      body: createBody,
      responses: {
        200: { description: 'The key with its clear token', schema: one },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden (also for an API key: keys are created by signed-in users)'),
      },
    },
    mintedByUser,
    manage,
    async (ctx, { body }) => {
      const p = principalOf(ctx);
      if (body.type === 'publishable' && body.scopes) throw new InvalidRequestError('scopes: only secret keys carry scopes');
      if (body.expires_at && Date.parse(body.expires_at) <= Date.now()) throw new InvalidRequestError('expires_at: must be in the future');
      const scopes = body.type === 'secret' ? (body.scopes ?? scopeCeiling(p, s.config.roleScopes)) : null;
      if (scopes) checkScopes(p, scopes);
      const { key, token } = await s.apiKeys.create({
        type: body.type,
        title: body.title,
        createdBy: p.id,
        scopes,
        expiresAt: body.expires_at ? new Date(body.expires_at).toISOString() : null,
        rateLimit: body.rate_limit ?? null,
      });
      await audit('api_key.created', ctx, p, key);
      ctx.body = { api_key: await viewOne(key, token) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/api-keys/:id',
      tags: ['admin', 'api-keys'],
      summary: 'One API key',
      security: SECURITY,
      query: z.object({ fields: z.string().optional() }),
      responses: { 200: { description: 'The key', schema: one }, 404: medusaErr('API Key with id: X was not found') },
    },
    async (ctx) => {
      ctx.body = { api_key: await viewOne(await s.apiKeys.mustGet(ctx.params.id)) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/api-keys/:id',
      tags: ['admin', 'api-keys'],
      summary: 'Rename a key',
      security: SECURITY,
      body: z.strictObject({ title: z.string().trim().min(1).max(255) }),
      responses: { 200: { description: 'The key', schema: one }, 404: medusaErr('not_found') },
    },
    manage,
    async (ctx, { body }) => {
      const key = await s.apiKeys.updateTitle(ctx.params.id, body.title);
      await audit('api_key.updated', ctx, principalOf(ctx), key);
      ctx.body = { api_key: await viewOne(key) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/api-keys/:id/revoke',
      tags: ['admin', 'api-keys'],
      summary: 'Revoke a key',
      description: 'Now, or in `revoke_in` seconds (it works until then, for a rollout). An empty body is `{}`.',
      security: SECURITY,
      body: z.strictObject({ revoke_in: revokeIn }),
      responses: {
        200: { description: 'The key', schema: one },
        400: medusaErr('already revoked (invalid_data)'),
        404: medusaErr('not_found'),
      },
    },
    manage,
    async (ctx, { body }) => {
      const p = principalOf(ctx);
      const key = await s.apiKeys.revoke(ctx.params.id, p.id, body.revoke_in ?? 0);
      await audit('api_key.revoked', ctx, p, key, { revoked_at: key.revoked_at! });
      ctx.body = { api_key: await viewOne(key) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/api-keys/:id/roll',
      tags: ['admin', 'api-keys'],
      summary: 'Replace a key with a new token',
      description:
        'The new key has the same title, type, scopes and sales channels; its token is in this response only. The old key is revoked now, or after `revoke_in` seconds.',
      security: SECURITY,
      body: z.strictObject({ revoke_in: revokeIn }),
      responses: {
        200: { description: 'The new key with its clear token', schema: one },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden (also for an API key)'),
        404: medusaErr('not_found'),
      },
    },
    mintedByUser,
    manage,
    async (ctx, { body }) => {
      const p = principalOf(ctx);
      const old = await s.apiKeys.mustGet(ctx.params.id);
      if (old.scopes) checkScopes(p, old.scopes);
      const { key, token, previous } = await s.apiKeys.roll(old.id, p.id, body.revoke_in ?? 0);
      await audit('api_key.revoked', ctx, p, previous, { revoked_at: previous.revoked_at!, replaced_by: key.id });
      await audit('api_key.created', ctx, p, key, { replaces: previous.id });
      ctx.body = { api_key: await viewOne(key, token) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/admin/api-keys/:id',
      tags: ['admin', 'api-keys'],
      summary: 'Delete a revoked key',
      security: SECURITY,
      responses: {
        200: { description: 'Deleted', schema: z.object({ id: z.string(), object: z.literal('api_key'), deleted: z.literal(true) }) },
        400: medusaErr('not_allowed: Cannot delete api keys that are not revoked'),
        404: medusaErr('not_found'),
      },
    },
    manage,
    async (ctx) => {
      const key = await s.apiKeys.mustGet(ctx.params.id);
      await s.apiKeys.delete(key.id);
      await audit('api_key.deleted', ctx, principalOf(ctx), key);
      ctx.body = { id: key.id, object: 'api_key', deleted: true };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/api-keys/:id/sales-channels',
      tags: ['admin', 'api-keys'],
      summary: 'Link (add) and unlink (remove) sales channels of a publishable key',
      security: SECURITY,
      body: z.strictObject({
        add: z.array(z.string().max(100)).max(500).optional(),
        remove: z.array(z.string().max(100)).max(500).optional(),
      }),
      responses: { 200: { description: 'The key', schema: one }, 400: medusaErr('invalid_data'), 404: medusaErr('not_found') },
    },
    manage,
    async (ctx, { body }) => {
      const key = await s.apiKeys.mustGet(ctx.params.id);
      if (key.type !== 'publishable') throw new InvalidRequestError('Sales channels can only be associated with publishable API keys');
      const { missing } = await s.salesChannels.resolve(body.add ?? []);
      if (missing.length) throw new InvalidRequestError(`Sales channels with IDs ${missing.join(', ')} do not exist`);
      const updated = await s.apiKeys.changeSalesChannels(key.id, body.add ?? [], body.remove ?? []);
      await audit('api_key.sales_channels_changed', ctx, principalOf(ctx), updated, {
        add: (body.add ?? []).join(','),
        remove: (body.remove ?? []).join(','),
      });
      ctx.body = { api_key: await viewOne(updated) };
    },
  );

  return router;
}
