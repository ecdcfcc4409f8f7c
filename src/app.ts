import Koa from 'koa';
import { mountSurface } from './http/surface.ts';
import { requestLog } from './http/request-log.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createOperationsRouter } from './routes/operations.ts';
import { createV1AuthRouter } from './routes/v1/auth.ts';
import type { Services } from './services.ts';

/**
 * Build the Koa app from its parts: the one place that wires surfaces to services.
 * Each surface (DESIGN.md §1) gets its prefix, error dialect, body limit and routes.
 */
export async function createApp(s: Services): Promise<Koa> {
  const { config, logger } = s;
  const app = new Koa({ proxy: config.trustProxy, keys: [config.cookieSecret] });
  app.silent = true;

  app.use(requestLog(logger));
  app.use(securityHeaders());

  app.use(
    mountSurface({ prefix: '/v1', dialect: 'v1', logger, bodyLimit: config.bodyLimit, routers: [createV1AuthRouter(s).prefix('/v1')] }),
  );

  const operations = createOperationsRouter(s);
  app.use(operations.routes());
  app.use(operations.allowedMethods());
  return app;
}
