import Router from '@koa/router';
import { z } from 'zod';
import type { Context } from 'koa';
import { InsufficientScopeError, InvalidCredentialsError, InvalidTokenError } from '../../errors.ts';
import { requirePrincipal, principalOf } from '../../http/guards.ts';
import { signInClientOf } from '../../http/sign-in-client.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import { validate } from '../../http/validate.ts';
import { bearerChallenge } from '../../http/www-authenticate.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';
import { forwardAuthHeaders, forwardedRequest, requiredScopes, verifyQuery } from './forward-auth.ts';

export const loginBody = z.strictObject({
  username: z
    .string()
    .min(1)
    .max(320)
    .describe("The account's email")
    .meta({ examples: ['admin@example.com'] }),
  password: z
    .string()
    .min(1)
    .max(1024)
    .meta({ examples: ['correct horse battery staple'] }),
  actor_type: z.enum(['user', 'customer']).default('user').describe('A back-office user or a customer: each has its own accounts'),
});
export const refreshBody = z.strictObject({
  refresh_token: z.string().min(1).max(512).describe('The refresh token of the last pair; each is used once'),
});
export const logoutBody = z.strictObject({
  everywhere: z.boolean().default(false).describe('End every sign-in of the account, not only this one'),
});

export const tokenPairSchema = z
  .object({
    token: z
      .string()
      .describe('The access token: a signed JWT (ACCESS_TOKEN_TTL), sent as `Authorization: Bearer …`')
      .meta({ examples: ['eyJhbGciOiJSUzI1NiIsImtpZCI6Ij…'] }),
    token_type: z.literal('Bearer'),
    expires_at: z.iso.datetime().describe('When the access token expires'),
    expires_in: z
      .number()
      .int()
      .min(1)
      .describe('Seconds until the access token expires')
      .meta({ examples: [900] }),
    refresh_token: z.string().describe('Rotates on every use (REFRESH_TOKEN_TTL); a reused one revokes its whole family'),
  })
  .meta({ id: 'TokenPair', description: 'A first-party JWT and the refresh token that renews it' });

export const verifyResponseSchema = z
  .object({
    authenticated: z.literal(true),
    user_id: z
      .string()
      .describe('The subject: user, customer or client id (an API key: its creator)')
      .meta({ examples: ['user_01JD3X9Q5T6V7W8X9Y0Z1A2B3C'] }),
    actor_type: z.enum(['user', 'customer', 'api-key', 'client']),
    scopes: z.array(z.string()).meta({ examples: [['read', 'write']] }),
    expires_at: z.iso.datetime().nullable().describe('When the credential expires; null for an API key without expiry'),
    auth_method: z.enum(['jwt', 'oauth', 'api_key', 'session']).describe('Which kind of credential it was'),
    client_id: z.string().optional().describe('The OAuth client, for OAuth access tokens'),
    key_id: z.string().optional().describe('The API key id, for API keys'),
  })
  .meta({ id: 'VerifyResponse', description: 'Who a valid credential speaks for' });

export const v1ErrorSchema = z
  .object({
    error: z
      .string()
      .describe('A stable code')
      .meta({ examples: ['invalid_token'] }),
    message: z.string().describe('What went wrong, for a person'),
    code: z.number().int().min(400).max(599).describe('The HTTP status'),
    timestamp: z.iso.datetime(),
  })
  .meta({ id: 'V1Error', description: 'An error on /v1' });

/** What /v1/auth/verify answers for a Principal. */
export function verifyResponse(p: Principal): z.infer<typeof verifyResponseSchema> {
  return {
    authenticated: true,
    user_id: p.id,
    actor_type: p.actorType,
    scopes: p.scopes,
    expires_at: p.expiresAt ? p.expiresAt.toISOString() : null,
    auth_method: p.method,
    ...(p.clientId ? { client_id: p.clientId } : {}),
    ...(p.keyId ? { key_id: p.keyId } : {}),
  };
}

const err = (description: string) => ({ description, schema: v1ErrorSchema });

/** The generic /v1 API: login, refresh, logout, verify. */
export function createV1AuthRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/auth/login',
      tags: ['v1'],
      summary: 'Exchange a username (email) and password for a JWT and a refresh token',
      description:
        'The answer is the same for an unknown account and a wrong password. Failed logins are throttled per account and per client address: past the limit the answer is 429 with Retry-After, even for the right password.',
      body: loginBody,
      responses: {
        200: { description: 'Token pair', schema: tokenPairSchema },
        400: err('Invalid body'),
        401: err('invalid_credentials (the same for an unknown account and a wrong password)'),
        429: err('rate_limit_exceeded: too many failed logins for this account or address (Retry-After)'),
      },
    },
    async (ctx, { body }) => {
      const account = await s.passwordLogin(ctx, body.actor_type, body.username, body.password);
      if (!account) throw new InvalidCredentialsError();
      const scope = s.config.roleScopes[account.actor_type === 'user' ? (account.role ?? 'member') : 'customer'];
      ctx.body = await s.refreshFamilies.start(
        {
          sub: account.id,
          actorType: account.actor_type,
          scope,
          accessTtl: s.config.ttl.access,
          extra: account.role ? { role: account.role } : undefined,
        },
        signInClientOf(ctx),
      );
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/auth/refresh',
      tags: ['v1'],
      summary: 'Rotate a refresh token into a new pair',
      description:
        'Each refresh token is used once. Presenting one again (a stolen copy, or a client that retried) revokes the whole family: every token of that sign-in.',
      body: refreshBody,
      responses: { 200: { description: 'New token pair', schema: tokenPairSchema }, 400: err('Invalid body'), 401: err('invalid_token') },
    },
    async (ctx, { body }) => {
      ctx.body = await s.refreshFamilies.rotate(body.refresh_token);
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/auth/logout',
      tags: ['v1'],
      summary: 'Revoke this token and its refresh family',
      description:
        'With `{"everywhere": true}`, every sign-in of the account ends: other devices, cookie sessions, the OAuth server session. Only first-party /v1 tokens are logged out here.',
      security: ['bearer'],
      body: logoutBody,
      responses: { 204: { description: 'Logged out' }, 400: err('Invalid body'), 401: err('invalid_token') },
    },
    requirePrincipal(s.authenticate),
    async (ctx, { body }) => {
      const principal = principalOf(ctx);
      if (principal.method !== 'jwt' || !principal.sid) throw new InvalidTokenError('Only first-party tokens can be logged out here');
      if (body.everywhere) await s.signIns.endAll(principal.id);
      // (Also when ending everywhere: a lineage signed in before sign-ins were recorded ends with this token.)
      await s.signOut.endSignInOf(principal.id, principal.sid);
      await s.audit.record(body.everywhere ? 'auth.signed_out_everywhere' : 'auth.logout', {
        actor: principal,
        subject: { type: principal.kind, id: principal.id },
        request: auditRequest(ctx),
        data: { surface: 'v1' },
      });
      ctx.status = 204;
    },
  );

  // Gateways ask with the original request's method (nginx auth_request), or GET (Traefik,
  // Caddy): verify answers every method, OPTIONS included, so no method slips past unauthenticated.
  for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    defineRoute(
      router,
      ops,
      {
        method,
        path: '/v1/auth/verify',
        tags: ['v1'],
        summary: 'Who is this credential? Also the forward-auth endpoint for gateways',
        description:
          'Takes a first-party JWT, an OAuth access token or a secret API key (Bearer or Basic), or the session cookie. `?scope=` names scopes the credential must hold (403 otherwise). A 200 carries X-Auth-* headers for a gateway to copy onto the request it forwards. Every method is answered alike (nginx `auth_request` asks with the original method; Traefik and Caddy with GET), OPTIONS included.',
        security: ['bearer', 'basic', 'session'],
        query: verifyQuery,
        responses: {
          200: {
            description: 'The credential is valid; the X-Auth-* headers are for a gateway to copy onto the request it forwards',
            schema: verifyResponseSchema,
            headers: {
              'X-Auth-User-Id': 'The subject: user, customer or client id (an API key: its creator)',
              'X-Auth-Actor-Type': 'user, customer, api-key or client',
              'X-Auth-Scopes': 'Space-separated scopes',
              'X-Auth-Method': 'jwt, oauth, api_key or session',
              'X-Auth-Role': 'Back-office role, when there is one',
              'X-Auth-Client-Id': 'The OAuth client, for OAuth access tokens',
              'X-Auth-Key-Id': 'The API key id, for API keys',
            },
          },
          400: err('invalid_request'),
          401: {
            ...err('invalid_token or token_expired'),
            headers: { 'WWW-Authenticate': 'Bearer realm="portcullis"[, error="invalid_token", error_description="…"]' },
          },
          403: {
            ...err('insufficient_scope: the credential lacks a scope named in ?scope='),
            headers: { 'WWW-Authenticate': 'Bearer realm="portcullis", error="insufficient_scope", scope="…"' },
          },
          429: err("rate_limit_exceeded: the credential's quota is spent (Retry-After)"),
        },
      },
      bearerChallenge('portcullis'),
      requirePrincipal(s.authenticate),
      verifyHandler,
    );
  }
  router.options('/v1/auth/verify', bearerChallenge('portcullis'), requirePrincipal(s.authenticate), async (ctx) => {
    await verifyHandler(ctx as never, { body: undefined, query: validate(verifyQuery, ctx.query) });
  });

  async function verifyHandler(ctx: Context, { query }: { body: undefined; query: z.output<typeof verifyQuery> }) {
    const principal = principalOf(ctx);
    const forwarded = forwardedRequest(ctx);
    if (forwarded) s.logger.debug({ reqId: ctx.state.requestId, forwarded, method: principal.method }, 'forward auth');
    const missing = requiredScopes(query).filter((scope) => !principal.scopes.includes(scope));
    if (missing.length) throw new InsufficientScopeError(missing);
    for (const [name, value] of Object.entries(forwardAuthHeaders(principal))) ctx.set(name, value);
    ctx.body = verifyResponse(principal);
  }

  return router;
}
