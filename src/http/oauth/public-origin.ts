import type { Middleware } from 'koa';

/**
 * With TRUST_PROXY off, every URL oidc-provider builds (discovery's endpoints, form actions,
 * redirects back to the authorization endpoint) starts with PUBLIC_URL, not with whatever Host
 * the request names: a foreign Host must not reach a discovery document a cache may keep.
 * The library builds them from the request's href, which is pinned here.
 */
export function pinPublicOrigin(publicUrl: string): Middleware {
  const origin = new URL(publicUrl).origin;
  return async (ctx, next) => {
    const { request } = ctx;
    // An absolute request target (`GET http://host/path`) names a host too: keep only its path.
    const path = () => request.originalUrl.replace(/^https?:\/\/[^/]*/i, '');
    Object.defineProperty(request, 'href', { get: () => origin + path(), configurable: true });
    await next();
  };
}
