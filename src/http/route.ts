import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { validate } from './validate.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers worth documenting (name -> description), e.g. the X-Auth-* of forward auth. */
  headers?: Record<string, string>;
}

/** One documented operation: the schemas here both validate requests and generate /openapi.json. */
export interface OperationSpec<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined> {
  method: Method;
  /** Koa path, e.g. "/admin/api-keys/:id" (converted to "{id}" in the OpenAPI document). */
  path: string;
  tags: string[];
  /** One line: what the operation does. */
  summary: string;
  /** The rest a caller needs (rules, limits, what is refused), Markdown: shown under the summary. */
  description?: string;
  /** An HTML page for browsers (the OAuth login and consent forms): validated like any route, but not API, so not in /openapi.json. */
  page?: boolean;
  /** Security scheme names (see openapi document): "bearer", "basic", "publishableKey", "session". */
  security?: string[];
  body?: B;
  query?: Q;
  /** Extra path/header parameters documented but validated elsewhere. */
  headers?: { name: string; required: boolean; description: string }[];
  responses: Record<number, ResponseSpec>;
}

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
}

/** Every operation defined through `defineRoute`, in definition order: the OpenAPI source. */
export class OperationRegistry {
  readonly operations: OperationSpec<z.ZodType | undefined, z.ZodType | undefined>[] = [];
}

/**
 * Register a route on `router` whose body and query are validated by the spec's schemas
 * (400 with the surface's error body on failure), and record the spec for the API description.
 */
export function defineRoute<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
  router: Router,
  registry: OperationRegistry,
  spec: OperationSpec<B, Q>,
  ...handlers: [
    ...RouterMiddleware[],
    (ctx: Context & { params: Record<string, string> }, input: RouteInput<Infer<B>, Infer<Q>>) => unknown,
  ]
): void {
  registry.operations.push(spec as OperationSpec<z.ZodType | undefined, z.ZodType | undefined>);
  const handler = handlers.pop() as (ctx: Context & { params: Record<string, string> }, input: RouteInput<Infer<B>, Infer<Q>>) => unknown;
  const guards = handlers as RouterMiddleware[];
  router[spec.method](spec.path, ...guards, async (ctx) => {
    const body = (spec.body ? validate(spec.body, ctx.request.body ?? {}) : undefined) as Infer<B>;
    const query = (spec.query ? validate(spec.query, ctx.query) : undefined) as Infer<Q>;
    await handler(ctx as unknown as Context & { params: Record<string, string> }, { body, query });
  });
}
