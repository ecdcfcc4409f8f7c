import type { Middleware } from 'koa';
import { AppError, InsufficientScopeError } from '../errors.ts';

const quoted = (value: string) => `"${value.replace(/["\\]/g, '').replace(/[^\x20-\x7e]/g, '')}"`;

/**
 * RFC 6750 §3 challenges on 401 and 403: `Bearer realm="…"` alone when no credential was sent,
 * `error="invalid_token"` for a bad one, `error="insufficient_scope", scope="…"` for a weak one.
 * Gateways (nginx auth_request) pass the 401's challenge on to the client.
 */
export function bearerChallenge(realm: string): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof AppError && (err.status === 401 || err.status === 403) && !err.headers['WWW-Authenticate']) {
        // authenticate() leaves `null` when the request carried no credential at all.
        const noCredential = ctx.state.principal === null;
        const parts = [`Bearer realm=${quoted(realm)}`];
        if (err instanceof InsufficientScopeError) parts.push('error="insufficient_scope"', `scope=${quoted(err.required.join(' '))}`);
        else if (err.status === 401 && !noCredential) parts.push('error="invalid_token"');
        if (parts.length > 1) parts.push(`error_description=${quoted(err.message)}`);
        err.headers['WWW-Authenticate'] = parts.join(', ');
      }
      throw err;
    }
  };
}
