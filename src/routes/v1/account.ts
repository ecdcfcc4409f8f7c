import Router from '@koa/router';
import { z } from 'zod';
import { NotFoundError } from '../../errors.ts';
import { selfActions } from '../../http/account/actions.ts';
import { currentSignInIds, ownSignIn, recentActivity, requireSelf, selfAccount } from '../../http/account/self.ts';
import { principalOf } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { v1ErrorSchema } from './auth.ts';

const err = (description: string) => ({ description, schema: v1ErrorSchema });
const SECURITY = ['bearer', 'session'];
const REFUSED = {
  401: err('invalid_token: no credential, or one that is not valid (a registration token)'),
  403: err('forbidden: an API key, an OAuth access token or a client token (only the person, by a first-party JWT or the session cookie)'),
};
const KINDS =
  'Accepted: a first-party JWT (/v1 and Medusa user or customer tokens) or the session cookie (writes with the cookie: same-origin JSON, see the CSRF rules). Refused with 403: API keys, OAuth access tokens and client tokens, which act for the person but are not them; a registration token is 401.';

const profileSchema = z
  .object({
    id: z.string(),
    actor_type: z.enum(['user', 'customer']),
    email: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    role: z.string().optional().describe('Back-office users only'),
    created_at: z.string(),
  })
  .meta({ id: 'AccountProfile' });
const name = z.string().trim().max(100).nullable();
const profileBody = z.strictObject({ first_name: name.optional(), last_name: name.optional() });
const passwordBody = z.strictObject({
  current_password: z.string().min(1).max(1024),
  new_password: z.string().max(4096).describe('Follows the password policy (8 to 1,024 characters, not a common password)'),
  sign_out_others: z.boolean().default(false).describe('Also end every other sign-in of the account (this one stays)'),
});
const signInSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['lineage', 'family', 'session', 'oauth-session']),
    description: z.string(),
    current: z.boolean().describe('The sign-in this request belongs to'),
    created_at: z.string().nullable(),
    last_used_at: z.string().nullable().describe('Updated at most once a minute'),
    expires_at: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.object({ browser: z.string().nullable(), os: z.string().nullable(), device: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'AccountSignIn' });
const appSchema = z
  .object({
    id: z.string(),
    client: z.object({ id: z.string(), name: z.string(), logo_uri: z.string().nullable() }),
    scopes: z.array(z.object({ name: z.string(), description: z.string() })),
    granted_at: z.string().nullable(),
    last_used_at: z.string().nullable().describe('When the app last renewed its access (refresh token)'),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'ConnectedApp' });
const activitySchema = z
  .object({
    id: z.string(),
    type: z.string(),
    description: z.string(),
    time: z.string().nullable(),
    outcome: z.enum(['success', 'failure']),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    client_id: z.string().nullable(),
  })
  .meta({ id: 'AccountActivity' });

/**
 * /v1/account: a person's own account (profile, password, sign-ins, connected apps, security
 * activity), for first-party apps and the account page. One account can never reach another's
 * sign-in or grant: ids are looked up within the caller's own lists, anything else is 404.
 */
export function createV1AccountRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const self = requireSelf(s.authenticate);
  const actions = selfActions(s);
  const profileOf = (a: Awaited<ReturnType<typeof selfAccount>>) => ({
    id: a.id,
    actor_type: a.actor_type,
    email: a.email,
    first_name: a.first_name,
    last_name: a.last_name,
    ...(a.role ? { role: a.role } : {}),
    created_at: a.created_at,
  });

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/v1/account',
      tags: ['account'],
      summary: 'Your profile',
      description: KINDS,
      security: SECURITY,
      responses: { 200: { description: 'The profile', schema: profileSchema }, ...REFUSED },
    },
    self,
    async (ctx) => {
      ctx.body = profileOf(await selfAccount(s.accounts, principalOf(ctx)));
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/account',
      tags: ['account'],
      summary: 'Change your name',
      description: `${KINDS} The email is changed by an administrator.`,
      security: SECURITY,
      body: profileBody,
      responses: { 200: { description: 'The profile', schema: profileSchema }, 400: err('invalid_request'), ...REFUSED },
    },
    self,
    async (ctx, { body }) => {
      const account = await selfAccount(s.accounts, principalOf(ctx));
      const updated = await actions.updateProfile(ctx, account, body);
      ctx.body = profileOf(updated);
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/account/password',
      tags: ['account'],
      summary: 'Change your password',
      description: `${KINDS} The current password is checked through the failed-login throttle (429 with Retry-After past it). With \`sign_out_others\`, every other sign-in ends; this one stays.`,
      security: SECURITY,
      body: passwordBody,
      responses: {
        200: { description: 'Changed', schema: z.object({ success: z.literal(true), sign_ins_ended: z.number().int() }) },
        400: err('invalid_request (names the password rule that failed) or invalid_current_password'),
        ...REFUSED,
        429: err('rate_limit_exceeded: too many wrong passwords for this account or address (Retry-After)'),
      },
    },
    self,
    async (ctx, { body }) => {
      const p = principalOf(ctx);
      const account = await selfAccount(s.accounts, p);
      const ended = await actions.changePassword(ctx, p, account, {
        current: body.current_password,
        next: body.new_password,
        signOutOthers: body.sign_out_others,
      });
      ctx.body = { success: true, sign_ins_ended: ended };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/v1/account/sessions',
      tags: ['account'],
      summary: 'Your live sign-ins, this one marked `current`',
      description: KINDS,
      security: SECURITY,
      responses: {
        200: { description: 'The sign-ins', schema: z.object({ sessions: z.array(signInSchema), count: z.number() }) },
        ...REFUSED,
      },
    },
    self,
    async (ctx) => {
      const p = principalOf(ctx);
      const account = await selfAccount(s.accounts, p);
      const current = currentSignInIds(ctx, s.signIns, p);
      const sessions = (await s.signIns.list(account.id)).map((v) => ownSignIn(v, current));
      ctx.body = { sessions, count: sessions.length };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/v1/account/sessions/:id',
      tags: ['account'],
      summary: 'End one of your sign-ins at once',
      description: `${KINDS} An id that is not one of your live sign-ins is 404.`,
      security: SECURITY,
      responses: {
        200: { description: 'Ended', schema: z.object({ id: z.string(), object: z.literal('session'), deleted: z.literal(true) }) },
        ...REFUSED,
        404: err('not_found'),
      },
    },
    self,
    async (ctx) => {
      const account = await selfAccount(s.accounts, principalOf(ctx));
      if (!(await actions.endSignIn(ctx, account, ctx.params.id))) throw new NotFoundError('The sign-in was not found');
      ctx.body = { id: ctx.params.id, object: 'session', deleted: true };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/v1/account/sessions/sign-out-others',
      tags: ['account'],
      summary: 'End every sign-in but this one',
      description: KINDS,
      security: SECURITY,
      responses: { 200: { description: 'Ended', schema: z.object({ sign_ins_ended: z.number().int() }) }, ...REFUSED },
    },
    self,
    async (ctx) => {
      const p = principalOf(ctx);
      const account = await selfAccount(s.accounts, p);
      const ended = await actions.signOutOthers(ctx, p, account);
      ctx.body = { sign_ins_ended: ended };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/v1/account/grants',
      tags: ['account'],
      summary: 'The apps you connected (your OAuth grants)',
      description: KINDS,
      security: SECURITY,
      responses: {
        200: { description: 'The connected apps', schema: z.object({ grants: z.array(appSchema), count: z.number() }) },
        ...REFUSED,
      },
    },
    self,
    async (ctx) => {
      const account = await selfAccount(s.accounts, principalOf(ctx));
      const grants = await s.connectedApps.list(account.id);
      ctx.body = { grants, count: grants.length };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/v1/account/grants/:id',
      tags: ['account'],
      summary: "Remove an app's access: the grant and every token of it",
      description: `${KINDS} Its access tokens are refused by /v1/auth/verify from the next request on, on every instance; its refresh tokens stop working. An id that is not one of your grants is 404.`,
      security: SECURITY,
      responses: {
        200: { description: 'Withdrawn', schema: z.object({ id: z.string(), object: z.literal('oauth_grant'), deleted: z.literal(true) }) },
        ...REFUSED,
        404: err('not_found'),
      },
    },
    self,
    async (ctx) => {
      const account = await selfAccount(s.accounts, principalOf(ctx));
      const grant = await actions.removeApp(ctx, account, ctx.params.id);
      if (!grant) throw new NotFoundError('The grant was not found');
      ctx.body = { id: grant.id, object: 'oauth_grant', deleted: true };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/v1/account/activity',
      tags: ['account'],
      summary: 'Recent security events of your account',
      description: `${KINDS} Sign-ins, sign-outs, password changes and resets, apps connected and removed, from the audit trail: its latest entries are read (a bounded read), newest first.`,
      security: SECURITY,
      query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(20) }),
      responses: {
        200: { description: 'The events', schema: z.object({ events: z.array(activitySchema) }) },
        400: err('invalid_request'),
        ...REFUSED,
      },
    },
    self,
    async (ctx, { query }) => {
      const account = await selfAccount(s.accounts, principalOf(ctx));
      ctx.body = { events: await recentActivity(s.audit, account.id, query.limit) };
    },
  );

  return router;
}
