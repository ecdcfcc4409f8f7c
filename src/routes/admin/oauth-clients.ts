import Router from '@koa/router';
import { z } from 'zod';
import { ForbiddenError } from '../../errors.ts';
import { principalOf, requirePrincipal, requireRole } from '../../http/guards.ts';
import type { Principal } from '../../principal/principal.ts';
import { scopeCeiling } from './guard.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import { GRANT_TYPES } from '../../oauth/clients.ts';
import { oauthClientSchema, oauthClientView } from '../../oauth/client-view.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';

const SECURITY = ['bearer', 'basic', 'session'];
const TAGS = ['admin', 'oauth-clients'];
const one = z.object({ oauth_client: oauthClientSchema });
const uri = z.string().min(1).max(2048);
const scopes = z.array(z.string().regex(/^[\w:.-]{1,64}$/)).max(50);

const createBody = z.strictObject({
  client_id: z.string().min(3).max(128).optional(),
  client_secret: z.string().min(16).max(512).optional(),
  public: z.boolean().optional(),
  name: z.string().trim().min(1).max(255).nullable().optional(),
  redirect_uris: z.array(uri).max(50).optional(),
  post_logout_redirect_uris: z.array(uri).max(50).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  scopes: scopes.optional(),
  login_actor: z.enum(['customer', 'user']).optional(),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  // Shown on the consent page; https only (checked by the registry). null removes one.
  logo_uri: uri.nullable().optional(),
  client_uri: uri.nullable().optional(),
  policy_uri: uri.nullable().optional(),
  tos_uri: uri.nullable().optional(),
});
const updateBody = createBody.omit({ client_id: true, client_secret: true, public: true });
/** The consent-page links of a body (create or update). */
const linksOf = (b: Pick<z.infer<typeof createBody>, 'logo_uri' | 'client_uri' | 'policy_uri' | 'tos_uri'>) => ({
  logo_uri: b.logo_uri,
  client_uri: b.client_uri,
  policy_uri: b.policy_uri,
  tos_uri: b.tos_uri,
});

/**
 * /admin/oauth-clients: the OAuth client registry (Medusa-style bodies). Admins and developers
 * manage clients; members get 403. A client's secret is shown in the create and rotate responses
 * only. Deleting a client revokes its grants and tokens.
 */
export function createAdminOAuthClientsRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const guard = [requirePrincipal(s.authenticate, ['user', 'api_key']), requireRole('developer')];
  // A client secret is a credential: minted by a signed-in user only, never by an API key (it would outlive the key).
  const mintGuard = [requirePrincipal(s.authenticate, ['user']), requireRole('developer')];
  const roleGoverned = new Set(Object.values(s.config.roleScopes).flat());
  /** A client (its client-credentials tokens) holds no scope some role has and its registrar's role lacks, as for API keys. */
  function checkScopes(p: Principal, scopes: string[]) {
    const ceiling = scopeCeiling(p, s.config.roleScopes);
    const beyond = scopes.filter((sc) => roleGoverned.has(sc) && !ceiling.includes(sc));
    if (beyond.length) throw new ForbiddenError(`A client cannot hold scopes its registrar does not have: ${beyond.join(' ')}`);
  }

  /** Who changed which client (never its secret). */
  const audit = (event: string, ctx: Parameters<typeof principalOf>[0], clientId: string) =>
    s.audit.record(event, { actor: principalOf(ctx), subject: { type: 'oauth_client', id: clientId }, request: auditRequest(ctx) });

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/oauth-clients',
      tags: TAGS,
      summary: 'List OAuth clients (offset, limit)',
      security: SECURITY,
      query: z.looseObject({
        offset: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(20),
      }),
      responses: {
        200: {
          description: 'A page of clients',
          schema: z.object({ oauth_clients: z.array(oauthClientSchema), count: z.number(), offset: z.number(), limit: z.number() }),
        },
        403: medusaErr('forbidden'),
      },
    },
    ...guard,
    async (ctx, { query }) => {
      const { clients, count } = await s.oauthClients.list({ offset: query.offset, limit: query.limit });
      ctx.body = { oauth_clients: clients.map((c) => oauthClientView(c)), count, offset: query.offset, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/oauth-clients',
      tags: TAGS,
      summary: "Register a client; a confidential client's secret is in this response only",
      security: SECURITY,
      body: createBody,
      responses: {
        200: { description: 'The client, with its clear secret', schema: one },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden (also for an API key)'),
        409: medusaErr('duplicate_error'),
      },
    },
    ...mintGuard,
    async (ctx, { body }) => {
      checkScopes(principalOf(ctx), body.scopes ?? s.config.oauth.scopes);
      const { client, secret } = await s.oauthClients.create({
        clientId: body.client_id,
        clientSecret: body.client_secret,
        public: body.public,
        name: body.name,
        redirectUris: body.redirect_uris,
        postLogoutRedirectUris: body.post_logout_redirect_uris,
        grantTypes: body.grant_types,
        scopes: body.scopes,
        loginActor: body.login_actor,
        authMethod: body.token_endpoint_auth_method,
        links: linksOf(body),
      });
      await audit('oauth_client.created', ctx, client.client_id);
      ctx.body = { oauth_client: oauthClientView(client, secret) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/oauth-clients/:id',
      tags: TAGS,
      summary: 'One OAuth client',
      security: SECURITY,
      responses: { 200: { description: 'The client', schema: one }, 403: medusaErr('forbidden'), 404: medusaErr('not_found') },
    },
    ...guard,
    async (ctx) => {
      ctx.body = { oauth_client: oauthClientView(await s.oauthClients.mustGet(ctx.params.id)) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/oauth-clients/:id',
      tags: TAGS,
      summary: 'Update a client (name, redirect URIs, grant types, scopes, login actor, auth method)',
      security: SECURITY,
      body: updateBody,
      responses: {
        200: { description: 'The client', schema: one },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    ...guard,
    async (ctx, { body }) => {
      if (body.scopes) checkScopes(principalOf(ctx), body.scopes);
      const client = await s.oauthClients.update(ctx.params.id, {
        name: body.name,
        redirectUris: body.redirect_uris,
        postLogoutRedirectUris: body.post_logout_redirect_uris,
        grantTypes: body.grant_types,
        scopes: body.scopes,
        loginActor: body.login_actor,
        authMethod: body.token_endpoint_auth_method,
        links: linksOf(body),
      });
      await audit('oauth_client.updated', ctx, client.client_id);
      ctx.body = { oauth_client: oauthClientView(client) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/admin/oauth-clients/:id/rotate-secret',
      tags: TAGS,
      summary: 'Replace the secret (shown in this response only); the old one stops working at once',
      security: SECURITY,
      body: z.strictObject({ client_secret: z.string().min(16).max(512).optional() }),
      responses: {
        200: { description: 'The client, with its new clear secret', schema: one },
        400: medusaErr('invalid_data'),
        403: medusaErr('forbidden (also for an API key)'),
        404: medusaErr('not_found'),
      },
    },
    ...mintGuard,
    async (ctx, { body }) => {
      const { client, secret } = await s.oauthClients.rotateSecret(ctx.params.id, body.client_secret);
      await audit('oauth_client.secret_rotated', ctx, client.client_id);
      ctx.body = { oauth_client: oauthClientView(client, secret) };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/admin/oauth-clients/:id',
      tags: TAGS,
      summary: 'Delete a client and revoke every grant and token it holds',
      security: SECURITY,
      responses: {
        200: { description: 'Deleted', schema: z.object({ id: z.string(), object: z.literal('oauth_client'), deleted: z.literal(true) }) },
        403: medusaErr('forbidden'),
        404: medusaErr('not_found'),
      },
    },
    ...guard,
    async (ctx) => {
      const { client } = await s.oauthClients.delete(ctx.params.id);
      await audit('oauth_client.deleted', ctx, client.client_id);
      ctx.body = { id: client.client_id, object: 'oauth_client', deleted: true };
    },
  );

  return router;
}
