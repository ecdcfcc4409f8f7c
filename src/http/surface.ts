import type Router from '@koa/router';
import compose from 'koa-compose';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { bodyParser } from './body.ts';
import type { Dialect } from './dialects.ts';
import { errorBoundary } from './error-boundary.ts';
import { allowedMethods } from './allowed-methods.ts';

export interface SurfaceOptions {
  /** Path prefix owned by this surface, e.g. "/v1". Requests outside it pass through untouched. */
  prefix: string;
  dialect: Dialect;
  logger: Logger;
  /** Body limit in bytes; omit to leave the body unread (oidc-provider parses its own). */
  bodyLimit?: number;
  /** Runs after the error boundary and body parser, before the routes (CORS, guards, rate limits). */
  before?: Middleware[];
  routers: Router[];
}

/**
 * One surface of the API: everything under its prefix gets its error dialect (including 404s
 * and 405s), its body limit and its middleware, so each surface speaks the dialect its clients expect.
 */
export function mountSurface(opts: SurfaceOptions): Middleware {
  const chain = compose<Parameters<Middleware>[0]>([
    errorBoundary(opts.dialect, opts.logger),
    ...(opts.bodyLimit !== undefined ? [bodyParser({ limit: opts.bodyLimit })] : []),
    ...(opts.before ?? []),
    ...opts.routers.flatMap((r) => [r.routes() as unknown as Middleware, allowedMethods(r)]),
  ]);
  const prefix = opts.prefix.replace(/\/$/, '');
  // The surface owns its prefix: nothing after it runs for these paths. (Passing `next` on let a
  // later router's allowedMethods() answer a bare-text 405 for our routes, outside our dialect.)
  const end = async () => {};
  return (ctx, next) => (ctx.path === prefix || ctx.path.startsWith(prefix + '/') ? chain(ctx, end) : next());
}
