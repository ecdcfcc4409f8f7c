import Router from '@koa/router';
import type { Services } from '../services.ts';

/** /health (process alive), /ready (store reachable), and the public keys. */
export function createOperationsRouter(s: Services): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    try {
      await s.store.ping();
      ctx.body = { status: 'ready', store: s.store.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: s.store.kind };
    }
  });
  router.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/jwk-set+json';
    ctx.body = s.keystore.publicJwks;
  });
  return router;
}
