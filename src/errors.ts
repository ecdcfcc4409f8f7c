/**
 * Errors as classes with a stable `code` and an HTTP status: the vocabulary every layer throws in.
 * Each surface renders them in its own dialect (src/http/dialects.ts maps codes to each dialect's
 * wording); the classes know nothing of that.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (Retry-After, WWW-Authenticate...). */
  headers: Record<string, string> = {};

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
  }
}

export class NotAllowedError extends AppError {
  constructor(message: string) {
    super(400, 'not_allowed', message);
  }
}

export class InvalidTokenError extends AppError {
  constructor(message = 'The provided token is invalid or has expired') {
    super(401, 'invalid_token', message);
  }
}

export class TokenExpiredError extends AppError {
  constructor(message = 'The access token has expired') {
    super(401, 'token_expired', message);
  }
}

export class InvalidCredentialsError extends AppError {
  constructor(message = 'Username or password incorrect') {
    super(401, 'invalid_credentials', message);
  }
}

/** A failed email/password login where the client shows the message (Medusa's /auth wording). */
export class InvalidEmailOrPasswordError extends AppError {
  constructor() {
    super(401, 'invalid_email_or_password', 'Invalid email or password');
  }
}

/** A password-reset token that is unknown, used, expired or for another account. */
export class InvalidResetTokenError extends AppError {
  constructor() {
    super(401, 'invalid_reset_token', 'Invalid token');
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
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Send the body as application/json') {
    super(415, 'unsupported_media_type', message);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests, retry later') {
    super(429, 'rate_limit_exceeded', message);
    this.headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'The service is temporarily unavailable') {
    super(503, 'service_unavailable', message);
  }
}
