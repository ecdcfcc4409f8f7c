import { Readable } from 'node:stream';
import compose from 'koa-compose';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { readRawBody } from '../http/body.ts';
import { AppError, InvalidRequestError } from '../http/errors.ts';
import { renderError } from '../http/dialects.ts';
import { CLIENT_CLOSED_REQUEST, isClientAbort } from '../http/client-abort.ts';

declare module 'koa' {
  interface DefaultContext {
    /** Where a mounted app lives (koa-mount's convention, which oidc-provider reads to build its URLs). */
    mountPath?: string;
  }
}

export const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
/** Endpoints authenticating clients from the body: the reference document posts JSON to them. */
const FORM_ENDPOINTS = new Set(['/token', '/introspect', '/revoke']);

/**
 * A JSON body sent to /oauth/token (or introspect/revoke) becomes the form it stands for: the
 * provider then applies the same parameter and client-authentication rules to both encodings.
 * The provider reads the request stream itself, so it is handed a request whose stream replays
 * the form (its fallback for an already-read body works too, but prints a plain-text warning
 * into our JSON logs). Returns the function that puts the real request back.
 */
async function jsonAsForm(ctx: Context, limit: number): Promise<() => void> {
  const raw = await readRawBody(ctx, limit);
  let parsed: unknown;
  try {
    parsed = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRequestError('The request body must be a JSON object');
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new InvalidRequestError(`Parameter "${k}" must be a string`);
    form[k] = String(v);
  }
  const encoded = Buffer.from(new URLSearchParams(form).toString());
  ctx.req.headers['content-type'] = 'application/x-www-form-urlencoded';
  ctx.req.headers['content-length'] = String(encoded.length);
  const original = ctx.req;
  const replay = () => Readable.from([encoded]);
  const substitute = Object.create(original, {
    readable: { value: true },
    readableEncoding: { value: null },
    iterator: { value: (options?: { destroyOnReturn?: boolean }) => replay().iterator(options) },
    [Symbol.asyncIterator]: { value: () => replay()[Symbol.asyncIterator]() },
  }) as typeof original;
  ctx.req = substitute;
  ctx.request.req = substitute;
  return () => {
    ctx.req = original;
    ctx.request.req = original;
  };
}

/**
 * The provider (itself a Koa app) mounted under `prefix` on our app, koa-mount style: it runs on
 * our context with the prefix stripped and `ctx.mountPath` set, so every URL it builds (discovery,
 * redirects, form actions) carries /oauth and honours X-Forwarded-* when TRUST_PROXY is on.
 * Requests it does not answer continue down our app with the path restored. Also serves the two
 * discovery documents at the root, where clients look for them.
 */
export function mountProvider(provider: Provider, opts: { prefix: string; bodyLimit: number; extraScopes: string[]; userinfoForJwt?: (ctx: Context) => Promise<boolean> }): Middleware {
  const downstream = compose((provider as unknown as { middleware: Middleware[] }).middleware);
  const { prefix } = opts;

  async function run(ctx: Context, next: () => Promise<unknown>, innerPath: string) {
    const outer = ctx.path;
    ctx.mountPath = prefix;
    ctx.path = innerPath;
    try {
      await downstream(ctx, async () => {
        ctx.path = outer;
        await next();
        ctx.path = innerPath;
      });
    } finally {
      ctx.path = outer;
    }
  }

  return async (ctx, next) => {
    if (DISCOVERY_PATHS.includes(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS')) {
      await run(ctx, next, ctx.path);
      if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
        const doc = ctx.body as Record<string, unknown>;
        // API scopes belong to the resource server, which the library does not list.
        doc.scopes_supported = [...new Set([...((doc.scopes_supported as string[]) ?? []), ...opts.extraScopes])];
      }
      return;
    }
    if (!(ctx.path === prefix || ctx.path.startsWith(`${prefix}/`))) return next();
    const inner = ctx.path.slice(prefix.length) || '/';
    if (inner === '/userinfo' && (ctx.method === 'GET' || ctx.method === 'POST') && opts.userinfoForJwt && (await opts.userinfoForJwt(ctx))) return;
    let restore: (() => void) | undefined;
    if (ctx.method === 'POST' && FORM_ENDPOINTS.has(inner) && ctx.is('application/json')) {
      try {
        restore = await jsonAsForm(ctx, opts.bodyLimit);
      } catch (err) {
        if (isClientAbort(err, ctx)) return void (ctx.status = CLIENT_CLOSED_REQUEST);
        if (!(err instanceof AppError)) throw err;
        renderError(ctx, err, 'oauth');
        return;
      }
    }
    try {
      await run(ctx, next, inner);
    } finally {
      restore?.();
    }
  };
}
