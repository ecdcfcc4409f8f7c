import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Services } from '../services.ts';

/** /health (process alive), /ready (the store can serve requests), /metrics (Prometheus), and the public keys. */
export function createOperationsRouter(s: Services): Router {
  const router = new Router();
  const metricsAuthorization = s.config.metricsToken ? Buffer.from(`Bearer ${s.config.metricsToken}`) : null;
  router.get('/metrics', async (ctx) => {
    if (metricsAuthorization) {
      const given = Buffer.from(ctx.get('authorization'));
      if (given.length !== metricsAuthorization.length || !timingSafeEqual(given, metricsAuthorization)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.body = { status: 'unauthorized' };
        return;
      }
    }
    ctx.type = s.metrics.registry.contentType;
    ctx.body = await s.metrics.registry.metrics();
  });
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    if (await s.store.ready()) ctx.body = { status: 'ready', store: s.store.kind };
    else {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: s.store.kind };
    }
  });
  router.get('/.well-known/jwks.json', (ctx) => {
    // JWKS_MAX_AGE: a new key is published as next at least this long before it signs (SIGNING_KEY_LEAD_TIME).
    ctx.set('Cache-Control', `public, max-age=${s.config.jwksMaxAge}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = s.keystore.publicJwks;
  });
  return router;
}
