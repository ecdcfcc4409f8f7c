import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { InvalidCredentialsError, InvalidRequestError, InvalidTokenError } from '../../errors.ts';
import { cors } from '../../http/cors.ts';
import { principalOf, requirePrincipal } from '../../http/guards.ts';
import { requirePublishableKey } from '../../http/publishable-key.ts';
import { signInClientOf } from '../../http/sign-in-client.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { actorAccount, customerSchema, customerView, isRegistrationPrincipal, medusaErr, passwordLoginBody } from '../medusa-shapes.ts';

/**
 * Before every /store route: CORS (STORE_CORS; AUTH_CORS too for /store/auth/*), the publishable
 * key, then any credential sent (optional, but a bad one is 401 rather than silently ignored).
 */
export function storeBefore(s: Services): Middleware[] {
  return [
    cors([{ origins: s.config.cors.store }, { pathPrefix: '/store/auth', origins: s.config.cors.auth }]),
    requirePublishableKey(s.apiKeys),
    async (ctx, next) => {
      await s.authenticate(ctx);
      return next();
    },
  ];
}

const PK_HEADER = [{ name: 'x-publishable-api-key', required: true, description: 'A publishable API key (pk_…)' }];

/** /store/auth/token, POST /store/customers (registration step two), GET /store/customers/me. */
export function createStoreRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/store/auth/token',
      tags: ['store'],
      summary: 'Exchange a customer email and password for a customer JWT (CUSTOMER_TOKEN_TTL)',
      security: ['publishableKey'],
      headers: PK_HEADER,
      body: passwordLoginBody,
      responses: {
        200: {
          description: 'The JWT and the customer',
          schema: z.object({ token: z.string(), access_token: z.string(), customer: customerSchema }),
        },
        400: medusaErr('not_allowed (publishable key) or invalid_data'),
        401: medusaErr('Unauthorized'),
      },
    },
    async (ctx, { body }) => {
      const account = await s.passwordLogin(ctx, 'customer', body.email, body.password);
      if (!account) throw new InvalidCredentialsError();
      const { token } = await s.actorTokens.issue(account, undefined, signInClientOf(ctx));
      ctx.body = { token, access_token: token, customer: customerView(account) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/store/customers',
      tags: ['store'],
      summary: 'Create the customer of a registration token (POST /auth/customer/emailpass/register first)',
      security: ['publishableKey', 'bearer'],
      headers: PK_HEADER,
      body: z.object({
        email: z.email().max(320).optional(),
        first_name: z.string().max(200).nullable().optional(),
        last_name: z.string().max(200).nullable().optional(),
      }),
      responses: {
        200: { description: 'The customer', schema: z.object({ customer: customerSchema }) },
        400: medusaErr('invalid_data'),
        401: medusaErr('Unauthorized'),
      },
    },
    requirePrincipal(s.authenticate, ['customer', 'registration']),
    async (ctx, { body }) => {
      const p = principalOf(ctx);
      if (!isRegistrationPrincipal(p)) throw new InvalidRequestError('Request already authenticated as a customer.');
      const identity = await s.pendingIdentities.get(p.id);
      if (!identity || identity.actor_type !== 'customer') throw new InvalidTokenError();
      if (identity.actor_id) throw new InvalidRequestError('Request already authenticated as a customer.');
      if (body.email && body.email.trim().toLowerCase() !== identity.email)
        throw new InvalidRequestError('email: must be the email that was registered');
      const customer = await s.accounts.create({
        actorType: 'customer',
        email: identity.email,
        passwordHash: identity.password_hash,
        firstName: body.first_name,
        lastName: body.last_name,
      });
      await s.pendingIdentities.link(identity, customer.id);
      // From here the registration token is one of the customer's sign-ins: a password reset or
      // sign-out everywhere ends it.
      await s.signIns.add(customer.id, 'lineage', p.sid!, p.expiresAt!.getTime(), signInClientOf(ctx));
      await s.audit.record('customer.registered', {
        actor: { type: 'customer', id: customer.id },
        subject: { type: 'customer', id: customer.id },
        request: auditRequest(ctx),
      });
      ctx.body = { customer: customerView(customer) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/store/customers/me',
      tags: ['store'],
      summary: 'The logged-in customer',
      security: ['publishableKey', 'bearer'],
      headers: PK_HEADER,
      query: z.object({ fields: z.string().optional() }),
      responses: { 200: { description: 'The customer', schema: z.object({ customer: customerSchema }) }, 401: medusaErr('Unauthorized') },
    },
    requirePrincipal(s.authenticate),
    async (ctx) => {
      ctx.body = { customer: customerView(await actorAccount(s, principalOf(ctx), 'customer')) };
    },
  );

  return router;
}
