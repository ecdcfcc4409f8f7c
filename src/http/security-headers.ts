import type { Middleware } from 'koa';

/**
 * Headers every response carries. API responses may carry tokens, so none of them is cached
 * by browsers or proxies; pages refuse to be framed (clickjacking of login and consent).
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (!ctx.response.get('Cache-Control')) {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    }
    if (ctx.response.is('html')) {
      ctx.set('X-Frame-Options', 'DENY');
      if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    }
  };
}
