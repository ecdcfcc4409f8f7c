import type { Context } from 'koa';
import type { AppError } from '../errors.ts';

/** How each surface writes an error body. */
export type Dialect = 'v1' | 'medusa' | 'oauth' | 'plain';

const MEDUSA_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_data',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  // Medusa's MedusaError.Types.NOT_ALLOWED, for a method the route does not have.
  405: 'not_allowed',
  409: 'duplicate_error',
  413: 'payload_too_large',
  415: 'invalid_data',
  429: 'too_many_requests',
};

/**
 * Medusa's `type` and message per code, where they are not the status's type and our own message
 * (Medusa answers every refused credential with "Unauthorized").
 */
const MEDUSA_BY_CODE: Record<string, { type?: string; message?: string }> = {
  invalid_request: { type: 'invalid_data' },
  not_allowed: { type: 'not_allowed' },
  cross_site_write: { type: 'not_allowed' },
  invalid_token: { message: 'Unauthorized' },
  token_expired: { message: 'Unauthorized' },
  invalid_credentials: { message: 'Unauthorized' },
  service_unavailable: { type: 'unknown_error' },
};

/** The /v1 (and plain) error name of the codes that are finer than it. */
const V1_ERROR_BY_CODE: Record<string, string> = {
  cross_site_write: 'forbidden',
  invalid_email_or_password: 'invalid_credentials',
  invalid_reset_token: 'invalid_token',
};

const OAUTH_ERROR_BY_CODE: Record<string, string> = {
  invalid_credentials: 'invalid_grant',
  invalid_email_or_password: 'invalid_grant',
  token_expired: 'invalid_token',
  not_found: 'invalid_request',
  payload_too_large: 'invalid_request',
  unsupported_media_type: 'invalid_request',
  rate_limit_exceeded: 'slow_down',
  service_unavailable: 'temporarily_unavailable',
};

export function renderError(ctx: Context, err: AppError, dialect: Dialect): void {
  const v1Error = V1_ERROR_BY_CODE[err.code] ?? err.code;
  ctx.status = err.status;
  for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
  switch (dialect) {
    case 'v1':
      ctx.body = { error: v1Error, message: err.message, code: err.status, timestamp: new Date().toISOString() };
      return;
    case 'medusa': {
      const wording = MEDUSA_BY_CODE[err.code];
      ctx.body = { type: wording?.type ?? MEDUSA_TYPE_BY_STATUS[err.status] ?? 'unknown_error', message: wording?.message ?? err.message };
      return;
    }
    case 'oauth':
      ctx.body = { error: OAUTH_ERROR_BY_CODE[err.code] ?? v1Error, error_description: err.message };
      return;
    case 'plain':
      ctx.body = { error: v1Error, message: err.message };
  }
}
