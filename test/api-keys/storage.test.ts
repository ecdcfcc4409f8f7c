import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';

const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` });

/** Everything stored under a prefix, as text (test only: SCAN is never used on request paths). */
async function dumpPrefix(prefix: string): Promise<string> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const parts: string[] = [];
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      for (const key of batch) {
        const type = await client.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await client.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await client.hGetAll(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await client.zRange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await client.xRange(key, '-', '+')));
      }
    }
  } finally {
    await client.close();
  }
  return parts.join('\n');
}

describe('How API keys are kept', () => {
  let srv: TestServer;
  let admin: Record<string, string>;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);

  before(async () => {
    srv = await startTestServer({ env: { API_KEY_PEPPER: randomBytes(32).toString('hex') } });
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'supersecret', role: 'admin' });
    const res = await api('/admin/auth/token', { method: 'POST', json: { email: 'admin@example.com', password: 'supersecret' } });
    admin = { authorization: `Bearer ${res.json.token}` };
  });
  after(() => srv.close());

  it('never stores a secret key in the clear, nor its unkeyed hash', async () => {
    const key = (await api('/admin/api-keys', { method: 'POST', json: { title: 'vault', type: 'secret' }, headers: admin })).json.api_key;
    assert.equal((await api('/admin/users/me', { headers: basic(key.token) })).status, 200);
    const stored = await dumpPrefix(srv.prefix);
    assert.ok(stored.includes(key.id), 'the dump sees the key record');
    assert.ok(!stored.includes(key.token), 'clear token stored');
    assert.ok(!stored.includes(key.token.slice(3)), 'token body stored');
    const { createHash } = await import('node:crypto');
    assert.ok(!stored.includes(createHash('sha256').update(key.token).digest('hex')), 'unkeyed hash stored');
  });

  it('keys are bound to the server pepper: an instance with another API_KEY_PEPPER cannot use them', async () => {
    const key = (await api('/admin/api-keys', { method: 'POST', json: { title: 'peppered', type: 'secret' }, headers: admin })).json
      .api_key;
    const other = await startTestServer({ prefix: srv.prefix, env: { API_KEY_PEPPER: randomBytes(32).toString('hex') } });
    const same = await startTestServer({ prefix: srv.prefix, env: { API_KEY_PEPPER: srv.config.apiKeyPepper } });
    try {
      assert.equal((await http(`${other.url}/admin/users/me`, { headers: basic(key.token) })).status, 401);
      assert.equal((await http(`${same.url}/admin/users/me`, { headers: basic(key.token) })).status, 200);
    } finally {
      await other.close();
      await same.close();
    }
  });

  it('loses no change when a rename and a revoke race', async () => {
    const key = (await api('/admin/api-keys', { method: 'POST', json: { title: 'racy', type: 'secret' }, headers: admin })).json.api_key;
    const [renamed, revoked] = await Promise.all([
      api(`/admin/api-keys/${key.id}`, { method: 'POST', json: { title: 'renamed' }, headers: admin }),
      api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: {}, headers: admin }),
    ]);
    assert.deepEqual([renamed.status, revoked.status], [200, 200]);
    const final = (await api(`/admin/api-keys/${key.id}`, { headers: admin })).json.api_key;
    assert.equal(final.title, 'renamed');
    assert.ok(final.revoked_at);
  });

  it('publishes who did what to the audit stream', async () => {
    const key = (await api('/admin/api-keys', { method: 'POST', json: { title: 'audited' }, headers: admin })).json.api_key;
    await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: {}, headers: admin });
    await api(`/admin/api-keys/${key.id}`, { method: 'DELETE', headers: admin });
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const entries = (await client.xRange(`${srv.prefix}events:audit`, '-', '+'))
      .map((e) => e.message)
      .filter((m) => m.subject_type === 'api_key' && m.subject_id === key.id);
    await client.close();
    assert.deepEqual(
      entries.map((m) => m.type),
      ['api_key.created', 'api_key.revoked', 'api_key.deleted'],
    );
    assert.ok(entries.every((m) => m.actor_id === key.created_by));
    assert.ok(!JSON.stringify(entries).includes(key.token));
  });
});

describe('API keys on the embedded store', () => {
  it('create, use, revoke: the same behaviour without Redis', async () => {
    const srv = await startTestServer({ store: 'memory' });
    try {
      await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'supersecret', role: 'admin' });
      const token = (
        await http(`${srv.url}/admin/auth/token`, { method: 'POST', json: { email: 'admin@example.com', password: 'supersecret' } })
      ).json.token;
      const admin = { authorization: `Bearer ${token}` };
      const key = (await http(`${srv.url}/admin/api-keys`, { method: 'POST', json: { title: 'local', type: 'secret' }, headers: admin }))
        .json.api_key;
      assert.equal((await http(`${srv.url}/admin/users/me`, { headers: basic(key.token) })).status, 200);
      await http(`${srv.url}/admin/api-keys/${key.id}/revoke`, { method: 'POST', headers: admin });
      assert.equal((await http(`${srv.url}/admin/users/me`, { headers: basic(key.token) })).status, 401);
    } finally {
      await srv.close();
    }
  });
});
