import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import type { OperationRegistry } from '../http/route.ts';
import { buildOpenApiDocument } from './document.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** GET /openapi.json, built on first request (every router is defined by then) and kept. */
export function createOpenApiRouter(deps: { operations: OperationRegistry; publicUrl: string }): Router {
  const router = new Router();
  let document: string | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= JSON.stringify(buildOpenApiDocument(deps.operations, { serverUrl: deps.publicUrl, version: VERSION }));
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = document;
  });
  return router;
}
