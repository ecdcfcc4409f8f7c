import type { Context } from 'koa';

/**
 * The sign-in, reset and account pages' CSP: no script anywhere, only our stylesheet, and images (the
 * brand's and the apps' logos, https only). No form-action on the OAuth pages: browsers apply it to
 * the redirects after a submit, which lead back to the client.
 */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'";

/** Answer with a server-rendered page: never cached (it may name the person), under a CSP. */
export function sendPage(ctx: Context, status: number, body: string, csp: string = PAGE_CSP): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', csp);
  ctx.body = body;
}

/** Post/redirect/get: every form answers 303, so Back and reload never resubmit it. */
export function redirectSeeOther(ctx: Context, to: string): void {
  ctx.redirect(to);
  ctx.status = 303;
}
