import Router from '@koa/router';
import type { Context } from 'koa';
import { newId } from '../../ids.ts';
import { z } from 'zod';
import type { Account, ActorType } from '../../accounts/accounts.ts';
import { WrongCurrentPasswordError } from '../../accounts/password-change.ts';
import { WeakPasswordError } from '../../accounts/password-policy.ts';
import { currentStanding } from '../../accounts/standing.ts';
import { AppError, RateLimitedError } from '../../errors.ts';
import type { Principal } from '../../principal/principal.ts';
import { SESSION_COOKIE, writeSessionCookie } from '../../principal/session.ts';
import type { Services } from '../../services.ts';
import { appMetadataOf, authIdentityIdOf } from '../../tokens/actor-tokens.ts';
import { auditRequest } from '../audit-request.ts';
import { defineRoute } from '../route.ts';
import { signInClientOf } from '../sign-in-client.ts';
import { redirectSeeOther, sendPage } from '../html-page.ts';
import { selfActions } from './actions.ts';
import { createFormGuard } from './form-guard.ts';
import { currentSignInIds, ownSignIn, recentActivity } from './self.ts';
import { ACCOUNT_STYLESHEET, ACCOUNT_STYLESHEET_PATH, accountMessagePage, accountPage, signInPage, type Flash } from './views.ts';

/** Where "Forgot password?" leads: the reset request page of the sign-in pages. */
export const FORGOT_PASSWORD_PATH = '/account/forgot';
const HOME = '/account';
const SIGN_IN = '/account/sign-in';
const ACTIVITY_SHOWN = 10;
const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const TAGS = ['account'];
const html = { description: 'An HTML page' };
const seeOther = { description: 'Redirect (post/redirect/get)' };

const csrfOnly = z.looseObject({ csrf: z.string().max(200).optional() });
const signInBody = z.looseObject({
  csrf: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  password: z.string().max(1024).optional(),
  account_type: z.string().max(20).optional(),
});
const profileBody = z.looseObject({
  csrf: z.string().max(200).optional(),
  first_name: z.string().max(100).optional(),
  last_name: z.string().max(100).optional(),
});
const passwordBody = z.looseObject({
  csrf: z.string().max(200).optional(),
  current_password: z.string().max(1024).optional(),
  new_password: z.string().max(4096).optional(),
  confirm_password: z.string().max(4096).optional(),
  sign_out_others: z.string().max(10).optional(),
});

/** What a signed-in page request knows: the session cookie, who it is and their account. */
interface Signed {
  sessionId: string;
  principal: Principal;
  account: Account;
}

/**
 * The account page, /account: server-rendered forms, post/redirect/get everywhere (every POST
 * answers 303 to a GET page, so Back and reload never resubmit), messages carried to the next
 * page in a short-lived signed cookie. It signs in with the same throttled password login as
 * every surface and the same cookie session as POST /auth/session, and acts through the same
 * actions as /v1/account.
 */
export function createAccountPagesRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;
  const guard = createFormGuard({ secret: s.config.cookieSecret, publicOrigin: new URL(s.config.publicUrl).origin });
  const actions = selfActions(s);

  const render = (ctx: Context, status: number, body: string) => sendPage(ctx, status, body, CSP);
  const redirect = (ctx: Context, to: string, flash?: Flash) => {
    if (flash) guard.setFlash(ctx, flash);
    redirectSeeOther(ctx, to);
  };
  const refused = (ctx: Context) =>
    render(
      ctx,
      403,
      accountMessagePage(
        'Request refused',
        'This form could not be verified. Reload your account page and try again.',
        {
          href: HOME,
          text: 'Back to your account',
        },
        s.config.branding,
      ),
    );

  // Errors become pages, never JSON or a bare status: a busy or unavailable store, a refused form.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
      const title = err.status >= 500 ? 'Temporarily unavailable' : err.status === 429 ? 'Too many requests' : 'Something went wrong';
      render(ctx, err.status, accountMessagePage(title, err.message, { href: HOME, text: 'Back to your account' }, s.config.branding));
    }
    if (ctx.status === 404 && ctx.body === undefined)
      render(
        ctx,
        404,
        accountMessagePage('Page not found', 'There is no such page.', { href: HOME, text: 'Go to your account' }, s.config.branding),
      );
  });

  router.get(ACCOUNT_STYLESHEET_PATH, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = ACCOUNT_STYLESHEET;
  });

  /** The signed-in session of this browser, or undefined (none, ended, or another kind of credential). */
  async function signedIn(ctx: Context): Promise<Signed | undefined> {
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (!sessionId || ctx.get('authorization')) return undefined;
    const principal = await s.authenticate(ctx).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 401) return null;
      throw err;
    });
    if (!principal || principal.method !== 'session' || (principal.kind !== 'user' && principal.kind !== 'customer')) return undefined;
    const account = await s.accounts.active(principal.id);
    if (!account || account.actor_type !== principal.kind) return undefined;
    return { sessionId, principal, account };
  }

  /** The guard of every signed-in form post: own page, live session, token of that session. */
  async function formPost(ctx: Context, csrf: string | undefined): Promise<Signed | undefined> {
    if (!guard.fromOwnPage(ctx)) {
      refused(ctx);
      return undefined;
    }
    const signed = await signedIn(ctx);
    if (!signed) {
      redirect(ctx, SIGN_IN, { kind: 'error', text: 'Your session has ended. Sign in again.' });
      return undefined;
    }
    if (!guard.sessionTokenOk(signed.sessionId, csrf)) {
      refused(ctx);
      return undefined;
    }
    return signed;
  }

  const pageRoute = (method: 'get' | 'post', path: string, summary: string, responses: Record<number, { description: string }>) => ({
    method,
    path,
    page: true,
    tags: TAGS,
    summary,
    responses,
  });

  defineRoute(
    router,
    ops,
    pageRoute('get', HOME, 'The account page (signed in by the session cookie)', { 200: html, 303: seeOther }),
    async (ctx) => {
      const signed = await signedIn(ctx);
      if (!signed) {
        redirect(ctx, SIGN_IN);
        return;
      }
      const { account, principal } = signed;
      const current = currentSignInIds(ctx, s.signIns, principal);
      const [signIns, apps, activity] = await Promise.all([
        s.signIns.list(account.id),
        s.connectedApps.list(account.id),
        recentActivity(s.audit, account.id, ACTIVITY_SHOWN),
      ]);
      // Activity names apps by client id; a removed app is no longer among the connected ones.
      const appNames = new Map(apps.map((a) => [a.client.id, a.client.name]));
      for (const id of new Set(activity.map((e) => e.client_id).filter((id): id is string => !!id && !appNames.has(id))))
        appNames.set(id, (await s.oauthClients.get(id))?.client_name ?? id);
      render(
        ctx,
        200,
        accountPage({
          brand: s.config.branding,
          csrf: guard.sessionToken(signed.sessionId),
          flash: guard.takeFlash<Flash>(ctx),
          account: {
            email: account.email,
            actorType: account.actor_type,
            firstName: account.first_name,
            lastName: account.last_name,
            ...(account.role ? { role: account.role } : {}),
          },
          sessions: signIns
            .map((v) => ownSignIn(v, current))
            .sort((a, b) => Number(b.current) - Number(a.current))
            .map((v) => ({
              id: v.id,
              description: v.description,
              current: v.current,
              device: deviceOf(v.user_agent),
              ip: v.ip,
              createdAt: v.created_at,
              lastUsedAt: v.last_used_at,
            })),
          apps: apps.map((a) => ({
            id: a.id,
            name: a.client.name,
            logo: a.client.logo_uri,
            scopes: a.scopes.map((x) => x.description),
            grantedAt: a.granted_at,
            lastUsedAt: a.last_used_at,
          })),
          activity: activity.map((e) => ({
            description: e.description,
            time: e.time,
            ip: e.ip,
            failed: e.outcome === 'failure',
            app: e.client_id ? (appNames.get(e.client_id) ?? e.client_id) : null,
          })),
        }),
      );
    },
  );

  defineRoute(router, ops, pageRoute('get', SIGN_IN, 'Sign in to the account page', { 200: html, 303: seeOther }), async (ctx) => {
    if (await signedIn(ctx)) {
      redirect(ctx, HOME);
      return;
    }
    render(
      ctx,
      200,
      signInPage({
        brand: s.config.branding,
        action: SIGN_IN,
        csrf: guard.signInToken(ctx),
        forgotPath: FORGOT_PASSWORD_PATH,
        flash: guard.takeFlash<Flash>(ctx),
      }),
    );
  });

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', SIGN_IN, 'Sign in (email, password, account type; csrf)', { 303: seeOther, 403: html }), body: signInBody },
    async (ctx, { body }) => {
      if (!guard.fromOwnPage(ctx) || !guard.signInTokenOk(ctx, body.csrf)) {
        refused(ctx);
        return;
      }
      const actorType: ActorType = body.account_type === 'user' ? 'user' : 'customer';
      const email = (body.email ?? '').trim().slice(0, 320);
      const failed = (text: string) => redirect(ctx, SIGN_IN, { kind: 'error', form: 'sign-in', text, email, actorType });
      if (!email || !body.password) return failed('Enter your email and password.');
      let account: Account | null;
      try {
        account = await s.passwordLogin(ctx, actorType, email, body.password);
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        const wait = Number(err.headers['Retry-After'] ?? 1);
        return failed(`Too many attempts. Try again in ${wait} second${wait === 1 ? '' : 's'}.`);
      }
      if (!account)
        return failed(
          `The email or password is not correct for a ${actorType === 'user' ? 'staff' : 'customer'} account. Check the account type too.`,
        );
      // A new session each time (never one a page planted before the sign-in); a previous one ends.
      const previous = ctx.cookies.get(SESSION_COOKIE, { signed: true });
      if (previous) await endSession(previous);
      const ttl = actorType === 'user' ? s.config.ttl.admin : s.config.ttl.customer;
      const granted = {
        ...(account.role ? { role: account.role } : {}),
        scopes: s.config.roleScopes[actorType === 'user' ? (account.role ?? 'member') : 'customer'],
      };
      const standing = currentStanding(account, granted, s.config.roleScopes);
      const { id } = await s.sessions.create(
        {
          actor_id: account.id,
          actor_type: actorType,
          auth_identity_id: authIdentityIdOf(account.id),
          app_metadata: appMetadataOf(actorType, account.id),
          ...(standing.role ? { role: standing.role } : {}),
          scopes: standing.scopes,
          // A lineage of its own with no token: signing out (or "everywhere") revokes it and the session ends.
          sid: newId(),
          sign_in_ends_at: new Date(Date.now() + ttl * 1000).toISOString(),
        },
        ttl,
        signInClientOf(ctx),
      );
      writeSessionCookie(ctx, id, { maxAgeSeconds: ttl });
      redirect(ctx, HOME);
    },
  );

  async function endSession(sessionId: string): Promise<void> {
    // As DELETE /auth/session: the session and its sign-in end with their index entries and records.
    const session = await s.sessions.end(sessionId);
    // The page's sign-in issued no token unless one was refreshed from the session (then it is listed
    // as a lineage); otherwise its revocation need only outlast the session.
    if (session?.sid && !(await s.signIns.endRef(session.actor_id, 'lineage', session.sid)))
      await s.revocations.revokeLineage(session.sid, Date.parse(session.expires_at));
  }

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', '/account/sign-out', 'Sign out of the account page (csrf)', { 303: seeOther, 403: html }), body: csrfOnly },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      await endSession(signed.sessionId);
      await s.audit.record('auth.logout', {
        actor: { type: signed.account.actor_type, id: signed.account.id },
        subject: { type: signed.account.actor_type, id: signed.account.id },
        request: auditRequest(ctx),
        data: { surface: 'account', cookie_session: true },
      });
      writeSessionCookie(ctx, null);
      redirect(ctx, SIGN_IN, { kind: 'ok', text: 'You are signed out.' });
    },
  );

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', '/account/profile', 'Save the name fields (csrf)', { 303: seeOther, 403: html }), body: profileBody },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      await actions.updateProfile(ctx, signed.account, {
        ...(body.first_name !== undefined ? { first_name: body.first_name.trim() } : {}),
        ...(body.last_name !== undefined ? { last_name: body.last_name.trim() } : {}),
      });
      redirect(ctx, `${HOME}#profile-h`, { kind: 'ok', form: 'profile', text: 'Profile saved.' });
    },
  );

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', '/account/password', 'Change the password (csrf)', { 303: seeOther, 403: html }), body: passwordBody },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      const back = `${HOME}#password-h`;
      // No fragment on an error: the browser then focuses the field in error (autofocus is skipped on a page opened at a fragment).
      const failed = (text: string, field: string) => redirect(ctx, HOME, { kind: 'error', form: 'password', text, field });
      if (!body.current_password) return failed('Enter your current password.', 'current_password');
      if (!body.new_password) return failed('Enter a new password.', 'new_password');
      if (body.new_password !== body.confirm_password) return failed('The two new passwords are not the same.', 'confirm_password');
      try {
        const ended = await actions.changePassword(ctx, signed.principal, signed.account, {
          current: body.current_password,
          next: body.new_password,
          signOutOthers: body.sign_out_others === 'on',
        });
        const others = ended ? ` ${ended} other sign-in${ended === 1 ? '' : 's'} ended.` : '';
        redirect(ctx, back, { kind: 'ok', form: 'password', text: `Password changed.${others}` });
      } catch (err) {
        if (err instanceof WrongCurrentPasswordError) return failed('The current password is not correct.', 'current_password');
        if (err instanceof WeakPasswordError) return failed(`${err.message}.`, 'new_password');
        if (err instanceof RateLimitedError) {
          const wait = Number(err.headers['Retry-After'] ?? 1);
          return failed(`Too many wrong passwords. Try again in ${wait} second${wait === 1 ? '' : 's'}.`, 'current_password');
        }
        throw err;
      }
    },
  );

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', '/account/sessions/:id/end', 'End one sign-in (csrf)', { 303: seeOther, 403: html }), body: csrfOnly },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      const own = currentSignInIds(ctx, s.signIns, signed.principal).has(ctx.params.id);
      const ended = await actions.endSignIn(ctx, signed.account, ctx.params.id);
      if (own && ended) {
        writeSessionCookie(ctx, null);
        redirect(ctx, SIGN_IN, { kind: 'ok', text: 'You are signed out.' });
        return;
      }
      redirect(
        ctx,
        `${HOME}#sessions-h`,
        ended ? { kind: 'ok', text: 'Signed out of that device.' } : { kind: 'error', text: 'That sign-in had already ended.' },
      );
    },
  );

  defineRoute(
    router,
    ops,
    {
      ...pageRoute('post', '/account/sessions/sign-out-others', 'End every other sign-in (csrf)', { 303: seeOther, 403: html }),
      body: csrfOnly,
    },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      const ended = await actions.signOutOthers(ctx, signed.principal, signed.account);
      redirect(ctx, `${HOME}#sessions-h`, {
        kind: 'ok',
        text: ended
          ? `Signed out everywhere else (${ended} sign-in${ended === 1 ? '' : 's'} ended).`
          : 'You were not signed in anywhere else.',
      });
    },
  );

  defineRoute(
    router,
    ops,
    { ...pageRoute('post', '/account/apps/:id/remove', "Remove an app's access (csrf)", { 303: seeOther, 403: html }), body: csrfOnly },
    async (ctx, { body }) => {
      const signed = await formPost(ctx, body.csrf);
      if (!signed) return;
      const apps = await s.connectedApps.list(signed.account.id);
      const name = apps.find((a) => a.id === ctx.params.id)?.client.name;
      const grant = await actions.removeApp(ctx, signed.account, ctx.params.id);
      redirect(
        ctx,
        `${HOME}#apps-h`,
        grant
          ? { kind: 'ok', text: `Access removed for ${name ?? grant.client_id}.` }
          : { kind: 'error', text: 'That app had no access any more.' },
      );
    },
  );

  return router;
}

/** "Chrome 126 on Windows 10 (desktop)", from the parsed user agent. */
function deviceOf(ua: { browser: string | null; os: string | null; device: string | null } | null): string {
  if (!ua || (!ua.browser && !ua.os)) return 'Unknown device';
  // "Chrome 126", not "Chrome 126.0.6478.126": the major version is what a person recognises.
  const browser = ua.browser?.replace(/^(.*?\d+)(\.\d+)+$/, '$1') ?? 'A browser';
  const what = [browser, ua.os ? `on ${ua.os}` : ''].filter(Boolean).join(' ');
  return ua.device ? `${what} (${ua.device})` : what;
}
