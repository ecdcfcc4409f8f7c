import { ServerResponse, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import Koa, { type Context, type Middleware } from 'koa';

/** The key unit-test apps sign cookies with. */
const COOKIE_KEYS = ['unit-test-cookie-key'];

export interface FakeRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The socket's peer address. */
  remoteAddress?: string;
  encrypted?: boolean;
  httpVersion?: '1.0' | '1.1';
}

export function unitApp(): Koa {
  return new Koa({ keys: COOKIE_KEYS });
}

/**
 * A Koa context for one request, without a server or a socket: what a middleware or a function
 * of `ctx` sees. The body is streamed as a client would send it; content-length is set for it
 * unless the request says it is chunked.
 */
export function koaContext(request: FakeRequest = {}, app: Koa = unitApp()): Context {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers: Record<string, string> = { host: 'auth.example.test', ...lowerCased(request.headers ?? {}) };
  if (body && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
    headers['content-length'] = String(body.length);
  const req = Object.assign(Readable.from(body ? [body] : []), {
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    headers,
    httpVersion: request.httpVersion ?? '1.1',
    httpVersionMajor: 1,
    httpVersionMinor: request.httpVersion === '1.0' ? 0 : 1,
    complete: true,
    socket: { remoteAddress: request.remoteAddress ?? '127.0.0.1', encrypted: request.encrypted ?? false },
  }) as unknown as IncomingMessage;
  const res = new ServerResponse(req);
  return app.createContext(req, res);
}

/** Run `middleware` on `ctx` with a `next` that records whether it was reached. */
export async function run(middleware: Middleware, ctx: Context): Promise<{ reachedNext: boolean }> {
  let reachedNext = false;
  await middleware(ctx, async () => {
    reachedNext = true;
  });
  return { reachedNext };
}

/** A Cookie header carrying `name=value` signed as the unit-test app signs it. */
export function signedCookie(name: string, value: string): string {
  const ctx = koaContext();
  ctx.cookies.set(name, value, { signed: true });
  const set = ctx.res.getHeader('set-cookie') as string[];
  return set.map((c) => c.split(';')[0]).join('; ');
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
