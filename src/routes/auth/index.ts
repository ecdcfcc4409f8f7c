import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { cors } from '../../http/cors.ts';
import { AppError, InvalidEmailOrPasswordError, InvalidTokenError } from '../../errors.ts';
import { principalOf, requirePrincipal } from '../../http/guards.ts';
import { signInClientOf } from '../../http/sign-in-client.ts';
import { auditRequest } from '../../http/audit-request.ts';
import { defineRoute } from '../../http/route.ts';
import { readBearer } from '../../principal/read-credential.ts';
import { SESSION_COOKIE, writeSessionCookie } from '../../principal/session.ts';
import type { Services } from '../../services.ts';
import type { ActorType } from '../../accounts/accounts.ts';
import { actorAccount, isRegistrationPrincipal, medusaErr } from '../medusa-shapes.ts';
import { appMetadataOf, authIdentityIdOf, medusaSignInOf } from '../../tokens/actor-tokens.ts';
import { currentStanding } from '../../accounts/standing.ts';
import type { Principal } from '../../principal/principal.ts';
import { normalizeEmail } from '../../accounts/accounts.ts';
import { assertPasswordPolicy, PASSWORD_MAX_LENGTH } from '../../accounts/password-policy.ts';

const emailPass = z
  .object({
    email: z
      .email()
      .max(320)
      .meta({ examples: ['shopper@example.com'] }),
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'EmailPassword' });
/** A password being set: the length and content rules are the password policy's, with its messages. */
const newPassword = z.object({ password: z.string().max(4 * PASSWORD_MAX_LENGTH) });
const tokenResponse = z.object({ token: z.string().describe('A JWT, sent as `Authorization: Bearer …`') }).meta({ id: 'MedusaToken' });
const authContext = z
  .object({
    actor_id: z.string(),
    actor_type: z.enum(['user', 'customer']),
    auth_identity_id: z.string(),
    app_metadata: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuthContext', description: 'Who the session speaks for, as Medusa names it' });

/** The Medusa v2 routes `@medusajs/js-sdk` calls: emailpass login/register, refresh, session, password reset. */
export function createMedusaAuthRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  for (const actor of ['user', 'customer'] as const satisfies ActorType[]) {
    defineRoute(
      router,
      ops,
      {
        method: 'post',
        path: `/auth/${actor}/emailpass`,
        tags: ['auth'],
        summary: `Log a ${actor} in with email and password`,
        body: emailPass,
        responses: {
          200: { description: 'A JWT', schema: tokenResponse },
          400: medusaErr('invalid_data'),
          401: medusaErr('Invalid email or password'),
        },
      },
      async (ctx, { body }) => {
        const account = await s.passwordLogin(ctx, actor, body.email, body.password);
        if (!account) throw new InvalidEmailOrPasswordError();
        ctx.body = { token: (await s.actorTokens.issue(account, undefined, signInClientOf(ctx))).token };
      },
    );

    defineRoute(
      router,
      ops,
      {
        method: 'post',
        path: `/auth/${actor}/emailpass/register`,
        tags: ['auth'],
        summary: `Register a ${actor} identity (step one; ${actor === 'customer' ? 'then POST /store/customers with the token' : 'back-office users are created by an admin'})`,
        body: newPassword.extend({ email: z.email().max(320) }),
        responses: {
          200: { description: 'A registration token (actor_id ""), for a new email and a taken one alike', schema: tokenResponse },
          400: medusaErr('invalid_data (names the password rule that failed)'),
          429: medusaErr('too_many_requests (registrations per client address)'),
        },
      },
      async (ctx, { body }) => {
        await s.anonymousQuotas.admitRegistration(ctx.ip);
        assertPasswordPolicy(body.password);
        // Known and unknown emails get the same work (one hash, one pending identity) and the same
        // answer. A taken email's registration can never become an actor: step two's account
        // creation finds the email taken, as for two people registering one email at once.
        const identity = await s.pendingIdentities.create({
          actor_type: actor,
          email: normalizeEmail(body.email),
          password_hash: await s.passwords.hash(body.password),
        });
        ctx.body = { token: await s.jwt.issueRegistration(identity.id, actor) };
      },
    );

    defineRoute(
      router,
      ops,
      {
        method: 'post',
        path: `/auth/${actor}/emailpass/reset-password`,
        tags: ['auth'],
        summary: 'Request a password reset',
        description:
          'Always 201 with an empty body, whether the account exists or not, and whether the request was dropped by the per-account and per-address limits. For an existing account, an `auth.password_reset` event (and the webhook) carries the reset token.',
        body: z.object({ identifier: z.string().min(1).max(320).optional(), email: z.string().min(1).max(320).optional() }),
        responses: { 201: { description: 'Requested (empty body)' }, 400: medusaErr('invalid_data') },
      },
      async (ctx, { body }) => {
        const identifier = body.identifier ?? body.email ?? '';
        await s.resetRequests.request({ ip: ctx.ip, actorType: actor, email: identifier, request: auditRequest(ctx) });
        ctx.status = 201;
        ctx.body = '';
      },
    );

    defineRoute(
      router,
      ops,
      {
        method: 'post',
        path: `/auth/${actor}/emailpass/update`,
        tags: ['auth'],
        summary: 'Set a new password with a reset token',
        description:
          'The reset token comes as `Authorization: Bearer …` (or `?token=` for older clients). A password the policy refuses leaves the token usable. Success ends every sign-in of the account.',
        body: newPassword.extend({ email: z.string().max(320).optional() }),
        query: z.object({ token: z.string().max(256).optional() }),
        responses: {
          200: { description: 'Updated', schema: z.object({ success: z.literal(true) }) },
          400: medusaErr('invalid_data (names the password rule that failed; the token stays usable)'),
          401: medusaErr('Invalid token'),
        },
      },
      async (ctx, { body, query }) => {
        const { accountId, signInsEnded } = await s.passwordResets.complete({
          token: readBearer(ctx) ?? query.token ?? '',
          actorType: actor,
          email: body.email,
          password: body.password,
        });
        await s.audit.record('auth.password_reset.completed', {
          actor: { type: actor, id: accountId },
          subject: { type: actor, id: accountId },
          request: auditRequest(ctx),
          data: { sign_ins_ended: signInsEnded },
        });
        ctx.body = { success: true };
      },
    );
  }

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/auth/token/refresh',
      tags: ['auth'],
      summary: 'A fresh token of the same Medusa sign-in',
      description:
        "For a Medusa token or cookie session: same lineage, scopes no wider (and narrowed to the current role), never past the sign-in's end (REFRESH_TOKEN_TTL after sign-in). A registration token becomes a customer token once, after the customer exists. /v1 tokens (refreshed at /v1/auth/refresh), OAuth tokens and API keys are refused.",
      security: ['bearer', 'session'],
      responses: { 200: { description: 'A JWT', schema: tokenResponse }, 401: medusaErr('Unauthorized') },
    },
    requirePrincipal(s.authenticate, ['user', 'customer', 'registration']),
    async (ctx) => {
      const p = principalOf(ctx);
      if (isRegistrationPrincipal(p)) {
        ctx.body = { token: (await exchangeRegistration(p)).token };
        return;
      }
      const signIn = medusaSignInOf(p);
      if (!signIn) throw new InvalidTokenError('Only Medusa tokens and sessions are refreshed here');
      const account = await s.accounts.active(p.id);
      if (!account || account.actor_type !== p.kind) {
        await s.revocations.revokeLineage(signIn.sid);
        throw new InvalidTokenError();
      }
      ctx.body = { token: (await s.actorTokens.issue(account, signIn)).token };
    },
  );

  /**
   * A registration token, once its customer exists, becomes that customer's token: a new sign-in
   * (the holder chose the password), once. The registration token ends with the exchange.
   */
  async function exchangeRegistration(p: Principal) {
    const identity = await s.pendingIdentities.get(p.id);
    const account = identity?.actor_id && !identity.exchanged ? await s.accounts.active(identity.actor_id) : null;
    if (!identity || !account || account.actor_type !== p.actorType) throw new InvalidTokenError();
    if (!(await s.pendingIdentities.markExchanged(identity))) throw new InvalidTokenError();
    await s.revocations.revokeLineage(p.sid!);
    return s.actorTokens.issue(account);
  }

  defineRoute(
    router,
    ops,
    {
      method: 'post',
      path: '/auth/session',
      tags: ['auth'],
      summary: 'Turn a Medusa Bearer JWT into a cookie session',
      description:
        "A signed httpOnly cookie naming a server-side session. The session belongs to the token's sign-in: it ends with it (logout, sign-out everywhere, password reset) and lives no longer than the token.",
      security: ['bearer'],
      responses: {
        200: { description: 'The session auth context', schema: z.object({ user: authContext }) },
        401: medusaErr('Unauthorized'),
      },
    },
    requirePrincipal(s.authenticate, ['user', 'customer']),
    async (ctx) => {
      const p = principalOf(ctx);
      const signIn = p.method === 'jwt' ? medusaSignInOf(p) : undefined;
      if (!signIn || !p.expiresAt) throw new InvalidTokenError('A session is started with a Medusa Bearer token');
      const actorType = p.kind as ActorType;
      const account = await actorAccount(s, p, actorType);
      const standing = currentStanding(account, signIn, s.config.roleScopes);
      const context = {
        actor_id: account.id,
        actor_type: actorType,
        auth_identity_id: authIdentityIdOf(account.id),
        app_metadata: appMetadataOf(actorType, account.id),
      };
      const ttl = Math.min(
        actorType === 'user' ? s.config.ttl.admin : s.config.ttl.customer,
        Math.floor((p.expiresAt.getTime() - Date.now()) / 1000),
      );
      if (ttl <= 0) throw new InvalidTokenError();
      const { id } = await s.sessions.create(
        {
          ...context,
          ...(standing.role ? { role: standing.role } : {}),
          scopes: standing.scopes,
          sid: signIn.sid,
          sign_in_ends_at: signIn.endsAt.toISOString(),
        },
        ttl,
        signInClientOf(ctx),
      );
      writeSessionCookie(ctx, id, { maxAgeSeconds: ttl });
      ctx.body = { user: context };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'delete',
      path: '/auth/session',
      tags: ['auth'],
      summary: 'Sign out: end the cookie session and its sign-in',
      description:
        'A copy of the cookie stops working too. A Bearer JWT sent along is revoked with its sign-in (login lineage or refresh family).',
      security: ['session'],
      responses: { 200: { description: 'Ended', schema: z.object({ success: z.literal(true) }) } },
    },
    async (ctx) => {
      const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
      let session: Awaited<ReturnType<typeof s.sessions.get>> = null;
      if (id) {
        // The session, its sign-in (the lineage it came from) and their index entries and records go
        // in one step; what stays is the lineage's revocation, until its latest token expires.
        session = await s.sessions.end(id);
        if (session?.sid) await s.signOut.endSignInOf(session.actor_id, session.sid);
      }
      // A Bearer JWT sent along is logged out too (its whole sign-in). Logging out never
      // fails on a credential that is already dead; a store failure is not that (it answers 503,
      // rather than "signed out" with the token still alive).
      const bearer = await s.authenticate(ctx).catch((err: unknown) => {
        if (err instanceof AppError) return null;
        throw err;
      });
      if (bearer?.method === 'jwt' && bearer.sid && !isRegistrationPrincipal(bearer)) await s.signOut.endSignInOf(bearer.id, bearer.sid);
      const who = session
        ? ({ type: session.actor_type, id: session.actor_id } as const)
        : bearer && !isRegistrationPrincipal(bearer) && (bearer.kind === 'user' || bearer.kind === 'customer')
          ? ({ type: bearer.kind, id: bearer.id } as const)
          : undefined;
      if (who) {
        await s.audit.record('auth.logout', {
          actor: who,
          subject: who,
          request: auditRequest(ctx),
          data: { surface: 'auth', cookie_session: !!id },
        });
      }
      writeSessionCookie(ctx, null);
      ctx.body = { success: true };
    },
  );

  return router;
}

/** Before every /auth route: CORS from AUTH_CORS (defaults to ADMIN_CORS). */
export function authBefore(s: Services): Middleware[] {
  return [cors([{ origins: s.config.cors.auth }])];
}
