import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

type Response = {
  $ref?: string;
  description?: string;
  headers?: Record<string, { $ref?: string }>;
  content?: Record<string, { schema: object }>;
};
type Operation = {
  operationId: string;
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema?: { minimum?: number; maximum?: number } }[];
  responses: Record<string, Response>;
};
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, { properties?: Record<string, unknown> }>;
    responses: Record<string, Response>;
  };
};

/** The document with every `$ref` replaced by what it names: what it would weigh without shared components. */
function inlined(value: unknown, doc: Doc): unknown {
  if (Array.isArray(value)) return value.map((v) => inlined(v, doc));
  if (!value || typeof value !== 'object') return value;
  const ref = (value as { $ref?: string }).$ref;
  if (typeof ref === 'string') {
    const [, , kind, name] = ref.split('/') as [string, string, 'schemas' | 'responses', string];
    return inlined(doc.components[kind][name], doc);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'components' ? undefined : inlined(v, doc)]));
}

describe('/openapi.json', () => {
  let srv: TestServer;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  const checked = new Set<string>();

  before(async () => {
    srv = await startTestServer();
    const res = await http(`${srv.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    doc = res.json;
  });
  after(() => srv?.close());

  /** A response, or the shared response it refers to. */
  const resolved = (r: Response): Response => (r.$ref ? doc.components.responses[r.$ref.replace('#/components/responses/', '')]! : r);
  /** A schema of the document compiled with its components, which its $refs name. */
  const compile = (schema: object) => ajv.compile({ ...schema, components: doc.components });

  /** The operation a concrete request hits: its path template matched segment by segment. */
  function operationFor(method: string, url: string) {
    const path = new URL(url, 'http://x').pathname;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      if (re.test(path) && ops[method.toLowerCase()]) return { template, op: ops[method.toLowerCase()]! };
    }
    assert.fail(`${method} ${path} is not in the document`);
  }

  /** Make the request, and check the response against the schema the document declares for its status. */
  async function call(method: string, path: string, init: Parameters<typeof http>[1] = {}) {
    const res = await http(`${srv.url}${path}`, { method, ...init });
    const { template, op } = operationFor(method, path);
    const listed = op.responses[String(res.status)] ?? op.responses.default;
    assert.ok(listed, `${method} ${template} answered ${res.status}, which the document does not declare`);
    const declared = resolved(listed);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
    const schema = declared.content?.[type]?.schema ?? declared.content?.['application/json']?.schema;
    if (schema) {
      assert.ok(declared.content?.[type], `${method} ${template} ${res.status} answered ${type}, which the document does not declare`);
      const validate = compile(schema);
      assert.ok(validate(res.json), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 500)}`);
    } else {
      assert.equal(res.text, '', `${method} ${template} ${res.status} declares no body but sent one`);
    }
    // A success of an authenticated operation carries the headers the document promises.
    if (res.status < 300 && init.headers && 'authorization' in (init.headers as Record<string, string>)) {
      for (const [name, h] of Object.entries(declared.headers ?? {})) {
        const required =
          '$ref' in h ? String(h.$ref).includes('RateLimit') : ['X-Auth-User-Id', 'X-Auth-Scopes', 'X-Auth-Method'].includes(name);
        if (required)
          assert.ok(res.headers.get(name) !== null, `${method} ${template} ${res.status} lacks the ${name} header it documents`);
      }
    }
    checked.add(`${method} ${template} ${res.status}`);
    return res;
  }

  it('is a valid OpenAPI 3.1 document with the security schemes the routes name', async () => {
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(doc.openapi, /^3\.1\./);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer', 'oauthClient', 'publishableKey', 'session']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const requirement of op.security ?? [])
          for (const name of Object.keys(requirement))
            assert.ok(doc.components.securitySchemes[name], `${method} ${path} names unknown scheme ${name}`);
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g))
          assert.ok(
            op.parameters?.some((p) => p.in === 'path' && p.name === name),
            `${method} ${path} declares {${name}}`,
          );
        for (const r of Object.values(op.responses).map(resolved))
          for (const media of Object.values(r.content ?? {})) compile(media.schema);
      }
    }
  });

  it('covers /v1, /admin, /store and /auth', () => {
    for (const path of [
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/auth/logout',
      '/v1/auth/verify',
      '/admin/auth/token',
      '/admin/api-keys',
      '/admin/api-keys/{id}',
      '/store/auth/token',
      '/store/customers/me',
      '/auth/user/emailpass',
      '/auth/session',
      '/auth/token/refresh',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
  });

  it('describes what the main endpoints really answer', async () => {
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'admin@example.com',
      password: 'correct horse',
      role: 'admin',
    });
    await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'correct horse' });
    const pk = (await srv.services.apiKeys.create({ type: 'publishable', title: 'web', createdBy: admin.id })).token;

    // /v1
    const pair = (await call('POST', '/v1/auth/login', { json: { username: 'admin@example.com', password: 'correct horse' } })).json;
    await call('POST', '/v1/auth/login', { json: { username: 'admin@example.com', password: 'nope' } });
    await call('POST', '/v1/auth/login', { json: { username: 'admin@example.com' } });
    await call('POST', '/v1/auth/login', { headers: { 'content-type': 'application/json' }, body: '{"username":' });
    const bearer = { authorization: `Bearer ${pair.token}` };
    await call('GET', '/v1/auth/verify', { headers: bearer });
    await call('GET', '/v1/auth/verify?scope=admin&scope=write', { headers: bearer });
    await call('GET', '/v1/auth/verify?scope=billing', { headers: bearer });
    await call('GET', '/v1/auth/verify');
    await call('POST', '/v1/auth/verify', { headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30' } });
    const rotated = (await call('POST', '/v1/auth/refresh', { json: { refresh_token: pair.refresh_token } })).json;
    await call('POST', '/v1/auth/refresh', { json: { refresh_token: pair.refresh_token } });
    await call('POST', '/v1/auth/logout', { headers: { authorization: `Bearer ${rotated.token}` } });

    // /admin
    const adminToken = (await call('POST', '/admin/auth/token', { json: { email: 'admin@example.com', password: 'correct horse' } })).json
      .token;
    await call('POST', '/admin/auth/token', { json: { email: 'admin@example.com', password: 'wrong' } });
    const auth = { authorization: `Bearer ${adminToken}` };
    await call('GET', '/admin/users/me', { headers: auth });
    await call('GET', '/admin/users', { headers: auth });
    await call('GET', '/admin/users');
    const created = (await call('POST', '/admin/api-keys', { headers: auth, json: { title: 'ci', type: 'secret', scopes: ['read'] } })).json
      .api_key;
    await call('POST', '/admin/api-keys', { headers: auth, json: { title: '' } });
    await call('GET', '/admin/api-keys?limit=5', { headers: auth });
    await call('GET', `/admin/api-keys/${created.id}`, { headers: auth });
    await call('GET', '/admin/api-keys/apk_missing', { headers: auth });
    await call('GET', '/v1/auth/verify', { headers: { authorization: `Bearer ${created.token}` } });

    // /store
    const customerToken = (
      await call('POST', '/store/auth/token', {
        headers: { 'x-publishable-api-key': pk },
        json: { email: 'shopper@example.com', password: 'correct horse' },
      })
    ).json.token;
    await call('POST', '/store/auth/token', { json: { email: 'shopper@example.com', password: 'correct horse' } });
    await call('GET', '/store/customers/me', { headers: { 'x-publishable-api-key': pk, authorization: `Bearer ${customerToken}` } });

    // /auth
    const jwt = (await call('POST', '/auth/user/emailpass', { json: { email: 'admin@example.com', password: 'correct horse' } })).json
      .token;
    await call('POST', '/auth/user/emailpass', { json: { email: 'not-an-email', password: 'x' } });
    await call('POST', '/auth/token/refresh', { headers: { authorization: `Bearer ${jwt}` } });
    await call('POST', '/auth/session', { headers: { authorization: `Bearer ${jwt}` } });
    await call('POST', '/auth/customer/emailpass/reset-password', { json: { identifier: 'shopper@example.com' } });

    assert.ok(checked.size >= 25, `checked ${checked.size} distinct responses`);
  });

  it('describes each thing once: named components by $ref, real bounds, verify as one path, no HTML pages', async () => {
    const text = JSON.stringify(doc);
    const allInline = JSON.stringify(inlined(doc, doc)).length;
    assert.ok(text.length < allInline * 0.7, `the document is ${text.length} bytes (${allInline} with every schema inline)`);
    for (const name of [
      'TokenPair',
      'VerifyResponse',
      'V1Error',
      'MedusaError',
      'OAuthError',
      'User',
      'Customer',
      'ApiKey',
      'OAuthClient',
      'SalesChannel',
    ]) {
      assert.ok(doc.components.schemas[name]?.properties, `components.schemas.${name}`);
      // Described once: no operation spells its fields out again.
      const fields = Object.keys(doc.components.schemas[name]!.properties!).sort().join(',');
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          for (const [status, r] of Object.entries(op.responses)) {
            if (r.$ref) continue;
            for (const media of Object.values(r.content ?? {})) {
              const inline = (media.schema as { properties?: object }).properties;
              assert.notEqual(inline && Object.keys(inline).sort().join(','), fields, `${method} ${path} ${status} repeats ${name} inline`);
            }
          }
        }
      }
    }
    assert.equal(
      (doc.paths['/v1/auth/login']!.post!.responses['200']!.content!['application/json']!.schema as { $ref?: string }).$ref,
      '#/components/schemas/TokenPair',
    );
    // Viewers show zod's default integer bounds as example values.
    assert.doesNotMatch(text, /9007199254740991/);
    const limit = doc.paths['/admin/api-keys']!.get!.parameters!.find((p) => p.name === 'limit')!;
    assert.deepEqual([limit.schema?.minimum, limit.schema?.maximum], [1, 1000]);

    // Verify: one path item, every method the gateways use, one shared description of each answer.
    assert.equal(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/auth/verify')).length, 1);
    const verify = doc.paths['/v1/auth/verify']!;
    assert.deepEqual(Object.keys(verify).sort(), ['delete', 'get', 'patch', 'post', 'put']);
    for (const status of ['200', '401', '403']) {
      const refs = new Set(Object.values(verify).map((op) => op.responses[status]!.$ref));
      assert.equal(refs.size, 1, `verify ${status} is one shared response`);
      assert.ok(doc.components.responses[[...refs][0]!.replace('#/components/responses/', '')], `verify ${status} resolves`);
    }
    assert.equal(text.split('"X-Auth-User-Id"').length - 1, 1, 'the forward-auth headers are described once');

    // Fields say what they are, and the ones a caller types carry an example for viewers to show.
    const props = (name: string) =>
      doc.components.schemas[name]!.properties as Record<string, { description?: string; examples?: unknown[] }>;
    assert.ok(props('TokenPair').refresh_token!.description && props('TokenPair').token!.examples?.length);
    assert.ok(props('PostV1AuthLoginBody').username!.examples?.length);
    assert.ok(props('ApiKey').type!.description);

    // The login and consent forms are pages for browsers, not API.
    assert.deepEqual(
      Object.keys(doc.paths).filter((p) => p.includes('/interaction')),
      [],
    );
    // Every operation says what it does, and ids are unique.
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length);
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) assert.ok(op.summary, `${method} ${path} has a summary`);
  });

  it('can be loaded by a viewer on another origin', async () => {
    const res = await http(`${srv.url}/openapi.json`, { headers: { origin: 'https://editor.swagger.io' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'no credentials: the document is public');
    const preflight = await http(`${srv.url}/openapi.json`, {
      method: 'OPTIONS',
      headers: { origin: 'https://editor.swagger.io', 'access-control-request-method': 'GET', 'access-control-request-headers': 'accept' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /GET/);
  });

  it('describes what the OAuth endpoints really answer', async () => {
    for (const path of [
      '/oauth/authorize',
      '/oauth/par',
      '/oauth/token',
      '/oauth/introspect',
      '/oauth/revoke',
      '/oauth/userinfo',
      '/oauth/end-session',
      '/oauth/jwks',
      '/.well-known/openid-configuration',
      '/.well-known/jwks.json',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    await srv.services.accounts.create({ actorType: 'customer', email: 'oauth-shopper@example.com', password: 'correct horse battery' });
    const { secret } = await srv.services.oauthClients.create({
      clientId: 'doc-app',
      name: 'Doc App',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    const basic = { authorization: `Basic ${Buffer.from(`doc-app:${secret}`).toString('base64')}` };

    await call('GET', '/.well-known/openid-configuration');
    await call('GET', '/.well-known/oauth-authorization-server');
    await call('GET', '/oauth/jwks');
    await call('GET', '/.well-known/jwks.json');

    // Client credentials, as a form and as JSON; a wrong secret.
    const machine = (await call('POST', '/oauth/token', form({ grant_type: 'client_credentials', scope: 'read' }, basic))).json;
    await call('POST', '/oauth/token', { headers: basic, json: { grant_type: 'client_credentials' } });
    await call(
      'POST',
      '/oauth/token',
      form(
        { grant_type: 'client_credentials' },
        { authorization: `Basic ${Buffer.from('doc-app:wrong-secret-wrong').toString('base64')}` },
      ),
    );
    await call('POST', '/oauth/token', form({ grant_type: 'password', username: 'x', password: 'y' }, basic));
    await call('POST', '/oauth/introspect', form({ token: machine.access_token }, basic));
    await call('POST', '/oauth/introspect', form({ token: 'not-a-token' }, basic));
    await call('POST', '/oauth/revoke', form({ token: machine.access_token }, basic));
    await call(
      'POST',
      '/oauth/par',
      form(
        {
          response_type: 'code',
          client_id: 'doc-app',
          redirect_uri: REDIRECT_URI,
          scope: 'openid',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        },
        basic,
      ),
    );
    await call('GET', '/oauth/userinfo');

    // The code flow a web app runs: tokens with an ID token and a refresh token, userinfo, refresh.
    const rp = await relyingParty(srv.url, { clientId: 'doc-app', clientSecret: secret! });
    const a = await authorize(rp, new Browser(), {
      email: 'oauth-shopper@example.com',
      password: 'correct horse battery',
      scope: 'openid profile email read',
    });
    const tokens = (
      await call(
        'POST',
        '/oauth/token',
        form(
          {
            grant_type: 'authorization_code',
            code: a.callback.searchParams.get('code')!,
            redirect_uri: REDIRECT_URI,
            code_verifier: a.codeVerifier,
          },
          basic,
        ),
      )
    ).json;
    assert.ok(tokens.id_token && tokens.refresh_token, JSON.stringify(tokens));
    await call('GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await call('POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic));
    await call('POST', '/oauth/token', form({ grant_type: 'refresh_token', refresh_token: 'nope' }, basic));
  });
});
