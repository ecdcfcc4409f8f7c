import { createHmac, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import Provider, { errors, type InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Account } from '../../accounts/accounts.ts';
import type { Audit } from '../../audit/audit.ts';
import { auditRequest } from '../audit-request.ts';
import { RateLimitedError, ServiceUnavailableError } from '../../errors.ts';
import { redirectSeeOther, sendPage } from '../html-page.ts';
import { defineRoute, type OperationRegistry } from '../route.ts';
import type { ActorType } from '../../accounts/accounts.ts';
import { DuplicateEmailError } from '../../accounts/accounts.ts';
import { WeakPasswordError, PASSWORD_MIN_LENGTH } from '../../accounts/password-policy.ts';
import { INTERACTION_PATH } from '../../oauth/interactions.ts';
import { isUnavailable, RETRY_AFTER_SECONDS } from '../../oauth/unavailable.ts';
import { describeScope } from '../../oauth/scopes.ts';
import {
  consentPage,
  loginPage,
  messagePage,
  signupPage,
  stylesheet,
  STYLESHEET_PATH,
  type Branding,
  type ConsentClient,
} from './views.ts';
import { readChain, readMemo, writeChain, writeMemo, type InteractionMemo } from './interaction-cookie.ts';
import { ACCOUNT_PAGE_PATH, FORGOT_PATH, PASSWORD_CHANGED_NOTICE } from './recovery-paths.ts';

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
  brand: Branding;
  issuer: string;
  /** Customer self sign-up on the sign-in page (CUSTOMER_SIGNUP); absent: off. */
  signup?: {
    /** Counts a sign-up against its client address (RateLimitedError past the quota). */
    admit: (ctx: Context) => Promise<void>;
    createCustomer: (email: string, password: string) => Promise<Account>;
  };
}

const formBody = z.looseObject({ csrf: z.string().max(200).optional() });
const loginBody = z.looseObject({
  csrf: z.string().max(200).optional(),
  email: z.string().max(320).optional(),
  password: z.string().max(1024).optional(),
});
const html = { description: 'An HTML page' };
const seeOther = { description: 'Post/redirect/get: to the page (which shows any error) or back to the authorization endpoint' };
const TAGS = ['oauth'];
export const PASSWORD_HINT = `At least ${PASSWORD_MIN_LENGTH} characters, and not one of the most common passwords.`;

/** The messages a failed form leaves for the next GET (the cookie carries the key, never free text). */
const MESSAGES: Record<string, string> = {
  missing: 'Enter your email and password.',
  incorrect: 'The email or password is incorrect.',
  signup_failed: 'We could not create an account with these details. If you already have an account, sign in or reset your password.',
  invalid_email: 'Enter a valid email address.',
};
const waitWords = (seconds: number) =>
  seconds < 90 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`;

/**
 * Our login, sign-up and consent pages. CSRF: every form carries an HMAC of the interaction id
 * under the cookie secret, and the interaction itself is bound to a signed, SameSite=Lax cookie, so
 * a form posted from another site, or for someone else's interaction, is refused.
 *
 * Post/redirect/get: every POST answers 303, to the page (whose GET shows the error the POST left
 * in the interaction's signed cookie) or onwards; so Back and reload never resubmit a form. An
 * interaction oidc-provider has already finished or forgotten sends the user back to the app.
 */
export function createPagesRouter(d: PagesDeps): Router {
  const router = new Router();
  const { provider, brand } = d;
  const csrfFor = (uid: string) => createHmac('sha256', d.cookieSecret).update(`oauth-csrf:${uid}`).digest('base64url');
  const csrfOk = (uid: string, given: unknown) => {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(csrfFor(uid));
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const page = sendPage;
  const redirect = redirectSeeOther;
  const refused = (ctx: Context) =>
    page(
      ctx,
      403,
      messagePage('Request refused', 'This form could not be verified. Go back to the application and try again.', {}, { brand }),
    );

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
      page(
        ctx,
        503,
        messagePage('Temporarily unavailable', 'The service is temporarily unavailable. Try again in a moment.', {}, { brand }),
      );
    }
  });

  type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
  /** The live interaction this request belongs to (by its cookie), or undefined. */
  async function liveInteraction(ctx: Context & { params: Record<string, string> }): Promise<Details | undefined> {
    try {
      const details = await provider().interactionDetails(ctx.req, ctx.res);
      if (details.uid === ctx.params.uid) return details;
    } catch (err) {
      if (!(err instanceof errors.SessionNotFound)) throw err;
    }
    return undefined;
  }

  interface ClientView extends ConsentClient {
    loginActor: ActorType;
    redirectUris: string[];
  }
  async function clientOf(clientId: unknown): Promise<ClientView> {
    const client = typeof clientId === 'string' ? await provider().Client.find(clientId) : undefined;
    const meta = client?.metadata();
    const str = (k: string) => (typeof meta?.[k] === 'string' ? (meta[k] as string) : undefined);
    return {
      name: str('client_name') ?? String(clientId ?? 'the application'),
      loginActor: meta?.login_actor === 'user' ? 'user' : 'customer',
      logoUri: str('logo_uri'),
      clientUri: str('client_uri'),
      policyUri: str('policy_uri'),
      tosUri: str('tos_uri'),
      redirectUris: (meta?.redirect_uris as string[] | undefined) ?? [],
    };
  }
  const base = (uid: string) => `${INTERACTION_PATH}/${encodeURIComponent(uid)}`;
  const actions = (uid: string) => ({
    page: base(uid),
    login: `${base(uid)}/login`,
    confirm: `${base(uid)}/confirm`,
    abort: `${base(uid)}/abort`,
    switch: `${base(uid)}/switch`,
    signup: `${base(uid)}/signup`,
  });

  /** Remember the interaction in its cookie (for Back after it ends) and mark it the chain's newest. */
  function remember(ctx: Context, details: Details, extra: Partial<InteractionMemo> = {}): InteractionMemo {
    const p = details.params;
    const memo: InteractionMemo = {
      uid: details.uid,
      cid: String(details.cid ?? details.uid),
      client_id: String(p.client_id),
      ...(typeof p.redirect_uri === 'string' ? { redirect_uri: p.redirect_uri } : {}),
      ...(typeof p.state === 'string' ? { state: p.state } : {}),
      ...(typeof p.response_mode === 'string' ? { response_mode: p.response_mode } : {}),
      ...extra,
    };
    writeMemo(ctx, memo);
    const chain = readChain(ctx, memo.cid);
    if (chain?.uid !== memo.uid) writeChain(ctx, memo.cid, { uid: memo.uid });
    return memo;
  }

  /**
   * The interaction is gone (finished, expired, or another browser's). With our cookie we know the
   * request it belonged to: the chain's newer interaction if one lives (Back from consent), else
   * the app: after Allow, a page that says it is done; otherwise the app's redirect URI with
   * access_denied. Without it, words and no dead end.
   */
  async function whenGone(ctx: Context, uid: string): Promise<void> {
    const memo = readMemo(ctx, uid);
    if (!memo) {
      page(
        ctx,
        400,
        messagePage(
          'This sign-in has expired',
          'The sign-in request has expired or was started in another browser. Go back to the application and try again.',
          {},
          { brand },
        ),
      );
      return;
    }
    const chain = readChain(ctx, memo.cid);
    if (chain && chain.uid !== uid && !chain.done && (await provider().Interaction.find(chain.uid)))
      return redirect(ctx, actions(chain.uid).page);
    const client = await clientOf(memo.client_id);
    const home = client.clientUri ? { href: client.clientUri, text: `Go to ${client.name}` } : undefined;
    if (chain?.done === 'allowed') {
      page(
        ctx,
        200,
        messagePage(
          `You are signed in to ${client.name}`,
          `This sign-in is complete: ${client.name} already has your answer. ${home ? '' : `You can close this page and go back to ${client.name}.`}`,
          {},
          { brand, link: home },
        ),
      );
      return;
    }
    // The redirect URI was checked by the provider when the request began; the client may have
    // changed since, so it must still be registered.
    const mode = memo.response_mode ?? 'query';
    if (memo.redirect_uri && client.redirectUris.includes(memo.redirect_uri) && (mode === 'query' || mode === 'fragment')) {
      const back = new URL(memo.redirect_uri);
      const params = new URLSearchParams({ error: 'access_denied', error_description: 'The sign-in was cancelled or has expired' });
      if (memo.state !== undefined) params.set('state', memo.state);
      params.set('iss', d.issuer);
      if (mode === 'fragment') back.hash = params.toString();
      else for (const [k, v] of params) back.searchParams.set(k, v);
      return redirect(ctx, back.href);
    }
    page(
      ctx,
      400,
      messagePage(
        'This sign-in has ended',
        `The sign-in request has ended. Go back to ${client.name} and try again.`,
        {},
        { brand, link: home },
      ),
    );
  }

  /** A POST for an interaction that is no longer live: to its page, whose GET explains or goes back to the app. */
  async function forPost(ctx: Context & { params: Record<string, string> }) {
    const details = await liveInteraction(ctx);
    if (!details) redirect(ctx, actions(ctx.params.uid!).page);
    return details;
  }

  /** End the POST: leave `error` for the page's GET and go there. */
  function backWithError(ctx: Context, memo: InteractionMemo, flash: InteractionMemo['flash']) {
    writeMemo(ctx, { ...memo, flash });
    redirect(ctx, actions(memo.uid).page);
  }
  function flashMessage(flash: InteractionMemo['flash']): string | undefined {
    if (!flash) return undefined;
    if (flash.error === 'throttled') {
      const wait = Math.max(1, Math.ceil(((flash.retryAt ?? Date.now()) - Date.now()) / 1000));
      return `Too many attempts. Try again in ${waitWords(wait)}.`;
    }
    return MESSAGES[flash.error] ?? flash.error;
  }
  /** The throttle's wait, from its Retry-After, kept as a time so a reload shows what is left. */
  function throttled(ctx: Context, err: RateLimitedError): NonNullable<InteractionMemo['flash']> {
    for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
    return { error: 'throttled', retryAt: Date.now() + Number(err.headers['Retry-After'] ?? 1) * 1000 };
  }

  const forgotUrl = (uid: string) => `${FORGOT_PATH}?${new URLSearchParams({ return_to: actions(uid).page })}`;

  router.get(STYLESHEET_PATH, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet(brand);
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
      description:
        'For an interaction that has ended: back to the app (error=access_denied), or a page saying it is complete, or why it cannot go on.',
      responses: { 200: html, 303: { description: 'To the live interaction of the same request, or back to the app' }, 400: html },
    },
    async (ctx) => {
      const details = await liveInteraction(ctx);
      if (!details) return whenGone(ctx, ctx.params.uid);
      const uid = details.uid;
      const previous = readMemo(ctx, uid);
      // The error is shown once: a reload shows the plain page.
      const memo = remember(ctx, details, previous?.switching ? { switching: true } : {});
      const client = await clientOf(details.params.client_id);
      const a = actions(uid);
      const message = flashMessage(previous?.flash);
      if (details.prompt.name === 'login' || memo.switching) {
        page(
          ctx,
          200,
          loginPage({
            brand,
            action: a.login,
            abortAction: a.abort,
            csrf: csrfFor(uid),
            clientName: client.name,
            audience: client.loginActor,
            email: previous?.flash?.email,
            error: message,
            forgotUrl: forgotUrl(uid),
            notice: ctx.query.notice === PASSWORD_CHANGED_NOTICE ? 'Your password has been changed. Sign in with the new one.' : undefined,
            signupUrl: d.signup && client.loginActor === 'customer' ? a.signup : undefined,
          }),
        );
        return;
      }
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const asked = new Set([...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()]);
      // Everything the app will hold afterwards: what the remembered grant already has, plus what is new.
      const held = new Set<string>();
      const grant = details.grantId ? await provider().Grant.find(details.grantId) : undefined;
      if (grant) {
        for (const s of (grant.getOIDCScope() ?? '').split(' ')) if (s) held.add(s);
        for (const resource of Object.keys(grant.resources ?? {}))
          for (const s of (grant.getResourceScope(resource) ?? '').split(' ')) if (s) held.add(s);
      }
      const all = [...new Set([...held, ...asked])];
      const account = details.session?.accountId ? await d.findAccount(details.session.accountId) : null;
      page(
        ctx,
        200,
        consentPage({
          brand,
          action: a.confirm,
          abortAction: a.abort,
          switchAction: a.switch,
          csrf: csrfFor(uid),
          client: { ...client, redirectTo: redirectTarget(details.params.redirect_uri) },
          email: account?.email,
          accountUrl: ACCOUNT_PAGE_PATH,
          scopes: all.map((s) => ({ name: s, description: describeScope(s), isNew: asked.has(s) && !held.has(s) })),
        }),
      );
    },
  );

  /** Finish the login for `account`, to the provider (which goes on to consent or to the app). */
  async function signIn(ctx: Context, account: Account) {
    const result: InteractionResults = { login: { accountId: account.id } };
    const to = await provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    redirect(ctx, to);
  }

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/login`,
      page: true,
      tags: TAGS,
      summary: 'Submit the login form (email, password, csrf)',
      description: 'Always 303: onwards when signed in, else back to the login page, which shows why (and the wait, when throttled).',
      body: loginBody,
      responses: { 303: seeOther, 403: html },
    },
    async (ctx, { body }) => {
      const details = await forPost(ctx);
      if (!details) return;
      const uid = details.uid;
      const memo = readMemo(ctx, uid) ?? remember(ctx, details);
      if (!csrfOk(uid, body.csrf) || (details.prompt.name !== 'login' && !memo.switching)) return refused(ctx);
      const client = await clientOf(details.params.client_id);
      const email = (body.email ?? '').trim().slice(0, 320);
      if (!email || !body.password) return backWithError(ctx, memo, { error: 'missing', email });
      let account: Account | null;
      try {
        account = await d.login(ctx, client.loginActor, email, body.password);
      } catch (err) {
        if (!(err instanceof RateLimitedError)) throw err;
        return backWithError(ctx, memo, { ...throttled(ctx, err), email });
      }
      if (!account) return backWithError(ctx, memo, { error: 'incorrect', email });
      writeMemo(ctx, { ...memo, flash: undefined, switching: undefined });
      await signIn(ctx, account);
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'get',
      path: `${INTERACTION_PATH}/:uid/signup`,
      page: true,
      tags: TAGS,
      summary: 'The sign-up page of an authorization request (customers, when CUSTOMER_SIGNUP is on)',
      responses: { 200: html, 303: { description: 'Back to the interaction page' }, 404: html },
    },
    async (ctx) => {
      const details = await liveInteraction(ctx);
      if (!details) return whenGone(ctx, ctx.params.uid);
      const client = await clientOf(details.params.client_id);
      if (!d.signup || client.loginActor !== 'customer' || details.prompt.name !== 'login') return redirect(ctx, actions(details.uid).page);
      const previous = readMemo(ctx, details.uid);
      remember(ctx, details);
      page(
        ctx,
        200,
        signupPage({
          brand,
          action: actions(details.uid).signup,
          csrf: csrfFor(details.uid),
          clientName: client.name,
          loginUrl: actions(details.uid).page,
          email: previous?.flash?.email,
          error: flashMessage(previous?.flash),
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
      path: `${INTERACTION_PATH}/:uid/signup`,
      page: true,
      tags: TAGS,
      summary: 'Create a customer account and sign in (email, password, csrf)',
      description:
        'Always 303. A new email becomes an account, signed in. A taken email with its right password signs in; with another, the same words as any failure (the page never says the email is taken).',
      body: loginBody,
      responses: { 303: seeOther, 403: html },
    },
    async (ctx, { body }) => {
      const details = await forPost(ctx);
      if (!details) return;
      const uid = details.uid;
      const memo = readMemo(ctx, uid) ?? remember(ctx, details);
      const client = await clientOf(details.params.client_id);
      if (!csrfOk(uid, body.csrf) || !d.signup || client.loginActor !== 'customer' || details.prompt.name !== 'login') return refused(ctx);
      const email = (body.email ?? '').trim().slice(0, 320);
      const back = (flash: InteractionMemo['flash']) => {
        writeMemo(ctx, { ...memo, flash });
        redirect(ctx, actions(uid).signup);
      };
      if (!email || !body.password) return back({ error: 'missing', email });
      if (!z.email().safeParse(email).success) return back({ error: 'invalid_email', email });
      let account: Account | null;
      try {
        await d.signup.admit(ctx);
        account = await d.signup.createCustomer(email, body.password);
        await d.audit.record('customer.registered', {
          actor: { type: 'customer', id: account.id },
          subject: { type: 'customer', id: account.id },
          request: auditRequest(ctx),
          data: { via: 'oauth_sign_up', client_id: String(details.params.client_id) },
        });
      } catch (err) {
        if (err instanceof RateLimitedError) return back({ ...throttled(ctx, err), email });
        if (err instanceof WeakPasswordError) return back({ error: err.message, email });
        if (!(err instanceof DuplicateEmailError)) throw err;
        // Taken: whoever knows its password is its owner, who is signed in like a new account;
        // anyone else reads the words every failure gets.
        try {
          account = await d.login(ctx, 'customer', email, body.password);
        } catch (e) {
          if (e instanceof RateLimitedError) return back({ ...throttled(ctx, e), email });
          throw e;
        }
        if (!account) return back({ error: 'signup_failed', email });
      }
      writeMemo(ctx, { ...memo, flash: undefined });
      await signIn(ctx, account);
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
      const details = await forPost(ctx);
      if (!details) return;
      const memo = readMemo(ctx, details.uid) ?? remember(ctx, details);
      if (!csrfOk(details.uid, body.csrf) || details.prompt.name !== 'consent' || !details.session?.accountId || memo.switching)
        return refused(ctx);
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
      await d.audit.record('oauth_grant.given', {
        actor,
        subject: { type: 'oauth_grant', id: grantId },
        request: auditRequest(ctx),
        data: { client_id: String(details.params.client_id), scope: [...(missing.missingOIDCScope ?? [])].join(' ') },
      });
      writeChain(ctx, memo.cid, { uid: details.uid, done: 'allowed' });
      const to = await provider().interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      redirect(ctx, to);
    },
  );

  defineRoute(
    router,
    d.operations,
    {
      method: 'post',
      path: `${INTERACTION_PATH}/:uid/switch`,
      page: true,
      tags: TAGS,
      summary: '"Not you? Switch account": show the sign-in page for this request (csrf)',
      description: 'Signing in as another account then ends the current sign-in before the request goes on.',
      body: formBody,
      responses: { 303: { description: 'To the sign-in page of the same request' }, 403: html },
    },
    async (ctx, { body }) => {
      const details = await forPost(ctx);
      if (!details) return;
      if (!csrfOk(details.uid, body.csrf)) return refused(ctx);
      remember(ctx, details, { switching: true });
      redirect(ctx, actions(details.uid).page);
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
      const details = await forPost(ctx);
      if (!details) return;
      if (!csrfOk(details.uid, body.csrf)) return refused(ctx);
      const memo = readMemo(ctx, details.uid) ?? remember(ctx, details);
      writeChain(ctx, memo.cid, { uid: details.uid, done: 'denied' });
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

/** What the consent page names as the destination: the redirect URI's host, or an app's own scheme. */
function redirectTarget(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  return url.host || `${url.protocol.replace(/:$/, '')} (an app on your device)`;
}
