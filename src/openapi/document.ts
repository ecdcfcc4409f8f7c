import { z } from 'zod';
import type { OperationRegistry, OperationSpec } from '../http/route.ts';
import { SESSION_COOKIE } from '../principal/session.ts';

type JsonSchema = Record<string, unknown>;
type AnyOperation = OperationSpec<z.ZodType | undefined, z.ZodType | undefined>;

/** The security schemes route specs name in `security`. */
export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'A first-party JWT, an OAuth access token, or a secret API key (sk_…)' },
  basic: { type: 'http', scheme: 'basic', description: 'A secret API key as the user name: Basic base64(sk_…:)' },
  publishableKey: { type: 'apiKey', in: 'header', name: 'x-publishable-api-key', description: 'A publishable API key (pk_…): required on /store' },
  session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'A session cookie from POST /auth/session' },
} as const;

const TAG_DESCRIPTIONS: Record<string, string> = {
  v1: 'The generic API: password login, refresh, logout, verify (also forward auth for gateways)',
  admin: 'Medusa-style back office: users, API keys, sales channels',
  store: 'Medusa-style storefront: customers, with a publishable key',
  auth: 'Medusa v2 authentication routes (@medusajs/js-sdk)',
};

/** zod -> JSON Schema 2020-12 (OpenAPI 3.1's dialect), without the `$schema` line inside the document. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** What every surface answers on errors a route does not list (400, 401, 403, 404, 413, 415, 429, 503). */
const SURFACE_ERRORS: { prefix: string; schema: JsonSchema }[] = [
  {
    prefix: '/v1/',
    schema: {
      type: 'object',
      properties: { error: { type: 'string' }, message: { type: 'string' }, code: { type: 'integer' }, timestamp: { type: 'string', format: 'date-time' } },
      required: ['error', 'message', 'code', 'timestamp'],
    },
  },
  ...['/admin/', '/store/', '/auth/'].map((prefix) => ({
    prefix,
    schema: { type: 'object', properties: { type: { type: 'string' }, message: { type: 'string' } }, required: ['type', 'message'] },
  })),
];

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operationId = (op: AnyOperation) =>
  `${op.method}${op.path.replace(/[:{}]/g, '').split(/[/_-]+/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('')}`;

function parametersOf(op: AnyOperation): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  if (op.query) {
    const q = jsonSchema(op.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      const { description, ...rest } = schema as { description?: string };
      params.push({ name, in: 'query', required: q.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
    }
  }
  for (const h of op.headers ?? []) params.push({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } });
  return params;
}

/** Headers every rate-limited response carries (README: Rate limits and forward auth). */
const RATE_LIMIT_HEADERS: Record<string, JsonSchema> = {
  'RateLimit-Limit': { description: 'Requests allowed per window for this credential', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left right now', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the full quota is available again (delta seconds, not a time)', schema: { type: 'integer' } },
  'RateLimit-Policy': { description: 'The quota, e.g. `1000;w=3600`', schema: { type: 'string' } },
};
const RETRY_AFTER: JsonSchema = { description: 'Seconds to wait before retrying', schema: { type: 'integer' } };
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

function responseHeaders(op: AnyOperation, status: string, declared: Record<string, string> | undefined): Record<string, unknown> | undefined {
  const headers: Record<string, unknown> = {};
  // Requests with a credential spend a quota: every answer to them carries the RateLimit fields.
  if (op.security?.length && status !== '401') for (const name of Object.keys(RATE_LIMIT_HEADERS)) headers[name] = headerRef(name);
  if (status === '429' || status === '503' || status === 'default') headers['Retry-After'] = headerRef('Retry-After');
  for (const [name, description] of Object.entries(declared ?? {})) headers[name] = { description, schema: { type: 'string' } };
  return Object.keys(headers).length ? headers : undefined;
}

function operationObject(op: AnyOperation): JsonSchema {
  const parameters = parametersOf(op);
  const responses: Record<string, JsonSchema> = Object.fromEntries(
    Object.entries(op.responses).map(([status, r]) => {
      const headers = responseHeaders(op, status, r.headers);
      return [
        status,
        {
          description: r.description,
          ...(headers ? { headers } : {}),
          ...(r.schema ? { content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } } : {}),
        },
      ];
    }),
  );
  const surfaceError = SURFACE_ERRORS.find((e) => op.path.startsWith(e.prefix));
  if (surfaceError && !responses.default) {
    responses.default = {
      description: 'An error in the surface\'s dialect: 400 invalid input, 401, 403, 404, 413 body too large, 415, 429 rate limited (Retry-After), 503',
      headers: responseHeaders(op, 'default', undefined),
      content: { 'application/json': { schema: surfaceError.schema } },
    };
  }
  return {
    operationId: operationId(op),
    tags: op.tags,
    summary: op.summary,
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: jsonSchema(op.body, 'input') },
              'application/x-www-form-urlencoded': { schema: jsonSchema(op.body, 'input') },
            },
          },
        }
      : {}),
    ...(op.security ? { security: op.security.map((name) => ({ [name]: [] })) } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 description of every operation defined with defineRoute: generated from the
 * very schemas that validate requests, so the document cannot drift from the code.
 */
export function buildOpenApiDocument(registry: OperationRegistry, opts: { serverUrl: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const seen = new Set<string>();
  for (const op of registry.operations) {
    const path = toOpenApiPath(op.path);
    const key = `${op.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    (paths[path] ??= {})[op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis',
      version: opts.version,
      description:
        'Authorization server: first-party JWTs (/v1), Medusa-compatible /admin, /store and /auth surfaces, API keys. OAuth 2.0 / OIDC endpoints are described by /.well-known/openid-configuration.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: opts.serverUrl }],
    tags: [...new Set(registry.operations.flatMap((op) => op.tags))].map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, headers: { ...RATE_LIMIT_HEADERS, 'Retry-After': RETRY_AFTER } },
  };
}
