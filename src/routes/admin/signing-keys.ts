import Router from '@koa/router';
import { z } from 'zod';
import { auditRequest } from '../../http/audit-request.ts';
import { principalOf, requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import type { ChangedBy } from '../../tokens/signing-keys.ts';
import { medusaErr } from '../medusa-shapes.ts';
import type { Context } from 'koa';

const signingKeySchema = z
  .object({
    kid: z.string(),
    alg: z.enum(['RS256', 'ES256', 'EdDSA']),
    state: z.enum(['next', 'current', 'previous', 'retired', 'revoked']),
    origin: z.enum(['imported', 'generated', 'static']),
    created_at: z.string().nullable(),
    activates_at: z.string().nullable(),
    retires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    public_jwk: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AdminSigningKey' });

const SECURITY = ['bearer', 'basic', 'session'] as const;

/**
 * /admin/signing-keys: the keys that sign tokens, their states and timings (public parts only),
 * a rotation, and the compromise switch (revoke). Admin only; every change is audited.
 */
export function createAdminSigningKeysRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const by = (ctx: Context): ChangedBy => ({ actor: principalOf(ctx), request: auditRequest(ctx), via: 'api' });

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/signing-keys',
      tags: ['admin'],
      summary: 'The signing keys and their states (admin only)',
      description:
        'States: `next` (published, signs after `activates_at`), `current` (signs), `previous` (verifies until `retires_at`), `retired`, `revoked`. Public parts only.',
      security: [...SECURITY],
      responses: {
        200: { description: 'The keys', schema: z.object({ signing_keys: z.array(signingKeySchema), mode: z.enum(['store', 'static']) }) },
        403: medusaErr('forbidden'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      ctx.body = { signing_keys: await s.signingKeys.list(), mode: s.signingKeys.mode };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/signing-keys/rotate',
      tags: ['admin'],
      summary: 'Rotate the signing keys (admin only)',
      description:
        'Publishes a new key per algorithm as `next`; it signs after SIGNING_KEY_LEAD_TIME (at least the JWKS max-age), and the current key stays `previous` until its tokens have expired. A key already waiting as `next` is kept.',
      security: [...SECURITY],
      responses: {
        200: { description: 'The keys waiting as next', schema: z.object({ signing_keys: z.array(signingKeySchema) }) },
        400: medusaErr('not_allowed (SIGNING_KEYS=static)'),
        403: medusaErr('forbidden'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      ctx.body = { signing_keys: await s.signingKeys.rotate(by(ctx)) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/signing-keys/:kid/revoke',
      tags: ['admin'],
      summary: 'Revoke a signing key at once: the compromise switch (admin only)',
      description:
        'The key leaves the JWKS and every token it signed is refused, on every instance within a second. A revoked current key is replaced at once (by the key waiting as next, else a new one).',
      security: [...SECURITY],
      responses: {
        200: { description: 'The revoked key', schema: z.object({ signing_key: signingKeySchema }) },
        400: medusaErr('not_allowed (already revoked, or SIGNING_KEYS=static)'),
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    requireRole('admin'),
    async (ctx) => {
      ctx.body = { signing_key: await s.signingKeys.revoke(ctx.params.kid!, by(ctx)) };
    },
  );
  return router;
}
