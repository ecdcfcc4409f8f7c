import type { Middleware } from 'koa';

const FRAME_ANCESTORS = "frame-ancestors 'none'";

/** What securityHeaders() gives an uncacheable, non-HTML response (for handlers that write their own head). */
export const API_RESPONSE_HEADERS: readonly string[] = [
  'X-Content-Type-Options',
  'nosniff',
  'Referrer-Policy',
  'no-referrer',
  'Cache-Control',
  'no-store',
  'Pragma',
  'no-cache',
];

/**
 * Headers every response carries. API responses may carry tokens, so none of them is cached
 * by browsers or proxies (`no-store`, plus `Pragma: no-cache` for HTTP/1.0 caches, whoever set
 * the Cache-Control); only routes that opt in (JWKS, discovery, the API description, stylesheets)
 * are cacheable. Pages refuse to be framed (clickjacking of login and consent), even when the
 * page set its own Content-Security-Policy.
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    const cacheControl = ctx.response.get('Cache-Control');
    if (!cacheControl) ctx.set('Cache-Control', 'no-store');
    if (!cacheControl || /\bno-store\b/i.test(cacheControl)) ctx.set('Pragma', 'no-cache');
    // (A prefix test, not ctx.response.is(): this runs on every response, the hot path included.)
    const type = ctx.response.get('Content-Type');
    if (typeof type === 'string' && /^\s*text\/html\b/i.test(type)) {
      ctx.set('X-Frame-Options', 'DENY');
      const csp = ctx.response.get('Content-Security-Policy');
      if (!csp) ctx.set('Content-Security-Policy', FRAME_ANCESTORS);
      else if (!/frame-ancestors/i.test(csp)) ctx.set('Content-Security-Policy', `${csp.replace(/;\s*$/, '')}; ${FRAME_ANCESTORS}`);
    }
  };
}
