import type { Middleware } from 'koa';
import { renderError, type Dialect } from './dialects.ts';
import { InvalidRequestError } from '../errors.ts';

/** A DNS name or IPv4 address, or an IPv6 literal in brackets, with an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*)(?::(\d{1,5}))?$/;

/** True when `host` is a valid `host[:port]` (RFC 9110 §7.2) that the WHATWG URL parser accepts too. */
export function isValidHost(host: string): boolean {
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return false;
  return URL.canParse(`http://${host}/`);
}

/**
 * 400 for a request whose Host (or, with TRUST_PROXY, X-Forwarded-Host) is not a valid
 * host[:port]: every URL built from it (oidc-provider's discovery and redirects, Koa's
 * ctx.origin) would be broken, and building one throws. Runs before the provider. An HTTP/1.0
 * request may come without a Host (old health checkers); HTTP/1.1 requires one (Node refuses it
 * missing, this refuses it empty).
 */
export function requireValidHost(dialectOf: (path: string) => Dialect): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('host');
    const valid = header === '' ? ctx.req.httpVersion === '1.0' : isValidHost(header);
    // Koa's host: X-Forwarded-Host when trusted, with any userinfo stripped.
    const host = ctx.request.host;
    if (valid && (host === header || isValidHost(host))) return next();
    renderError(ctx, new InvalidRequestError('The Host header is not a valid host[:port]'), dialectOf(ctx.path));
  };
}
