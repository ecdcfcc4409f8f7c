import type { Context } from 'koa';
import { AppError } from '../errors.ts';

/**
 * The status recorded (log line, metrics) for a request whose client hung up before the request
 * was read: nginx's 499 "client closed request". Nothing is sent; nobody is listening.
 */
export const CLIENT_CLOSED_REQUEST = 499;

/** The client closed the connection while its request body was being read: its doing, not a server error. */
export class ClientAbortError extends Error {
  readonly code = 'ERR_CLIENT_ABORT';
  constructor() {
    super('The client closed the connection before its request was read');
    this.name = 'ClientAbortError';
  }
}

/**
 * `err` comes from a request whose client went away before sending all of it (whoever was reading
 * it). An AppError is never one: it is our answer (a 413 also stops reading the body midway).
 */
export function isClientAbort(err: unknown, ctx: Context): boolean {
  return err instanceof ClientAbortError || (!(err instanceof AppError) && !ctx.req.complete && ctx.req.destroyed);
}
