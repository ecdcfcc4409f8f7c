import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One JSON line per request with a request id (taken from X-Request-Id when sane).
 * Logs the path only: query strings can carry codes and tokens, headers carry credentials.
 */
export function requestLog(deps: RequestLogDeps): Middleware {
  return async (ctx, next) => {
    const id = requestIdOf(ctx);
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      logRequest(deps, ctx, started);
    }
  };
}

/** The request's id (the client's X-Request-Id when sane, else a new one), kept on ctx.state. */
export function requestIdOf(ctx: Context): string {
  const incoming = ctx.get('x-request-id');
  const id = SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  ctx.state.requestId = id;
  return id;
}

export interface RequestLogDeps {
  logger: Logger;
  metrics?: Metrics;
}

/** The request's log line and metrics, once it is answered. */
export function logRequest({ logger, metrics }: RequestLogDeps, ctx: Context, started: number): void {
  const ms = performance.now() - started;
  metrics?.request(ctx.path, ctx.method, ctx.status, ms / 1000);
  // ip: the client's address as TRUST_PROXY resolves it (client-address.ts), as the throttles see it.
  const line = {
    reqId: ctx.state.requestId,
    method: ctx.method,
    path: ctx.path,
    status: ctx.status,
    ip: ctx.ip,
    ms: Math.round(ms * 10) / 10,
  };
  if (ctx.status >= 500) logger.error(line, 'request');
  else logger.info(line, 'request');
}
