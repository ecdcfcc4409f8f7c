import type { Context } from 'koa';
import { AppError } from './errors.ts';

/** How each surface writes an error body (DESIGN.md §1). */
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

const OAUTH_ERROR_BY_CODE: Record<string, string> = {
  invalid_credentials: 'invalid_grant',
  token_expired: 'invalid_token',
  not_found: 'invalid_request',
  payload_too_large: 'invalid_request',
  unsupported_media_type: 'invalid_request',
  rate_limit_exceeded: 'slow_down',
  service_unavailable: 'temporarily_unavailable',
};

export function renderError(ctx: Context, err: AppError, dialect: Dialect): void {
  ctx.status = err.status;
  for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
  switch (dialect) {
    case 'v1':
      ctx.body = { error: err.code, message: err.message, code: err.status, timestamp: new Date().toISOString() };
      return;
    case 'medusa':
      ctx.body = {
        type: err.medusaType ?? MEDUSA_TYPE_BY_STATUS[err.status] ?? 'unknown_error',
        message: err.medusaMessage ?? err.message,
      };
      return;
    case 'oauth':
      ctx.body = { error: OAUTH_ERROR_BY_CODE[err.code] ?? err.code, error_description: err.message };
      return;
    case 'plain':
      ctx.body = { error: err.code, message: err.message };
  }
}
