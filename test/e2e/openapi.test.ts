import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; parameters?: { name: string; in: string }[]; responses: Record<string, { headers?: Record<string, { $ref?: string }>; content?: Record<string, { schema: object }> }> }>>;
  components: { securitySchemes: Record<string, unknown> };
};

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
    const declared = op.responses[String(res.status)] ?? op.responses.default;
    assert.ok(declared, `${method} ${template} answered ${res.status}, which the document does not declare`);
    const schema = declared.content?.['application/json']?.schema;
    if (schema) {
      const validate = ajv.compile(schema);
      assert.ok(validate(res.json), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 500)}`);
    } else {
      assert.equal(res.text, '', `${method} ${template} ${res.status} declares no body but sent one`);
    }
    // A success of an authenticated operation carries the headers the document promises.
    if (res.status < 300 && init.headers && 'authorization' in (init.headers as Record<string, string>)) {
      for (const [name, h] of Object.entries(declared.headers ?? {})) {
        const required = '$ref' in h ? String(h.$ref).includes('RateLimit') : ['X-Auth-User-Id', 'X-Auth-Scopes', 'X-Auth-Method'].includes(name);
        if (required) assert.ok(res.headers.get(name) !== null, `${method} ${template} ${res.status} lacks the ${name} header it documents`);
      }
    }
    checked.add(`${method} ${template} ${res.status}`);
    return res;
  }

  it('is a valid OpenAPI 3.1 document with the security schemes the routes name', async () => {
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(doc.openapi, /^3\.1\./);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['basic', 'bearer', 'publishableKey', 'session']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[name], `${method} ${path} names unknown scheme ${name}`);
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) assert.ok(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${method} ${path} declares {${name}}`);
        for (const r of Object.values(op.responses)) if (r.content) ajv.compile(r.content['application/json']!.schema);
      }
    }
  });

  it('covers /v1, /admin, /store and /auth', () => {
    for (const path of ['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/auth/verify', '/admin/auth/token', '/admin/api-keys', '/admin/api-keys/{id}', '/store/auth/token', '/store/customers/me', '/auth/user/emailpass', '/auth/session', '/auth/token/refresh']) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
  });

  it('describes what the main endpoints really answer', async () => {
    const admin = await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'correct horse', role: 'admin' });
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
    const adminToken = (await call('POST', '/admin/auth/token', { json: { email: 'admin@example.com', password: 'correct horse' } })).json.token;
    await call('POST', '/admin/auth/token', { json: { email: 'admin@example.com', password: 'wrong' } });
    const auth = { authorization: `Bearer ${adminToken}` };
    await call('GET', '/admin/users/me', { headers: auth });
    await call('GET', '/admin/users', { headers: auth });
    await call('GET', '/admin/users');
    const created = (await call('POST', '/admin/api-keys', { headers: auth, json: { title: 'ci', type: 'secret', scopes: ['read'] } })).json.api_key;
    await call('POST', '/admin/api-keys', { headers: auth, json: { title: '' } });
    await call('GET', '/admin/api-keys?limit=5', { headers: auth });
    await call('GET', `/admin/api-keys/${created.id}`, { headers: auth });
    await call('GET', '/admin/api-keys/apk_missing', { headers: auth });
    await call('GET', '/v1/auth/verify', { headers: { authorization: `Bearer ${created.token}` } });

    // /store
    const customerToken = (await call('POST', '/store/auth/token', { headers: { 'x-publishable-api-key': pk }, json: { email: 'shopper@example.com', password: 'correct horse' } })).json.token;
    await call('POST', '/store/auth/token', { json: { email: 'shopper@example.com', password: 'correct horse' } });
    await call('GET', '/store/customers/me', { headers: { 'x-publishable-api-key': pk, authorization: `Bearer ${customerToken}` } });

    // /auth
    const jwt = (await call('POST', '/auth/user/emailpass', { json: { email: 'admin@example.com', password: 'correct horse' } })).json.token;
    await call('POST', '/auth/user/emailpass', { json: { email: 'not-an-email', password: 'x' } });
    await call('POST', '/auth/token/refresh', { headers: { authorization: `Bearer ${jwt}` } });
    await call('POST', '/auth/session', { headers: { authorization: `Bearer ${jwt}` } });
    await call('POST', '/auth/customer/emailpass/reset-password', { json: { identifier: 'shopper@example.com' } });

    assert.ok(checked.size >= 25, `checked ${checked.size} distinct responses`);
  });
});
