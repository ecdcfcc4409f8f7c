import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuplicateEmailError } from '../../src/accounts/accounts.ts';
import { renderError, type Dialect } from '../../src/http/dialects.ts';
import {
  AppError,
  ForbiddenError,
  InsufficientScopeError,
  InvalidCredentialsError,
  InvalidRequestError,
  InvalidTokenError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ServiceUnavailableError,
  TokenExpiredError,
  UnsupportedMediaTypeError,
} from '../../src/errors.ts';
import { koaContext } from '../helpers/koa-context.ts';

function render(err: AppError, dialect: Dialect) {
  const ctx = koaContext();
  renderError(ctx, err, dialect);
  return { status: ctx.status, body: ctx.body as Record<string, unknown>, headers: ctx.response.headers };
}

describe('error dialects', () => {
  it('v1: {error, message, code, timestamp}', () => {
    const { status, body } = render(new InvalidTokenError('The token has been revoked'), 'v1');
    assert.equal(status, 401);
    assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'timestamp']);
    assert.equal(body.error, 'invalid_token');
    assert.equal(body.message, 'The token has been revoked');
    assert.equal(body.code, 401);
    assert.ok(!Number.isNaN(Date.parse(body.timestamp as string)));
  });

  it('Medusa: {type, message} with Medusa wording: every authentication failure is just "Unauthorized"', () => {
    const cases: [AppError, number, string, string][] = [
      [new InvalidRequestError('bad'), 400, 'invalid_data', 'bad'],
      [new InvalidTokenError('The token has been revoked'), 401, 'unauthorized', 'Unauthorized'],
      [new TokenExpiredError(), 401, 'unauthorized', 'Unauthorized'],
      [new InvalidCredentialsError(), 401, 'unauthorized', 'Unauthorized'],
      [new ForbiddenError(), 403, 'forbidden', 'You are not allowed to perform this action'],
      [new InsufficientScopeError(['admin']), 403, 'forbidden', 'The credential lacks the required scope: admin'],
      [new NotFoundError('API Key apk_1 was not found'), 404, 'not_found', 'API Key apk_1 was not found'],
      [new MethodNotAllowedError('PUT', '/auth/session', 'POST, DELETE'), 405, 'not_allowed', 'PUT is not allowed on /auth/session'],
      [new DuplicateEmailError('customer'), 409, 'duplicate_error', 'A customer with this email already exists'],
      [new PayloadTooLargeError(1024), 413, 'payload_too_large', 'The request body exceeds 1024 bytes'],
      [new UnsupportedMediaTypeError(), 415, 'invalid_data', 'Send the body as application/json'],
      [new RateLimitedError(3), 429, 'too_many_requests', 'Too many requests, retry later'],
      [new ServiceUnavailableError(), 503, 'unknown_error', 'The service is temporarily unavailable'],
      [new AppError(418, 'teapot', 'short and stout'), 418, 'unknown_error', 'short and stout'],
    ];
    for (const [err, status, type, message] of cases) {
      const out = render(err, 'medusa');
      assert.equal(out.status, status, err.name);
      assert.deepEqual(out.body, { type, message }, err.name);
    }
  });

  it('OAuth: {error, error_description} with RFC 6749/6750 error codes', () => {
    const cases: [AppError, string][] = [
      [new InvalidRequestError('bad'), 'invalid_request'],
      [new InvalidTokenError(), 'invalid_token'],
      [new TokenExpiredError(), 'invalid_token'],
      [new InvalidCredentialsError(), 'invalid_grant'],
      [new InsufficientScopeError(['read']), 'insufficient_scope'],
      [new NotFoundError(), 'invalid_request'],
      [new PayloadTooLargeError(10), 'invalid_request'],
      [new UnsupportedMediaTypeError(), 'invalid_request'],
      [new RateLimitedError(1), 'slow_down'],
      [new ServiceUnavailableError(), 'temporarily_unavailable'],
    ];
    for (const [err, error] of cases) assert.deepEqual(render(err, 'oauth').body, { error, error_description: err.message }, err.name);
  });

  it('plain: {error, message}', () => {
    assert.deepEqual(render(new NotFoundError(), 'plain').body, { error: 'not_found', message: 'Not found' });
  });

  it('sends the error headers in every dialect', () => {
    for (const dialect of ['v1', 'medusa', 'oauth', 'plain'] as const) {
      assert.equal(render(new RateLimitedError(2.2), dialect).headers['retry-after'], '3', dialect);
      assert.equal(render(new MethodNotAllowedError('PUT', '/x', 'GET, HEAD'), dialect).headers.allow, 'GET, HEAD', dialect);
    }
  });
});
