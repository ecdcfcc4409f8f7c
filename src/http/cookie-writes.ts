import type { Context, Middleware } from 'koa';
import { AppError, UnsupportedMediaTypeError } from '../errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A cookie-authenticated write from a page this server does not trust (cross-site request forgery). */
export class CrossSiteWriteError extends AppError {
  constructor() {
    super(
      403,
      'cross_site_write',
      'A write authenticated by the session cookie must come from an allowed origin (Origin or Sec-Fetch-Site: same-origin)',
    );
  }
}

export interface CookieWriteGuardOptions {
  /** The session cookie (signed) that authenticates a request when no Authorization header is sent. */
  sessionCookie: string;
  /** Origins trusted on every surface (PUBLIC_URL's); the surface's CORS origins are trusted too (cors() runs first). */
  trustedOrigins: string[];
  /** Paths that answer every method without changing anything (forward auth's verify, asked with the original request's method). */
  readOnlyPaths?: string[];
}

/**
 * Cross-site request forgery defence for writes the browser authenticates by itself, with the
 * session cookie. A browser attaches the cookie to a form post or a no-cors fetch from any page
 * of the same site (SameSite=Lax does not separate sibling subdomains), so such a write must
 * come from a trusted origin:
 *  - `Origin` is PUBLIC_URL's origin or one the surface's CORS rules allow, or
 *  - `Sec-Fetch-Site: same-origin` (set by the browser, never by a page's script);
 *  - `Origin: null` (sandboxed frames, privacy redirects) is never trusted, and a write with no
 *    `Origin` and no `Sec-Fetch-Site` is refused too: browsers send `Origin` on every write (and
 *    `Sec-Fetch-Site` over https), and a client outside a browser can send the Origin it means
 *    (or use a Bearer token).
 * It must also be `application/json`, which a cross-origin page cannot send without a CORS
 * preflight. Guarded: every POST, PUT, PATCH and DELETE that carries a validly signed session
 * cookie and no Authorization header (a page cannot add that header to another origin's request
 * unless CORS allows it), whatever the route does with the cookie.
 */
export function cookieWriteGuard(opts: CookieWriteGuardOptions): Middleware {
  const trusted = new Set(opts.trustedOrigins);
  const readOnly = new Set(opts.readOnlyPaths);
  return async (ctx, next) => {
    if (
      SAFE_METHODS.has(ctx.method) ||
      readOnly.has(ctx.path) ||
      ctx.get('authorization') ||
      !ctx.cookies.get(opts.sessionCookie, { signed: true })
    )
      return next();
    if (!fromTrustedPage(ctx, trusted)) throw new CrossSiteWriteError();
    if (ctx.request.type.trim().toLowerCase() !== 'application/json') {
      throw new UnsupportedMediaTypeError('A write authenticated by the session cookie must be sent as application/json');
    }
    return next();
  };
}

function fromTrustedPage(ctx: Context, trusted: Set<string>): boolean {
  const origin = ctx.get('origin');
  if (origin === 'null') return false;
  if (ctx.get('sec-fetch-site') === 'same-origin') return true;
  return origin !== '' && (trusted.has(origin) || ctx.state.corsOriginAllowed === true);
}
