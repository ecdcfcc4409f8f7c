import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/** The cookie a signed-out browser's sign-in form is bound to (the CSRF token is an HMAC of it). */
const PRE_SESSION_COOKIE = 'account.csrf';
/** One short-lived message for the next page (post/redirect/get): never a secret. */
const FLASH_COOKIE = 'account.flash';
const FLASH_SECONDS = 60;
const cookieOptions = (ctx: Context) => ({ httpOnly: true, signed: true, sameSite: 'lax' as const, secure: ctx.secure, path: '/account' });

/**
 * The account page's defences for its form posts: every form carries a token bound to the browser's
 * session (an HMAC of the session id, or before sign-in of a random cookie of its own) under the
 * cookie secret, and every POST must come from this server's own pages: `Origin` is PUBLIC_URL's
 * origin, or the browser says `Sec-Fetch-Site: same-origin` (these pages send no referrer, so a
 * browser's Origin on their forms is "null"; that alone is never trusted).
 */
export function createFormGuard(opts: { secret: string; publicOrigin: string }) {
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', opts.secret).update(`account-${purpose}:${value}`).digest('base64url');
  const same = (a: string, b: unknown) => typeof b === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

  return {
    fromOwnPage(ctx: Context): boolean {
      const origin = ctx.get('origin');
      if (origin && origin !== 'null') return origin === opts.publicOrigin;
      return ctx.get('sec-fetch-site') === 'same-origin';
    },
    /** The token of forms shown to a signed-in session. */
    sessionToken: (sessionId: string) => mac('session', sessionId),
    sessionTokenOk: (sessionId: string, given: unknown) => same(mac('session', sessionId), given),
    /** The sign-in form's token, setting the browser's pre-session cookie when it has none. */
    signInToken(ctx: Context): string {
      let value = ctx.cookies.get(PRE_SESSION_COOKIE, { signed: true });
      if (!value) {
        value = randomBytes(24).toString('base64url');
        ctx.cookies.set(PRE_SESSION_COOKIE, value, cookieOptions(ctx));
      }
      return mac('sign-in', value);
    },
    signInTokenOk(ctx: Context, given: unknown): boolean {
      const value = ctx.cookies.get(PRE_SESSION_COOKIE, { signed: true });
      return !!value && same(mac('sign-in', value), given);
    },
    setFlash(ctx: Context, flash: object): void {
      ctx.cookies.set(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), {
        ...cookieOptions(ctx),
        maxAge: FLASH_SECONDS * 1000,
      });
    },
    /** The message left for this page, once (it is cleared as it is read). */
    takeFlash<T>(ctx: Context): T | undefined {
      const raw = ctx.cookies.get(FLASH_COOKIE, { signed: true });
      if (!raw) return undefined;
      ctx.cookies.set(FLASH_COOKIE, null, cookieOptions(ctx));
      try {
        return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
      } catch {
        return undefined;
      }
    },
  };
}
