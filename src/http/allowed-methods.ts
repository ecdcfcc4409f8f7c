import type Router from '@koa/router';
import type { Middleware } from 'koa';

/**
 * The router's answer to a method its routes do not have, with one change: a method no route
 * implements at all (TRACE, PROPFIND...) is the client's mistake like any other, not a 501. Where
 * the path has routes: 405 and `Allow`; where it has none: 404. Sets the status only (no body),
 * so the surface's error boundary writes it in the surface's dialect.
 */
export function allowedMethods(router: Router): Middleware {
  const answer = router.allowedMethods() as unknown as Middleware;
  return async (ctx, next) => {
    await answer(ctx, next);
    if (ctx.status !== 501 || ctx.body != null) return;
    if (ctx.response.get('Allow')) ctx.status = 405;
    else {
      ctx.remove('Allow');
      ctx.status = 404;
    }
  };
}
