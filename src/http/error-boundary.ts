import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../store/port.ts';
import { CLIENT_CLOSED_REQUEST, isClientAbort } from './client-abort.ts';
import { renderError, type Dialect } from './dialects.ts';
import { AppError, InvalidRequestError, MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from '../errors.ts';

/** Turns anything thrown below it into the surface's error body. A 500 here is a bug, and is logged as one. */
export function errorBoundary(dialect: Dialect, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new NotFoundError(`Cannot ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) throw new MethodNotAllowedError(ctx.method, ctx.path, ctx.response.get('Allow'));
    } catch (err) {
      if (isClientAbort(err, ctx)) {
        // No one to answer, nothing broken: the request log records it (at info, as 499).
        ctx.status = CLIENT_CLOSED_REQUEST;
        return;
      }
      let appError: AppError;
      if (err instanceof AppError) appError = err;
      else if (err instanceof StoreUnavailableError) {
        logger.error({ err: err.cause }, 'store unavailable');
        appError = new ServiceUnavailableError();
        appError.headers['Retry-After'] = '1'; // a hint: Redis restarts, failovers and pauses last seconds
      } else if (isClientHttpError(err)) {
        appError =
          err.status === 404
            ? new NotFoundError()
            : err.status === 405
              ? new MethodNotAllowedError(ctx.method, ctx.path, ctx.response.get('Allow'))
              : new InvalidRequestError(err.expose ? err.message : 'The request is invalid');
      } else {
        logger.error({ err }, 'unhandled error');
        ctx.status = 500;
        ctx.body =
          dialect === 'medusa'
            ? { code: 'unknown_error', type: 'unknown_error', message: 'An unknown error occurred.' }
            : dialect === 'oauth'
              ? { error: 'server_error', error_description: 'An unexpected error occurred' }
              : { error: 'server_error', message: 'An unexpected error occurred', code: 500, timestamp: new Date().toISOString() };
        return;
      }
      renderError(ctx, appError, dialect);
    }
  };
}

function isClientHttpError(err: unknown): err is { status: number; expose: boolean; message: string } {
  const status = (err as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
