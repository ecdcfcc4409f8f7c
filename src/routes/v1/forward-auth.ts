import type { Context } from 'koa';
import { z } from 'zod';
import type { Principal } from '../../principal/principal.ts';

/** `?scope=read&scope=write` or `?scope=read%20write`: every listed scope is required. */
export const verifyQuery = z.object({
  scope: z
    .union([z.string().max(1024), z.array(z.string().max(1024)).max(32)])
    .optional()
    .describe('Scopes the credential must hold; repeatable or space-separated'),
});

export function requiredScopes(query: z.output<typeof verifyQuery>): string[] {
  const raw = query.scope === undefined ? [] : Array.isArray(query.scope) ? query.scope : [query.scope];
  return [...new Set(raw.flatMap((s) => s.split(/\s+/)).filter(Boolean))];
}

/** Header values must be one visible-ASCII line (ids and scopes always are; this is belt and braces). */
const headerSafe = (v: string) => v.replace(/[^\x20-\x7e]/g, '');

/**
 * What a gateway copies onto the request it forwards upstream (nginx `auth_request_set`,
 * Traefik `authResponseHeaders`, Caddy `copy_headers`), so services behind it need not parse tokens.
 */
export function forwardAuthHeaders(p: Principal): Record<string, string> {
  return {
    'X-Auth-User-Id': headerSafe(p.id),
    'X-Auth-Actor-Type': p.actorType,
    'X-Auth-Scopes': headerSafe(p.scopes.join(' ')),
    'X-Auth-Method': p.method,
    ...(p.role ? { 'X-Auth-Role': p.role } : {}),
    ...(p.clientId ? { 'X-Auth-Client-Id': headerSafe(p.clientId) } : {}),
    ...(p.keyId ? { 'X-Auth-Key-Id': headerSafe(p.keyId) } : {}),
  };
}

/**
 * The request a gateway is asking about (X-Forwarded-Method/-Uri from Traefik and Caddy,
 * X-Original-Method/-URI as nginx configurations usually name them): for the log only; the path
 * without its query string, which may carry secrets.
 */
export function forwardedRequest(ctx: Context): { method?: string; path?: string; host?: string } | undefined {
  const method = ctx.get('x-forwarded-method') || ctx.get('x-original-method');
  const uri = ctx.get('x-forwarded-uri') || ctx.get('x-original-uri');
  const host = ctx.get('x-forwarded-host');
  if (!method && !uri) return undefined;
  return {
    ...(method ? { method: method.slice(0, 16) } : {}),
    ...(uri ? { path: uri.split('?')[0]!.slice(0, 512) } : {}),
    ...(host ? { host: host.slice(0, 255) } : {}),
  };
}
