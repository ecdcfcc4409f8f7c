import { createHmac, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import Provider, { errors } from 'oidc-provider';
import { z } from 'zod';
import type { Account } from '../../accounts/accounts.ts';
import type { Audit } from '../../audit/audit.ts';
import { auditRequest } from '../audit-request.ts';
import { RateLimitedError, ServiceUnavailableError } from '../../errors.ts';
import { defineRoute, type OperationRegistry } from '../route.ts';
import type { ActorType } from '../../accounts/accounts.ts';
import { INTERACTION_PATH } from '../../oauth/interactions.ts';
import { isUnavailable, RETRY_AFTER_SECONDS } from '../../oauth/unavailable.ts';
import { describeScope } from '../../oauth/scopes.ts';
import { consentPage, loginPage, messagePage, STYLESHEET, STYLESHEET_PATH } from './views.ts';

/** The password check behind the login page (the throttled login every surface shares). */
export type LoginCheck = (ctx: Context, actorType: ActorType, email: string, password: string) => Promise<Account | null>;

export interface PagesDeps {
  /** The provider now (it is replaced when the signing keys change). */
  provider: () => Provider;
  operations: OperationRegistry;
  cookieSecret: string;
  login: LoginCheck;
  findAccount: (id: string) => Promise<Account | null>;
  audit: Audit;
}

const formBody = z.looseObject({ csrf: z.string().max(200).optional() });
const loginBody = z.looseObject({
  csrf: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  password: z.string().max(1024).optional(),
});
const html = { description: 'An HTML page' };
const TAGS = ['oauth'];

/**
 * Our login and consent pages. CSRF: every form carries an HMAC of the interaction id under the
 * cookie secret, and the interaction itself is bound to a signed, SameSite=Lax cookie, so a form
 * posted from another site, or for someone else's interaction, is refused.
 */
export function createPagesRouter(d: PagesDeps): Router {
  const router = new Router();
  const { provider } = d;
  const csrfFor = (uid: string) => createHmac('sha256', d.cookieSecret).update(`oauth-csrf:${uid}`).digest('base64url');
  const csrfOk = (uid: string, given: unknown) => {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(csrfFor(uid));
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const page = (ctx: Context, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    // No script anywhere on these pages; only our stylesheet. (No form-action: browsers apply it to
    // the redirects after a submit, which lead back to the client.)
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'");
    ctx.body = body;
  };
  const redirect = (ctx: Context, to: string) => {
    ctx.redirect(to);
    ctx.status = 303;
  };

  // The store unavailable (or every password hasher busy): a page that says so, never a 500.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isUnavailable(err) && !(err instanceof ServiceUnavailableError)) throw err;
      ctx.set(
        'Retry-After',
        err instanceof ServiceUnavailableError ? (err.headers['Retry-After'] ?? String(RETRY_AFTER_SECONDS)) : String(RETRY_AFTER_SECONDS),
      );
      page(ctx, 503, messagePage('Temporarily unavailable', 'The service is temporarily unavailable. Try again in a moment.'));
    }
  });

  /** The interaction this request belongs to (by its cookie), or an explanatory page. */
  async function interactionOf(ctx: Context & { params: Record<string, string> }) {
    try {
      const details = await provider().interactionDetails(ctx.req, ctx.res);
      if (details.uid === ctx.params.uid) return details;
    } catch (err) {
      if (!(err instanceof errors.SessionNotFound)) throw err;
    }
    page(
      ctx,
      400,
      messagePage(
        'This sign-in has expired',
        'The sign-in request has expired or was started in another browser. Go back to the application and try again.',
      ),
    );
    return undefined;
  }
  async function clientName(clientId: unknown): Promise<{ name: string; loginActor: ActorType }> {
    const client = typeof clientId === 'string' ? await provider().Client.find(clientId) : undefined;
    const meta = client?.metadata();
    return {
      name: (meta?.client_name as string | undefined) ?? String(clientId ?? 'the application'),
      loginActor: meta?.login_actor === 'user' ? 'user' : 'customer',
    };
  }
  const actions = (uid: string) => ({
    login: `${INTERACTION_PATH}/${encodeURIComponent(uid)}/login`,
    confirm: `${INTERACTION_PATH}/${encodeURIComponent(uid)}/confirm`,
    abort: `${INTERACTION_PATH}/${encodeURIComponent(uid)}/abort`,
  });

  router.get(STYLESHEET_PATH, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });

  defineRoute(
    router,
    d.operations,
    {
      method: 'get',
      path: `${INTERACTION_PATH}/:uid`,
      page: true,
      tags: TAGS,
      summary: 'The login or consent page of an authorization request',
      responses: { 200: html, 400: html },
    },
    async (ctx) => {
      const details = await interactionOf(ctx);
      if (!details) return;
      const uid = details.uid;
      const { name, loginActor } = await clientName(details.params.client_id);
      const a = actions(uid);
      if (details.prompt.name === 'login') {
        page(ctx, 200, loginPage({ action: a.login, abortAction: a.abort, csrf: csrfFor(uid), clientName: name, audience: loginActor }));
        return;
      }
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const requested = [...new Set([...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()])];
      const account = details.session?.accountId ? await d.findAccount(details.session.accountId) : null;
      page(
        ctx,
        200,
        consentPage({
          action: a.confirm,
          abortAction: a.abort,
          csrf: csrfFor(uid),
          clientName: name,
          email: account?.email,
          scopes: requested.map((s) => ({ name: s, description: describeScope(s) })),
        }),
      );
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/login`,
      page: true,
      tags: TAGS,
      summary: 'Submit the login form (email, password, csrf)',
      body: loginBody,
      responses: { 303: { description: 'Back to the authorization endpoint' }, 401: html, 403: html, 429: html },
    },
    async (ctx, { body }) => {
      const details = await interactionOf(ctx);
      if (!details) return;
      const uid = details.uid;
      if (!csrfOk(uid, body.csrf) || details.prompt.name !== 'login') {
        page(ctx, 403, messagePage('Request refused', 'This form could not be verified. Go back to the application and try again.'));
        return;
      }
      const { name, loginActor } = await clientName(details.params.client_id);
      const email = (body.email ?? '').trim();
      const again = (status: number, error: string) =>
        page(
          ctx,
          status,
          loginPage({
            action: actions(uid).login,
            abortAction: actions(uid).abort,
            csrf: csrfFor(uid),
            clientName: name,
            audience: loginActor,
            email,
            error,
          }),
        );
      if (!email || !body.password) return again(400, 'Enter your email and password.');
      let account: Account | null;
      try {
        account = await d.login(ctx, loginActor, email, body.password);
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
        return again(429, 'Too many attempts. Wait a moment and try again.');
      }
      if (!account) return again(401, 'The email or password is incorrect.');
      const to = await provider().interactionResult(
        ctx.req,
        ctx.res,
        { login: { accountId: account.id } },
        { mergeWithLastSubmission: false },
      );
      redirect(ctx, to);
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/confirm`,
      page: true,
      tags: TAGS,
      summary: 'Allow: grant the requested scopes (csrf)',
      body: formBody,
      responses: { 303: { description: 'Back to the authorization endpoint' }, 403: html },
    },
    async (ctx, { body }) => {
      const details = await interactionOf(ctx);
      if (!details) return;
      if (!csrfOk(details.uid, body.csrf) || details.prompt.name !== 'consent' || !details.session?.accountId) {
        page(ctx, 403, messagePage('Request refused', 'This form could not be verified. Go back to the application and try again.'));
        return;
      }
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const grant =
        (details.grantId ? await provider().Grant.find(details.grantId) : undefined) ??
        new (provider().Grant)({ accountId: details.session.accountId, clientId: String(details.params.client_id) });
      if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
        grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      const accountId = details.session.accountId;
      const actor = { type: accountId.startsWith('cus_') ? 'customer' : 'user', id: accountId } as const;
      await d.audit.record('oauth.grant.given', {
        actor,
        subject: { type: 'oauth_grant', id: grantId },
        request: auditRequest(ctx),
        data: { client_id: String(details.params.client_id), scope: [...(missing.missingOIDCScope ?? [])].join(' ') },
      });
      const to = await provider().interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      redirect(ctx, to);
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/abort`,
      page: true,
      tags: TAGS,
      summary: 'Cancel or deny: the client receives access_denied (csrf)',
      body: formBody,
      responses: { 303: { description: 'Back to the client with error=access_denied' }, 403: html },
    },
    async (ctx, { body }) => {
      const details = await interactionOf(ctx);
      if (!details) return;
      if (!csrfOk(details.uid, body.csrf)) {
        page(ctx, 403, messagePage('Request refused', 'This form could not be verified. Go back to the application and try again.'));
        return;
      }
      const to = await provider().interactionResult(
        ctx.req,
        ctx.res,
        { error: 'access_denied', error_description: 'The user denied the request' },
        { mergeWithLastSubmission: false },
      );
      redirect(ctx, to);
    },
  );

  return router;
}
