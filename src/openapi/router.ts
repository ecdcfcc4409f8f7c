import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import type { OperationRegistry } from '../http/route.ts';
import { buildOpenApiDocument } from './document.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * GET /openapi.json, built on first request (every router is defined by then) and kept. The
 * document is public and needs no credential, so any origin may read it: a hosted viewer
 * (Swagger UI, Redoc, Scalar) loads it cross-origin.
 */
export function createOpenApiRouter(deps: { operations: OperationRegistry; publicUrl: string }): Router {
  const router = new Router();
  let document: string | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= JSON.stringify(buildOpenApiDocument(deps.operations, { serverUrl: deps.publicUrl, version: VERSION }));
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = document;
  });
  // A viewer that sends a header of its own asks first.
  router.options('/openapi.json', (ctx) => {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    ctx.set('Access-Control-Allow-Headers', ctx.get('access-control-request-headers') || 'accept');
    ctx.set('Access-Control-Max-Age', '86400');
    ctx.status = 204;
  });
  return router;
}
