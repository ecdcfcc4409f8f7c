/**
 * Errors as classes with a stable `code` (the /v1 error name) and an HTTP status.
 * Each surface renders them in its own dialect (see dialects.ts); the classes know nothing of that,
 * except an optional Medusa `type`/message where Medusa's wording differs from ours.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (Retry-After, WWW-Authenticate...). */
  headers: Record<string, string> = {};
  /** Medusa's `type` for this error, when it is not derived from the status. */
  medusaType?: string;
  /** Medusa's message, when it must differ from ours (e.g. always "Unauthorized"). */
  medusaMessage?: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends AppError {
  constructor(message = 'The request is invalid') {
    super(400, 'invalid_request', message);
    this.medusaType = 'invalid_data';
  }
}

export class NotAllowedError extends AppError {
  constructor(message: string) {
    super(400, 'not_allowed', message);
    this.medusaType = 'not_allowed';
  }
}

export class InvalidTokenError extends AppError {
  constructor(message = 'The provided token is invalid or has expired') {
    super(401, 'invalid_token', message);
    this.medusaMessage = 'Unauthorized';
  }
}

export class TokenExpiredError extends AppError {
  constructor(message = 'The access token has expired') {
    super(401, 'token_expired', message);
    this.medusaMessage = 'Unauthorized';
  }
}

export class InvalidCredentialsError extends AppError {
  constructor(message = 'Username or password incorrect') {
    super(401, 'invalid_credentials', message);
    this.medusaMessage = 'Unauthorized';
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to perform this action') {
    super(403, 'forbidden', message);
  }
}

export class InsufficientScopeError extends AppError {
  readonly required: string[];
  constructor(required: string[]) {
    super(403, 'insufficient_scope', `The credential lacks the required scope: ${required.join(' ')}`);
    this.required = required;
    this.medusaType = 'forbidden';
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allow: string) {
    super(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
    this.headers.Allow = allow;
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(413, 'payload_too_large', `The request body exceeds ${limit} bytes`);
    this.medusaType = 'payload_too_large';
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Send the body as application/json') {
    super(415, 'unsupported_media_type', message);
    this.medusaType = 'invalid_data';
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests, retry later') {
    super(429, 'rate_limit_exceeded', message);
    this.medusaType = 'too_many_requests';
    this.headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'The service is temporarily unavailable') {
    super(503, 'service_unavailable', message);
    this.medusaType = 'unknown_error';
  }
}

/** Throw `error` unless `condition` holds (Logto's assertThat). */
export function assertThat(condition: unknown, error: AppError | (() => AppError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}
