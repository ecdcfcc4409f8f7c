import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { renderError, type Dialect } from './dialects.ts';
import { ServiceUnavailableError } from '../errors.ts';

const DIALECT_BY_PREFIX: [string, Dialect][] = [
  ['/v1/', 'v1'],
  ['/admin/', 'medusa'],
  ['/store/', 'medusa'],
  ['/auth/', 'medusa'],
  ['/oauth/', 'oauth'],
];
const dialectOf = (ctx: Context): Dialect =>
  DIALECT_BY_PREFIX.find(([p]) => ctx.path.startsWith(p) || ctx.path === p.slice(0, -1))?.[1] ?? 'plain';

/**
 * A ceiling on how long the server works on one request. Node's own timeouts bound how long a
 * client may take to send (server.ts); this bounds our side, e.g. a store that accepts commands
 * but stops answering: the client gets 503 in its surface's dialect instead of a hung connection.
 * The late handler's writes are then ignored (Koa drops them once the response is sent).
 */
export function deadline(ms: number, logger: Logger): Middleware {
  return async (ctx, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), ms);
    });
    try {
      const outcome = await Promise.race([next().then(() => 'done' as const), expired]);
      if (outcome === 'expired' && !ctx.headerSent) {
        logger.error({ reqId: ctx.state.requestId, method: ctx.method, path: ctx.path, ms }, 'request deadline exceeded');
        const err = new ServiceUnavailableError('The request took too long, retry later');
        err.headers['Retry-After'] = '1';
        renderError(ctx, err, dialectOf(ctx));
      }
    } finally {
      clearTimeout(timer);
    }
  };
}
