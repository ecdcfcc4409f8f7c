import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { Logger } from '../logger.ts';
import { StoreUnavailableError } from '../store/port.ts';

/** Seconds a client should wait before retrying when the store is unavailable. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The store is unavailable (Redis down, frozen, cluster down): RFC 6749's `temporarily_unavailable`
 * with 503, which oidc-provider renders in its own format (JSON, its error page, or a redirect to
 * the client with `error=temporarily_unavailable`) instead of a 500 `server_error`.
 */
export class OAuthTemporarilyUnavailableError extends errors.OIDCProviderError {
  constructor() {
    super(503, 'temporarily_unavailable');
    this.error_description = 'The service is temporarily unavailable, retry shortly';
    // oidc-provider hides 5xx details (server_error) unless told this one is for the client.
    this.expose = true;
  }
}

export const isUnavailable = (err: unknown): boolean =>
  err instanceof StoreUnavailableError || err instanceof OAuthTemporarilyUnavailableError;

/**
 * Store calls made for oidc-provider (its adapter, findAccount) go through `call`, which turns the
 * store's unavailability into OAuthTemporarilyUnavailableError. Within one request, once the store
 * has failed, further calls fail at once: oidc-provider retries some lookups in its error handlers,
 * and each would otherwise wait out the Redis command timeout again.
 */
export function createOutageGuard(logger: Logger) {
  const request = new AsyncLocalStorage<{ down: boolean }>();

  return {
    async call<T>(op: () => Promise<T>): Promise<T> {
      const state = request.getStore();
      if (state?.down) throw new OAuthTemporarilyUnavailableError();
      try {
        return await op();
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        if (state) state.down = true;
        throw new OAuthTemporarilyUnavailableError();
      }
    },

    /** Provider middleware: scopes the outage memo to the request, and adds Retry-After to its 503s. */
    middleware: (async (ctx, next) => {
      const state = { down: false };
      await request.run(state, next);
      if (ctx.status === 503) {
        ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        // Said once per request, as a warning: the request log line beside it names the request.
        if (state.down) logger.warn('oauth: store unavailable, answered 503');
      }
    }) as Middleware,
  };
}
export type OutageGuard = ReturnType<typeof createOutageGuard>;
