import type { z } from 'zod';
import type { OperationRegistry, OperationSpec } from '../http/route.ts';
import { SESSION_COOKIE } from '../principal/session.ts';
import { OAUTH_CLIENT_SCHEME, oauthPaths } from './oauth-paths.ts';
import { schemaRef, SchemaComponents, type JsonSchema } from './schemas.ts';

type AnyOperation = OperationSpec<z.ZodType | undefined, z.ZodType | undefined>;

/** The security schemes route specs name in `security`. */
export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'A first-party JWT, an OAuth access token, or a secret API key (sk_…)' },
  basic: { type: 'http', scheme: 'basic', description: 'A secret API key as the user name: Basic base64(sk_…:)' },
  publishableKey: {
    type: 'apiKey',
    in: 'header',
    name: 'x-publishable-api-key',
    description: 'A publishable API key (pk_…): required on /store',
  },
  session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'A session cookie from POST /auth/session' },
  oauthClient: OAUTH_CLIENT_SCHEME,
} as const;

const TAG_DESCRIPTIONS: Record<string, string> = {
  v1: 'The generic API: password login, refresh, logout, verify (also forward auth for gateways)',
  admin: 'Medusa-style back office: users, API keys, sales channels',
  store: 'Medusa-style storefront: customers, with a publishable key',
  auth: 'Medusa v2 authentication routes (@medusajs/js-sdk)',
  'api-keys': 'Publishable and secret API keys: create, roll, revoke, scopes, expiry, rate limits',
  'oauth-clients': 'The OAuth client registry',
  oauth: 'OAuth 2.0 / OpenID Connect (oidc-provider): the endpoints clients call, and discovery',
  account: "A person's own account (first-party JWT or session cookie): profile, password, sign-ins, connected apps, activity",
};

/** What every surface answers on errors a route does not list (400, 401, 403, 404, 413, 415, 429, 503): a component the routes name. */
const SURFACE_ERRORS: { prefix: string; schema: string }[] = [
  { prefix: '/v1/', schema: 'V1Error' },
  ...['/admin/', '/store/', '/auth/'].map((prefix) => ({ prefix, schema: 'MedusaError' })),
];

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operationId = (op: AnyOperation) =>
  `${op.method}${op.path
    .replace(/[:{}]/g, '')
    .split(/[/_-]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('')}`;

function parametersOf(op: AnyOperation, components: SchemaComponents): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g))
    params.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  if (op.query) {
    const q = components.convert(op.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      const { description, ...rest } = schema as { description?: string };
      params.push({
        name,
        in: 'query',
        required: q.required?.includes(name) ?? false,
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  for (const h of op.headers ?? [])
    params.push({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } });
  return params;
}

/** Headers every rate-limited response carries (README: Rate limits and forward auth). */
const RATE_LIMIT_HEADERS: Record<string, JsonSchema> = {
  'RateLimit-Limit': { description: 'Requests allowed per window for this credential', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left right now', schema: { type: 'integer' } },
  'RateLimit-Reset': {
    description: 'Seconds until the full quota is available again (delta seconds, not a time)',
    schema: { type: 'integer' },
  },
  'RateLimit-Policy': { description: 'The quota, e.g. `1000;w=3600`', schema: { type: 'string' } },
};
const RETRY_AFTER: JsonSchema = { description: 'Seconds to wait before retrying', schema: { type: 'integer' } };
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Requests with a credential spend a quota: every answer to them carries the RateLimit fields. */
const spendsQuota = (op: AnyOperation) => Boolean(op.security?.length);

function responseHeaders(
  quota: boolean,
  status: string,
  declared: Record<string, string> | undefined,
): Record<string, unknown> | undefined {
  const headers: Record<string, unknown> = {};
  if (quota && status !== '401') for (const name of Object.keys(RATE_LIMIT_HEADERS)) headers[name] = headerRef(name);
  if (status === '429' || status === '503' || status === 'default') headers['Retry-After'] = headerRef('Retry-After');
  for (const [name, description] of Object.entries(declared ?? {})) headers[name] = { description, schema: { type: 'string' } };
  return Object.keys(headers).length ? headers : undefined;
}

const pascal = (words: string) =>
  words
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

function operationObject(op: AnyOperation, components: SchemaComponents): JsonSchema {
  const id = operationId(op);
  const parameters = parametersOf(op, components);
  const responses: Record<string, JsonSchema> = Object.fromEntries(
    Object.entries(op.responses).map(([status, r]) => {
      const headers = responseHeaders(spendsQuota(op), status, r.headers);
      return [
        status,
        {
          description: r.description,
          ...(headers ? { headers } : {}),
          ...(r.schema ? { content: { 'application/json': { schema: components.convert(r.schema, 'output') } } } : {}),
        },
      ];
    }),
  );
  const surfaceError = SURFACE_ERRORS.find((e) => op.path.startsWith(e.prefix));
  if (surfaceError && !responses.default) {
    responses.default = { $ref: `#/components/responses/${surfaceError.schema}${spendsQuota(op) ? 'WithQuota' : ''}` };
  }
  // One component per body, which both encodings name.
  const body = op.body ? components.named(`${pascal(id)}Body`, op.body, 'input') : undefined;
  return {
    operationId: id,
    tags: op.tags,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: body }, 'application/x-www-form-urlencoded': { schema: body } },
          },
        }
      : {}),
    ...(op.security ? { security: op.security.map((name) => ({ [name]: [] })) } : {}),
    responses,
  };
}

/** The default error answers, with and without the RateLimit headers of a request that spends a quota. */
function surfaceErrorResponses(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const schema of new Set(SURFACE_ERRORS.map((e) => e.schema))) {
    for (const withQuota of [false, true]) {
      out[`${schema}${withQuota ? 'WithQuota' : ''}`] = {
        description:
          "An error in the surface's dialect: 400 invalid input, 401, 403, 404, 413 body too large, 415, 429 rate limited (Retry-After), 503",
        headers: responseHeaders(withQuota, 'default', undefined),
        content: { 'application/json': { schema: schemaRef(schema) } },
      };
    }
  }
  return out;
}

/**
 * A response several operations give word for word (verify answers every method alike; most
 * admin routes share 403 and 404) is described once in components.responses and referenced.
 */
function shareRepeatedResponses(paths: Record<string, Record<string, JsonSchema>>, shared: Record<string, JsonSchema>): void {
  const uses = new Map<string, { status: string; path: string; responses: Record<string, JsonSchema> }[]>();
  for (const [path, ops] of Object.entries(paths)) {
    for (const op of Object.values(ops)) {
      const responses = op.responses as Record<string, JsonSchema>;
      for (const [status, response] of Object.entries(responses)) {
        if ('$ref' in response || !response.content) continue;
        const key = JSON.stringify(response);
        uses.set(key, [...(uses.get(key) ?? []), { status, path, responses }]);
      }
    }
  }
  for (const [key, sites] of uses) {
    if (sites.length < 2) continue;
    const response = JSON.parse(key) as { description: string };
    // Named after the path when one path repeats it (verify's methods), else after what it says.
    const samePath = sites.every((s) => s.path === sites[0]!.path);
    const base = samePath
      ? `${pascal(sites[0]!.path)}${sites[0]!.status}`
      : pascal(
          response.description
            .split(/[:;(,.]/)[0]!
            .split(' ')
            .slice(0, 5)
            .join(' '),
        ) + sites[0]!.status;
    let name = base;
    for (let n = 2; shared[name]; n++) name = `${base}_${n}`;
    shared[name] = response;
    for (const site of sites) site.responses[site.status] = { $ref: `#/components/responses/${name}` };
  }
}

/** Every `$ref` in the document names something in it (a route naming a missing schema is a build error). */
function assertRefsResolve(doc: JsonSchema): void {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const { $ref } = node as { $ref?: unknown };
    if (typeof $ref === 'string') {
      const target = $ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (at, part) => (at as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')],
          doc,
        );
      if (target === undefined) throw new Error(`The API description refers to ${$ref}, which it does not hold`);
    }
    Object.values(node).forEach(walk);
  };
  walk(doc);
}

/**
 * The OpenAPI 3.1 description of every operation defined with defineRoute: generated from the
 * very schemas that validate requests, so the document cannot drift from the code. HTML pages
 * (the OAuth login and consent forms) are for browsers and left out; the OAuth endpoints the
 * provider serves are described by hand (oauth-paths.ts).
 */
export function buildOpenApiDocument(registry: OperationRegistry, opts: { serverUrl: string; version: string }): JsonSchema {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const seen = new Set<string>();
  const operations = registry.operations.filter((op) => !op.page);
  for (const op of operations) {
    const path = toOpenApiPath(op.path);
    const key = `${op.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    (paths[path] ??= {})[op.method] = operationObject(op, components);
  }
  const responses = surfaceErrorResponses();
  shareRepeatedResponses(paths, responses);
  Object.assign(paths, oauthPaths(components));
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis',
      version: opts.version,
      description:
        'Authorization server: first-party JWTs (/v1), Medusa-compatible /admin, /store and /auth surfaces, API keys, and an OAuth 2.0 / OpenID Connect provider (/oauth, discovery at /.well-known/openid-configuration).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: opts.serverUrl }],
    tags: [...new Set([...operations.flatMap((op) => op.tags), 'oauth'])].map((name) => ({
      name,
      ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}),
    })),
    paths,
    components: {
      schemas: components.schemas,
      responses,
      headers: { ...RATE_LIMIT_HEADERS, 'Retry-After': RETRY_AFTER },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
  assertRefsResolve(doc);
  return doc;
}
