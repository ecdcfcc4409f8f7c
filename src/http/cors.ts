import type { Middleware } from 'koa';

export type OriginMatcher = (origin: string) => boolean;

declare module 'koa' {
  interface DefaultState {
    /** The request's Origin is one this path's CORS rules allow (set by cors(), read by the cookie-write guard). */
    corsOriginAllowed?: boolean;
  }
}

/**
 * Medusa's CORS lists: comma-separated origins, where an entry written `/pattern/flags` is a
 * regular expression (e.g. `/\.vercel\.app$/`). `*` allows any origin (refused in production
 * by config.ts).
 */
export function originMatcher(entries: string[]): OriginMatcher {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  let any = false;
  for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
    const m = /^\/(.+)\/([dgimsuy]*)$/.exec(raw);
    if (raw === '*') any = true;
    else if (m) {
      try {
        patterns.push(new RegExp(m[1]!, m[2]!.replace(/[gy]/g, '')));
      } catch {
        exact.add(raw);
      }
    } else exact.add(raw.replace(/\/+$/, ''));
  }
  return (origin) => any || exact.has(origin) || patterns.some((p) => p.test(origin));
}

export interface CorsRule {
  /** Paths this rule covers (default: the whole surface). */
  pathPrefix?: string;
  origins: string[];
}

const ALLOWED_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS';
const DEFAULT_ALLOWED_HEADERS = 'authorization,content-type,accept,x-publishable-api-key,x-medusa-locale,x-request-id';

/**
 * CORS for one surface, credentials on (cookies and Authorization cross-origin). An allowed
 * origin is echoed back (never `*`, which browsers refuse with credentials); preflights are
 * answered here with 204 and never reach guards. A refused origin gets no CORS headers at all.
 */
export function cors(rules: CorsRule[]): Middleware {
  const compiled = rules.map((r) => ({ prefix: r.pathPrefix, allows: originMatcher(r.origins) }));
  return async (ctx, next) => {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const allowed =
      origin !== '' &&
      compiled.some((r) => (!r.prefix || ctx.path === r.prefix || ctx.path.startsWith(r.prefix + '/')) && r.allows(origin));
    ctx.state.corsOriginAllowed = allowed;
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Credentials', 'true');
    }
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      if (allowed) {
        ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
        ctx.set('Access-Control-Allow-Headers', ctx.get('access-control-request-headers') || DEFAULT_ALLOWED_HEADERS);
        ctx.set('Access-Control-Max-Age', '600');
        ctx.vary('Access-Control-Request-Headers');
      }
      ctx.status = 204;
      return;
    }
    if (allowed)
      ctx.set(
        'Access-Control-Expose-Headers',
        'x-request-id,retry-after,ratelimit-limit,ratelimit-remaining,ratelimit-reset,ratelimit-policy',
      );
    return next();
  };
}
