import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createMemoryStore } from './memory.ts';
import type { Store } from './port.ts';
import { createRedisStore } from './redis.ts';

/** REDIS_URL -> the Redis store; no REDIS_URL -> the embedded in-process store (development only). */
export async function openStore(
  config: Pick<Config, 'redisUrl' | 'redisPrefix' | 'redisCommandTimeoutMs' | 'redisCluster'>,
  logger: Logger,
  opts: { connectWaitMs?: number } = {},
): Promise<Store> {
  if (!config.redisUrl) {
    logger.warn('REDIS_URL is not set: using the embedded store, data lives in this process only and is lost on exit');
    return createMemoryStore();
  }
  let lastError = '';
  let everReady = false;
  return createRedisStore({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    connectWaitMs: opts.connectWaitMs,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    cluster: config.redisCluster,
    onReady: () => {
      if (everReady || lastError) logger.info({ redis: redactUrl(config.redisUrl!) }, 'redis connected');
      everReady = true;
      lastError = '';
    },
    onError: (err) => {
      // The client reconnects by itself; log each distinct failure once, not every retry.
      if (err.message !== lastError)
        logger.error({ err: { message: err.message }, redis: redactUrl(config.redisUrl!) }, 'redis connection error');
      lastError = err.message;
    },
  });
}

/** A Redis URL without its password, fit for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}
