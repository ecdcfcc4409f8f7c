import { errors, type Configuration } from 'oidc-provider';
import { REDIRECT_URI_MAX_LENGTH } from './redirect-uris.ts';

/**
 * Size limits of an authorization request. An anonymous /oauth/authorize stores its parameters
 * for the interaction's lifetime, /oauth/par for a minute and /oauth/end-session in a session, so
 * what one request may make the store keep is bounded here: the whole request first (src/http/oauth/mount.ts,
 * before the provider reads it), then each parameter (below, inside the provider).
 */

/** Largest query string, and largest form body, of /oauth/authorize, /oauth/par and /oauth/end-session. */
export const AUTHORIZATION_REQUEST_MAX_BYTES = 8 * 1024;

/**
 * Longest value of each authorization request parameter, in characters. Only parameters the
 * provider already recognises are listed: naming one here adds it to what the provider accepts.
 * code_challenge's 43-128 characters (RFC 7636) are the provider's own check.
 */
const PARAM_MAX_LENGTH: Record<string, number> = {
  client_id: 128,
  redirect_uri: REDIRECT_URI_MAX_LENGTH,
  response_type: 64,
  response_mode: 64,
  scope: 1024,
  state: 512,
  nonce: 512,
  login_hint: 320,
  id_token_hint: 4096,
  code_challenge: 128,
  code_challenge_method: 16,
  prompt: 64,
  display: 32,
  max_age: 16,
  acr_values: 512,
  ui_locales: 256,
  claims_locales: 256,
  resource: REDIRECT_URI_MAX_LENGTH,
  // Request objects are off and only /oauth/par's own URNs are accepted: short is plenty.
  request: 4096,
  request_uri: 256,
  registration: 256,
};
/**
 * /oauth/end-session keeps its parameters in a session before anything is checked, so their
 * lengths are checked before the provider reads them (a 400: no redirect URI is trusted yet).
 */
const END_SESSION_MAX_LENGTH: Record<string, number> = {
  client_id: 128,
  id_token_hint: 4096,
  post_logout_redirect_uri: REDIRECT_URI_MAX_LENGTH,
  state: 512,
  logout_hint: 320,
  ui_locales: 256,
};

/** Why the end-session parameters in `sources` (a query string, a form body) are refused, or null. */
export function endSessionParamsProblem(sources: string[]): string | null {
  for (const source of sources) {
    for (const [name, value] of new URLSearchParams(source)) {
      const max = END_SESSION_MAX_LENGTH[name];
      if (max !== undefined && value.length > max) return `${name} must be at most ${max} characters`;
    }
  }
  return null;
}

/** At most this many `resource` values (RFC 8707 allows repeating it). */
const MAX_RESOURCES = 5;

function check(param: string, max: number, value: unknown): void {
  if (value === undefined || value === null) return;
  const values = Array.isArray(value) ? value : [value];
  if (values.length > MAX_RESOURCES) throw new errors.InvalidRequest(`${param}: at most ${MAX_RESOURCES} values`);
  for (const v of values) {
    if (typeof v === 'string' && v.length > max) throw new errors.InvalidRequest(`${param} must be at most ${max} characters`);
  }
}

/**
 * The provider's `extraParams` validators, one per limited parameter. The provider runs them after
 * it has checked the client and its redirect_uri, so an oversized parameter comes back to the
 * client as `error=invalid_request` on its redirect_uri (PAR: a 400 JSON body), before anything
 * is stored.
 */
export function authorizationParamLimits(): NonNullable<Configuration['extraParams']> {
  return Object.fromEntries(
    Object.entries(PARAM_MAX_LENGTH).map(([param, max]) => [param, async (_ctx: unknown, value: unknown) => check(param, max, value)]),
  ) as NonNullable<Configuration['extraParams']>;
}
