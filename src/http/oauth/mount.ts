import { Readable } from 'node:stream';
import compose from 'koa-compose';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { readRawBody } from '../body.ts';
import { AppError, InvalidRequestError } from '../../errors.ts';
import { renderError } from '../dialects.ts';
import { AUTHORIZATION_REQUEST_MAX_BYTES, endSessionParamsProblem } from '../../oauth/request-limits.ts';
import { CLIENT_CLOSED_REQUEST, isClientAbort } from '../client-abort.ts';

declare module 'koa' {
  interface DefaultContext {
    /** Where a mounted app lives (koa-mount's convention, which oidc-provider reads to build its URLs). */
    mountPath?: string;
  }
}

export const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
/** Endpoints authenticating clients from the body: the reference document posts JSON to them. */
const FORM_ENDPOINTS = new Set(['/token', '/introspect', '/revoke']);
/** Requests anyone can send that make the provider store what they carry. */
type StoringRequest = 'authorization' | 'par' | 'end_session';

/**
 * Which storing request this is: an interaction (/authorize), a pushed request (/par), a session
 * holding the logout's state (/end-session). Matched as the provider's router matches: any case,
 * an optional trailing slash, HEAD as GET.
 */
function storingRequest(method: string, inner: string): StoringRequest | null {
  const path = (inner.length > 1 && inner.endsWith('/') ? inner.slice(0, -1) : inner).toUpperCase();
  const get = method === 'GET' || method === 'HEAD';
  if (path === '/AUTHORIZE' && (get || method === 'POST')) return 'authorization';
  if (path === '/PAR' && method === 'POST') return 'par';
  if (path === '/END-SESSION' && (get || method === 'POST')) return 'end_session';
  return null;
}

/**
 * A JSON body sent to /oauth/token (or introspect/revoke) becomes the form it stands for: the
 * provider then applies the same parameter and client-authentication rules to both encodings.
 * Returns the function that puts the real request back.
 */
async function jsonAsForm(ctx: Context, limit: number): Promise<() => void> {
  const raw = await readRawBody(ctx, limit);
  let parsed: unknown;
  try {
    parsed = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidRequestError('The request body must be a JSON object');
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new InvalidRequestError(`Parameter "${k}" must be a string`);
    form[k] = String(v);
  }
  const encoded = Buffer.from(new URLSearchParams(form).toString());
  ctx.req.headers['content-type'] = 'application/x-www-form-urlencoded';
  return replayBody(ctx, encoded);
}

/**
 * Hand the provider a request whose stream replays `body` (already read by us). The provider
 * reads the request stream itself (its fallback for an already-read body works too, but prints
 * a plain-text warning into our JSON logs). Returns the function that puts the real request back.
 */
function replayBody(ctx: Context, body: Buffer): () => void {
  ctx.req.headers['content-length'] = String(body.length);
  const original = ctx.req;
  const replay = () => Readable.from([body]);
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
 * Before the provider sees a storing request: the query's size, a body read up to the limit (and
 * replayed), end-session's parameter lengths, then `guard` (the per-address quota). Returns the
 * function that puts the real request back.
 */
async function boundStoringRequest(ctx: Context, kind: StoringRequest, guard: (ctx: Context) => Promise<void>): Promise<() => void> {
  if (Buffer.byteLength(ctx.querystring) > AUTHORIZATION_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(`The request's query is larger than ${AUTHORIZATION_REQUEST_MAX_BYTES} bytes`);
  }
  const body = ctx.method === 'POST' ? await readRawBody(ctx, AUTHORIZATION_REQUEST_MAX_BYTES) : null;
  if (kind === 'end_session') {
    const problem = endSessionParamsProblem([ctx.querystring, body?.toString('utf8') ?? '']);
    if (problem) throw new InvalidRequestError(problem);
  }
  await guard(ctx);
  return body ? replayBody(ctx, body) : () => {};
}

/**
 * The provider (itself a Koa app) mounted under `prefix` on our app, koa-mount style: it runs on
 * our context with the prefix stripped and `ctx.mountPath` set, so every URL it builds (discovery,
 * redirects, form actions) carries /oauth and honours X-Forwarded-* when TRUST_PROXY is on.
 * Requests it does not answer continue down our app with the path restored. Also serves the two
 * discovery documents at the root, where clients look for them.
 */
export function mountProvider(
  provider: () => Provider,
  opts: {
    prefix: string;
    bodyLimit: number;
    extraScopes: string[];
    userinfoForJwt?: (ctx: Context) => Promise<boolean>;
    authorizationGuard?: (ctx: Context) => Promise<void>;
  },
): Middleware {
  // The provider is asked for at the start of each request: a request runs to its end on the
  // instance it started with, while the next one takes the instance built for new signing keys.
  const composed = new WeakMap<Provider, Middleware>();
  const downstreamOf = (p: Provider) => {
    let m = composed.get(p);
    if (!m) composed.set(p, (m = compose((p as unknown as { middleware: Middleware[] }).middleware)));
    return m;
  };
  const { prefix } = opts;

  async function run(ctx: Context, next: () => Promise<unknown>, innerPath: string) {
    const downstream = downstreamOf(provider());
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
    if (inner === '/userinfo' && (ctx.method === 'GET' || ctx.method === 'POST') && opts.userinfoForJwt && (await opts.userinfoForJwt(ctx)))
      return;
    let restore: (() => void) | undefined;
    const storing = storingRequest(ctx.method, inner);
    if (storing || (ctx.method === 'POST' && FORM_ENDPOINTS.has(inner) && ctx.is('application/json'))) {
      try {
        restore = storing
          ? await boundStoringRequest(ctx, storing, opts.authorizationGuard ?? (async () => {}))
          : await jsonAsForm(ctx, opts.bodyLimit);
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
