import type { Context, Middleware } from 'koa';
import { ClientAbortError } from './client-abort.ts';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

declare module 'koa' {
  interface Request {
    /** The parsed body: a JSON object or a form's fields. `{}` when the body is empty. */
    body?: unknown;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * 413, and close the connection after it: the rest of the body is still on the wire, and a
 * client that reused the connection would have its next request stall behind it.
 */
function tooLarge(limit: number): PayloadTooLargeError {
  const err = new PayloadTooLargeError(limit);
  err.headers.Connection = 'close';
  return err;
}

/** Read the raw body, refusing (413) as soon as it passes `limit` bytes. */
export async function readRawBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        ctx.req.unpipe();
        ctx.req.resume();
        throw tooLarge(limit);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // The stream fails ("aborted") when the client hangs up mid-body.
    if (!ctx.req.complete && !(err instanceof PayloadTooLargeError)) throw new ClientAbortError();
    throw err;
  }
  return Buffer.concat(chunks);
}

function decode(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new InvalidRequestError('The request body is not valid UTF-8');
  }
}

function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in out) throw new InvalidRequestError(`Parameter "${k}" is repeated`);
    out[k] = v;
  }
  return { ...out };
}

/**
 * Parse JSON and form bodies for our own routes. An empty body is `{}` (the js-sdk posts
 * `content-type: application/json` with no body for revoke and refresh). Bad JSON is 400, an
 * oversized body 413, another media type 415, invalid UTF-8 400: never a 500. A body without a
 * content type is 415, never taken for JSON: a cross-origin page can send such a body without a
 * CORS preflight, which a declared application/json would need.
 */
export function bodyParser(opts: { limit: number; forms?: boolean }): Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS') {
      ctx.request.body = {};
      return next();
    }
    const raw = await readRawBody(ctx, opts.limit);
    const type = ctx.request.is('application/json', '+json', 'application/x-www-form-urlencoded');
    if (raw.length === 0) {
      ctx.request.body = {};
      return next();
    }
    // JSON is UTF-8 (RFC 8259) and so are our forms: another declared charset would be misread.
    const charset = ctx.request.charset;
    if (charset && !/^utf-?8$/i.test(charset)) throw new UnsupportedMediaTypeError('Send the body encoded as UTF-8');
    const text = decode(raw);
    if (type === 'application/x-www-form-urlencoded' && opts.forms !== false) {
      ctx.request.body = parseForm(text);
    } else if (type === 'application/json' || (typeof type === 'string' && type.endsWith('+json'))) {
      // (type-is answers a `+json` match with the real type, e.g. application/merge-patch+json.)
      try {
        ctx.request.body = JSON.parse(text);
      } catch {
        throw new InvalidRequestError('The request body is not valid JSON');
      }
    } else {
      throw new UnsupportedMediaTypeError();
    }
    return next();
  };
}
