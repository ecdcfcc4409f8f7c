import type { Middleware } from 'koa';
import type { ApiKeys } from '../api-keys/api-keys.ts';
import { NotAllowedError } from '../errors.ts';

export const PUBLISHABLE_KEY_HEADER = 'x-publishable-api-key';

declare module 'koa' {
  interface DefaultState {
    /** The storefront's publishable key, on /store routes. */
    publishableKey?: { id: string; salesChannelIds: string[]; rateLimit?: string };
  }
}

export class PublishableKeyRequiredError extends NotAllowedError {
  constructor() {
    super(
      `Publishable API key required in the request header: ${PUBLISHABLE_KEY_HEADER}. You can manage your keys in settings in the dashboard.`,
    );
  }
}

export class InvalidPublishableKeyError extends NotAllowedError {
  constructor() {
    super('A valid publishable key is required to proceed with the request');
  }
}

/**
 * /store/*: a publishable key is required (Medusa's messages, 400 not_allowed). Unknown, secret,
 * revoked or expired keys are refused alike. The request then knows the key's sales channels.
 */
export function requirePublishableKey(apiKeys: ApiKeys): Middleware {
  return async (ctx, next) => {
    const token = ctx.get(PUBLISHABLE_KEY_HEADER);
    if (!token) throw new PublishableKeyRequiredError();
    const key = await apiKeys.authenticate(token, 'publishable');
    if (!key) throw new InvalidPublishableKeyError();
    apiKeys.touch(key.id);
    ctx.state.publishableKey = {
      id: key.id,
      salesChannelIds: key.sales_channel_ids,
      ...(key.rate_limit ? { rateLimit: key.rate_limit } : {}),
    };
    return next();
  };
}
