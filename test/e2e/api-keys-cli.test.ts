import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, runCli, startTestServer, type TestServer } from '../helpers/harness.ts';

describe('portcullis api-key (CLI) against a running server', () => {
  let srv: TestServer;
  const cli = (...args: string[]) => runCli(srv.prefix, ['api-key', ...args]);

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'supersecret', role: 'admin' });
  });
  after(() => srv.close());

  it('creates a scoped, rate-limited secret key the server accepts, then revokes it', async () => {
    const created = await cli(
      'create',
      '--type',
      'secret',
      '--title',
      'CI deploys',
      '--created-by',
      'admin@example.com',
      '--scopes',
      'read',
      '--rate-limit',
      '100/h',
    );
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.match(key.token, /^sk_[0-9a-f]{64}$/);
    assert.deepEqual(key.scopes, ['read']);
    assert.equal(key.rate_limit, '100/h');

    const verify = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.auth_method, 'api_key');
    assert.equal(verify.json.key_id, key.id);
    assert.deepEqual(verify.json.scopes, ['read']);
    const me = await http(`${srv.url}/admin/users/me`, {
      headers: { authorization: `Basic ${Buffer.from(`${key.token}:`).toString('base64')}` },
    });
    assert.equal(me.json.user.email, 'admin@example.com');

    const listed = await cli('list', '--type', 'secret');
    assert.equal(listed.code, 0);
    const keys = JSON.parse(listed.stdout).api_keys;
    assert.equal(keys[0].id, key.id);
    assert.equal('token' in keys[0], false, 'list never shows a secret token');

    const revoked = await cli('revoke', key.id, '--by', 'admin@example.com');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok(JSON.parse(revoked.stdout).revoked_at);
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } })).status, 401);
  });

  it('creates a publishable key usable as x-publishable-api-key', async () => {
    const created = await cli('create', '--type', 'publishable', '--title', 'Storefront', '--created-by', 'admin@example.com');
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.match(key.token, /^pk_/);
    const res = await http(`${srv.url}/store/customers/me`, { headers: { 'x-publishable-api-key': key.token } });
    assert.equal(res.status, 401, 'the key passes; the customer token is what is missing');
  });

  it('refuses bad input with a usage error (exit 2)', async () => {
    for (const args of [
      ['create', '--type', 'sneaky', '--title', 'x', '--created-by', 'admin@example.com'],
      ['create', '--type', 'secret', '--title', 'x', '--created-by', 'nobody@example.com'],
      ['create', '--type', 'secret', '--title', 'x', '--created-by', 'admin@example.com', '--rate-limit', 'fast'],
      ['create', '--type', 'secret', '--title', 'x', '--created-by', 'admin@example.com', '--scopes', 'root'],
    ]) {
      const res = await cli(...args);
      assert.equal(res.code, 2, args.join(' '));
      assert.match(res.stderr, /Usage:/);
    }
  });
});
