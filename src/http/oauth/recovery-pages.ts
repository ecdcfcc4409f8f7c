import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { ActorType } from '../../accounts/accounts.ts';
import { WeakPasswordError } from '../../accounts/password-policy.ts';
import { safeReturnPath } from '../../accounts/password-resets.ts';
import type { Audit, AuditRequest } from '../../audit/audit.ts';
import { InvalidResetTokenError } from '../../errors.ts';
import { INTERACTION_PATH } from '../../oauth/interactions.ts';
import { auditRequest } from '../audit-request.ts';
import { redirectSeeOther, sendPage } from '../html-page.ts';
import { defineRoute, type OperationRegistry } from '../route.ts';
import { PASSWORD_HINT } from './pages.ts';
import { FORGOT_PATH, PASSWORD_CHANGED_NOTICE, RESET_PATH } from './recovery-paths.ts';
import { forgotPage, messagePage, resetPage, type Branding } from './views.ts';

export interface RecoveryDeps {
  /** The provider now (it is replaced when the signing keys change). */
  provider: () => Provider;
  operations: OperationRegistry;
  brand: Branding;
  audit: Audit;
  /** The reset API's quotas, background sending and audit record, as for the API's reset request. */
  resetRequests: {
    request(input: { ip: string; actorType: ActorType; email: string; returnTo?: string; request: AuditRequest }): Promise<void>;
  };
  resets: {
    peek(token: string): Promise<{ actorType: ActorType; returnTo?: string } | null>;
    complete(input: {
      token: string;
      actorType: ActorType;
      password: string;
    }): Promise<{ accountId: string; signInsEnded: number; returnTo?: string }>;
  };
}

const html = { description: 'An HTML page' };
const TAGS = ['account'];
const DONE_PATH = `${RESET_PATH}/done`;
const FLASH = 'pc_reset_flash';

/**
 * "Forgot password?" and the emailed link's "choose a new password" page, for users and customers.
 * The request page answers the same whether the email has an account; the choose page spends the
 * token once and returns to the sign-in the user started from (a same-origin /oauth/ path kept
 * with the token, server-side), else to a "password changed" page. Every POST answers 303.
 */
export function createRecoveryRouter(d: RecoveryDeps): Router {
  const router = new Router();
  const { brand } = d;
  const page = sendPage;
  const redirect = redirectSeeOther;

  /** Who resets: the kind of account the sign-in being returned to signs in, else what the link says. */
  async function actorFor(returnTo: string | undefined, asked: unknown): Promise<ActorType> {
    const uid = returnTo?.startsWith(`${INTERACTION_PATH}/`) ? returnTo.slice(INTERACTION_PATH.length + 1).split('/')[0] : undefined;
    const interaction = uid ? await d.provider().Interaction.find(uid) : undefined;
    const clientId = interaction?.params?.client_id;
    const client = typeof clientId === 'string' ? await d.provider().Client.find(clientId) : undefined;
    if (client) return client.metadata().login_actor === 'user' ? 'user' : 'customer';
    return asked === 'user' ? 'user' : 'customer';
  }

  defineRoute(
    router,
    d.operations,
    {
      method: 'get',
      path: FORGOT_PATH,
      page: true,
      tags: TAGS,
      summary: 'The password-reset request page',
      query: z.looseObject({
        return_to: z.string().max(512).optional(),
        actor: z.string().max(16).optional(),
        sent: z.string().max(4).optional(),
      }),
      responses: { 200: html },
    },
    async (ctx, { query }) => {
      const returnTo = safeReturnPath(query.return_to);
      page(
        ctx,
        200,
        forgotPage({
          brand,
          action: FORGOT_PATH,
          returnTo,
          actor: query.actor === 'user' ? 'user' : 'customer',
          sent: query.sent === '1',
          backUrl: returnTo,
        }),
      );
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: FORGOT_PATH,
      page: true,
      tags: TAGS,
      summary: 'Ask for a password-reset link (email, actor, return_to)',
      description:
        'Always 303 to the same "check your email" page, whether the email has an account and whether the request was within the reset quotas. For an account, the `auth.password_reset` event carries the token and the link.',
      body: z.looseObject({
        email: z.string().max(320).optional(),
        actor: z.string().max(16).optional(),
        return_to: z.string().max(512).optional(),
      }),
      responses: { 303: { description: 'To the "check your email" page' } },
    },
    async (ctx, { body }) => {
      const returnTo = safeReturnPath(body.return_to);
      const actor = await actorFor(returnTo, body.actor);
      await d.resetRequests.request({ ip: ctx.ip, actorType: actor, email: body.email ?? '', returnTo, request: auditRequest(ctx) });
      redirect(ctx, `${FORGOT_PATH}?${new URLSearchParams({ sent: '1', ...(returnTo ? { return_to: returnTo } : {}) })}`);
    },
  );

  const expired = (ctx: Context) =>
    page(
      ctx,
      400,
      messagePage(
        'This link has expired',
        'The password-reset link has expired or was already used. Ask for a new one.',
        {},
        { brand, link: { href: FORGOT_PATH, text: 'Ask for a new link' } },
      ),
    );
  const flashOptions = (ctx: Context) => ({
    path: RESET_PATH,
    signed: true,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.secure,
    maxAge: 60_000,
  });

  defineRoute(
    router,
    d.operations,
    {
      method: 'get',
      path: RESET_PATH,
      page: true,
      tags: TAGS,
      summary: 'The "choose a new password" page of the emailed link (?token=)',
      query: z.looseObject({ token: z.string().max(256).optional() }),
      responses: { 200: html, 400: html },
    },
    async (ctx, { query }) => {
      const token = query.token ?? '';
      if (!(await d.resets.peek(token))) return expired(ctx);
      const error = ctx.cookies.get(FLASH, { signed: true });
      if (error) ctx.cookies.set(FLASH, null, flashOptions(ctx));
      page(
        ctx,
        200,
        resetPage({
          brand,
          action: RESET_PATH,
          token,
          error: error ? Buffer.from(error, 'base64url').toString('utf8') : undefined,
          passwordHint: PASSWORD_HINT,
        }),
      );
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: RESET_PATH,
      page: true,
      tags: TAGS,
      summary: 'Set the new password (token, password, confirm)',
      description:
        'Always 303: back to the page with the reason (a password the policy refuses leaves the link usable), or, once set, to the sign-in the user came from, else to a "password changed" page. Setting it signs the account out everywhere.',
      body: z.looseObject({
        token: z.string().max(256).optional(),
        password: z.string().max(4096).optional(),
        confirm: z.string().max(4096).optional(),
      }),
      responses: { 303: { description: 'Back to the page, to the sign-in, or to the "password changed" page' } },
    },
    async (ctx, { body }) => {
      const token = body.token ?? '';
      const again = `${RESET_PATH}?${new URLSearchParams({ token })}`;
      const back = (message: string) => {
        ctx.cookies.set(FLASH, Buffer.from(message).toString('base64url'), flashOptions(ctx));
        redirect(ctx, again);
      };
      const opened = await d.resets.peek(token);
      if (!opened) return redirect(ctx, again);
      if (!body.password) return back('Enter a new password.');
      if (body.password !== body.confirm) return back('The two passwords are not the same.');
      let done: Awaited<ReturnType<RecoveryDeps['resets']['complete']>>;
      try {
        done = await d.resets.complete({ token, actorType: opened.actorType, password: body.password });
      } catch (err) {
        if (err instanceof WeakPasswordError) return back(err.message);
        if (err instanceof InvalidResetTokenError) return redirect(ctx, again);
        throw err;
      }
      await d.audit.record('auth.password_reset.completed', {
        actor: { type: opened.actorType, id: done.accountId },
        subject: { type: opened.actorType, id: done.accountId },
        request: auditRequest(ctx),
        data: { sign_ins_ended: done.signInsEnded },
      });
      redirect(ctx, done.returnTo ? `${done.returnTo}?notice=${PASSWORD_CHANGED_NOTICE}` : DONE_PATH);
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'get',
      path: DONE_PATH,
      page: true,
      tags: TAGS,
      summary: 'The "password changed" page',
      responses: { 200: html },
    },
    async (ctx) => {
      page(
        ctx,
        200,
        messagePage(
          'Password changed',
          'Your password has been changed and you have been signed out everywhere. Sign in again with your new password.',
          {},
          { brand },
        ),
      );
    },
  );

  return router;
}
