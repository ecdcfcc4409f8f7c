import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` holds (for scheduled revokes: no fixed sleeps, no timing assertions). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail('condition not reached in time');
}

describe('API keys through /admin/api-keys', () => {
  let srv: TestServer;
  let admin: Record<string, string>;
  let developer: Record<string, string>;
  let member: Record<string, string>;
  let adminId: string;
  let developerId: string;

  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const login = async (email: string) => {
    const res = await api('/admin/auth/token', { method: 'POST', json: { email, password: 'supersecret' } });
    assert.equal(res.status, 200);
    return { headers: { authorization: `Bearer ${res.json.token}` }, id: res.json.user.id as string };
  };
  const createKey = async (headers: Record<string, string>, json: unknown) => {
    const res = await api('/admin/api-keys', { method: 'POST', json, headers });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.api_key;
  };

  before(async () => {
    srv = await startTestServer();
    for (const [email, role] of [
      ['admin@example.com', 'admin'],
      ['dev@example.com', 'developer'],
      ['member@example.com', 'member'],
    ] as const) {
      await srv.services.accounts.create({ actorType: 'user', email, password: 'supersecret', role });
    }
    ({ headers: admin, id: adminId } = await login('admin@example.com'));
    ({ headers: developer, id: developerId } = await login('dev@example.com'));
    ({ headers: member } = await login('member@example.com'));
  });
  after(() => srv.close());

  it('creates a secret key whose token is shown once, then only redacted', async () => {
    const key = await createKey(developer, { title: 'CI', type: 'secret' });
    assert.match(key.id, /^apk_[0-9A-Z]{26}$/);
    assert.match(key.token, /^sk_[0-9a-f]{64}$/);
    assert.equal(key.redacted, `${key.token.slice(0, 6)}***${key.token.slice(-3)}`);
    assert.equal(key.created_by, developerId);
    assert.deepEqual(key.scopes, ['read', 'write'], "defaults to the creator's role scopes");
    const again = await api(`/admin/api-keys/${key.id}`, { headers: admin });
    assert.equal(again.status, 200);
    assert.equal(again.json.api_key.token, '');
    assert.equal(again.json.api_key.redacted, key.redacted);
  });

  it('accepts a secret key as Basic base64(sk_:), raw Basic sk_ and Bearer sk_, acting as its creator', async () => {
    const key = await createKey(admin, { title: 'server', type: 'secret' });
    for (const headers of [basic(key.token), { authorization: `Basic ${key.token}` }, { authorization: `Bearer ${key.token}` }]) {
      const me = await api('/admin/users/me', { headers });
      assert.equal(me.status, 200, JSON.stringify(headers));
      assert.equal(me.json.user.id, adminId);
    }
    const verify = await api('/v1/auth/verify', { headers: { authorization: `Bearer ${key.token}` } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.auth_method, 'api_key');
    assert.equal(verify.json.user_id, adminId);
    assert.equal(verify.json.key_id, key.id);
    assert.equal(verify.json.actor_type, 'api-key');
  });

  it('narrows a key to its scopes: an admin key scoped "read" can read but not write', async () => {
    const key = await createKey(admin, { title: 'read only', type: 'secret', scopes: ['read'] });
    assert.equal((await api('/admin/api-keys', { headers: basic(key.token) })).status, 200);
    const write = await api('/admin/api-keys', { method: 'POST', json: { title: 'x' }, headers: basic(key.token) });
    assert.equal(write.status, 403);
    assert.equal(write.json.type, 'forbidden');
  });

  it('refuses scopes beyond the creator: a developer cannot mint an admin-scoped key', async () => {
    const res = await api('/admin/api-keys', {
      method: 'POST',
      json: { title: 'x', type: 'secret', scopes: ['read', 'write', 'admin'] },
      headers: developer,
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.type, 'forbidden');
  });

  it('lets members read keys but not manage them', async () => {
    assert.equal((await api('/admin/api-keys', { headers: member })).status, 200);
    const res = await api('/admin/api-keys', { method: 'POST', json: { title: 'nope' }, headers: member });
    assert.equal(res.status, 403);
    assert.equal(res.json.type, 'forbidden');
  });

  it('refuses to delete a key that is not revoked, then deletes it once revoked', async () => {
    const key = await createKey(developer, { title: 'temp', type: 'secret' });
    const early = await api(`/admin/api-keys/${key.id}`, { method: 'DELETE', headers: developer });
    assert.equal(early.status, 400);
    assert.deepEqual(early.json, { type: 'not_allowed', message: `Cannot delete api keys that are not revoked - ${key.id}` });
    // The js-sdk posts revoke with content-type json and no body.
    const revoked = await api(`/admin/api-keys/${key.id}/revoke`, {
      method: 'POST',
      headers: { ...developer, 'content-type': 'application/json' },
    });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.json.api_key.revoked_by, developerId);
    assert.ok(Date.parse(revoked.json.api_key.revoked_at) <= Date.now());
    const twice = await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: {}, headers: developer });
    assert.equal(twice.status, 400);
    assert.equal(twice.json.type, 'invalid_data');
    const deleted = await api(`/admin/api-keys/${key.id}`, { method: 'DELETE', headers: developer });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { id: key.id, object: 'api_key', deleted: true });
    const gone = await api(`/admin/api-keys/${key.id}`, { headers: developer });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json, { type: 'not_found', message: `API Key with id: ${key.id} was not found` });
  });

  it('a revoked key fails at once on /admin and /v1/auth/verify, on every instance sharing the store', async () => {
    const second = await startTestServer({ prefix: srv.prefix });
    try {
      const key = await createKey(admin, { title: 'shared', type: 'secret' });
      assert.equal((await http(`${second.url}/admin/users/me`, { headers: basic(key.token) })).status, 200);
      assert.equal((await http(`${second.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } })).status, 200);
      assert.equal((await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: {}, headers: admin })).status, 200);
      for (const base of [srv.url, second.url]) {
        const adminRes = await http(`${base}/admin/users/me`, { headers: basic(key.token) });
        assert.equal(adminRes.status, 401);
        assert.deepEqual(adminRes.json, { type: 'unauthorized', message: 'Unauthorized' });
        const v1 = await http(`${base}/v1/auth/verify`, { headers: { authorization: `Bearer ${key.token}` } });
        assert.equal(v1.status, 401);
        assert.equal(v1.json.error, 'invalid_token');
      }
    } finally {
      await second.close();
    }
  });

  it('a scheduled revoke (revoke_in) leaves the key working until its time, then refuses it', async () => {
    const key = await createKey(admin, { title: 'rotating', type: 'secret' });
    const res = await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: { revoke_in: 1 }, headers: admin });
    assert.equal(res.status, 200);
    const revokeAt = Date.parse(res.json.api_key.revoked_at);
    assert.ok(revokeAt > Date.now(), 'revoked_at lies in the future');
    assert.equal((await api('/admin/users/me', { headers: basic(key.token) })).status, 200);
    // A later revoke can bring the time forward, never push it back.
    const later = await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', json: { revoke_in: 3600 }, headers: admin });
    assert.equal(later.json.api_key.revoked_at, res.json.api_key.revoked_at);
    await eventually(async () => (await api('/admin/users/me', { headers: basic(key.token) })).status === 401);
    assert.ok(Date.now() >= revokeAt, 'refused only once revoked_at has passed');
  });

  it('rolls a key: a new token with the same title, type and scopes; the old one revoked after the grace period', async () => {
    const old = await createKey(admin, { title: 'worker', type: 'secret', scopes: ['read', 'write'], rate_limit: '100/h' });
    const res = await api(`/admin/api-keys/${old.id}/roll`, { method: 'POST', json: { revoke_in: 1 }, headers: admin });
    assert.equal(res.status, 200);
    const next = res.json.api_key;
    assert.notEqual(next.id, old.id);
    assert.match(next.token, /^sk_[0-9a-f]{64}$/);
    assert.equal(next.title, 'worker');
    assert.equal(next.type, 'secret');
    assert.deepEqual(next.scopes, ['read', 'write']);
    assert.equal(next.rate_limit, '100/h');
    // Both work during the overlap, then only the new one.
    assert.equal((await api('/admin/users/me', { headers: basic(old.token) })).status, 200);
    assert.equal((await api('/admin/users/me', { headers: basic(next.token) })).status, 200);
    await eventually(async () => (await api('/admin/users/me', { headers: basic(old.token) })).status === 401);
    assert.equal((await api('/admin/users/me', { headers: basic(next.token) })).status, 200);
    const oldView = await api(`/admin/api-keys/${old.id}`, { headers: admin });
    assert.equal(oldView.json.api_key.revoked_by, adminId);
  });

  it('keeps several active secret keys per user, and lists with q, type, revoked filters, order and paging', async () => {
    const a = await createKey(developer, { title: 'alpha-list', type: 'secret' });
    const b = await createKey(developer, { title: 'beta-list', type: 'secret' });
    const c = await createKey(developer, { title: 'gamma-list' });
    await api(`/admin/api-keys/${b.id}/revoke`, { method: 'POST', json: {}, headers: developer });
    const q = await api('/admin/api-keys?q=-list&order=title', { headers: developer });
    assert.equal(q.status, 200);
    assert.deepEqual(
      q.json.api_keys.map((k: { id: string }) => k.id),
      [a.id, b.id, c.id],
    );
    assert.equal(q.json.count, 3);
    assert.deepEqual(
      (await api('/admin/api-keys?q=-list&type=secret&revoked=false', { headers: developer })).json.api_keys.map(
        (k: { id: string }) => k.id,
      ),
      [a.id],
    );
    assert.deepEqual(
      (await api(`/admin/api-keys?q=-list&revoked_at[$ne]=null`, { headers: developer })).json.api_keys.map((k: { id: string }) => k.id),
      [b.id],
    );
    const page = await api('/admin/api-keys?q=-list&order=-title&limit=1&offset=1', { headers: developer });
    assert.deepEqual(
      page.json.api_keys.map((k: { id: string }) => k.id),
      [b.id],
    );
    assert.deepEqual([page.json.count, page.json.offset, page.json.limit], [3, 1, 1]);
    assert.equal((await api('/admin/api-keys?order=secret_sauce', { headers: developer })).status, 400);
  });

  it('renames a key and refuses unknown fields', async () => {
    const key = await createKey(developer, { title: 'old name' });
    const res = await api(`/admin/api-keys/${key.id}`, { method: 'POST', json: { title: 'new name' }, headers: developer });
    assert.equal(res.status, 200);
    assert.equal(res.json.api_key.title, 'new name');
    const bad = await api(`/admin/api-keys/${key.id}`, { method: 'POST', json: { title: 'x', type: 'secret' }, headers: developer });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.type, 'invalid_data');
  });

  it("links sales channels to publishable keys only, with Medusa's messages", async () => {
    const channel = await api('/admin/sales-channels', { method: 'POST', json: { name: 'Web' }, headers: admin });
    assert.equal(channel.status, 200);
    const scId = channel.json.sales_channel.id;
    assert.match(scId, /^sc_/);
    const listed = await api('/admin/sales-channels', { headers: member });
    assert.equal(listed.status, 200);
    assert.ok(listed.json.sales_channels.some((c: { id: string }) => c.id === scId));
    assert.equal((await api('/admin/sales-channels', { method: 'POST', json: { name: 'x' }, headers: developer })).status, 403);

    const pk = await createKey(developer, { title: 'storefront' });
    const linked = await api(`/admin/api-keys/${pk.id}/sales-channels`, { method: 'POST', json: { add: [scId] }, headers: developer });
    assert.equal(linked.status, 200);
    assert.deepEqual(linked.json.api_key.sales_channels, [{ id: scId, name: 'Web' }]);
    const unknown = await api(`/admin/api-keys/${pk.id}/sales-channels`, {
      method: 'POST',
      json: { add: ['sc_nope'] },
      headers: developer,
    });
    assert.deepEqual(
      [unknown.status, unknown.json],
      [400, { type: 'invalid_data', message: 'Sales channels with IDs sc_nope do not exist' }],
    );
    const sk = await createKey(developer, { title: 'secret', type: 'secret' });
    const onSecret = await api(`/admin/api-keys/${sk.id}/sales-channels`, { method: 'POST', json: { add: [scId] }, headers: developer });
    assert.deepEqual(
      [onSecret.status, onSecret.json],
      [400, { type: 'invalid_data', message: 'Sales channels can only be associated with publishable API keys' }],
    );
    const removed = await api(`/admin/api-keys/${pk.id}/sales-channels`, { method: 'POST', json: { remove: [scId] }, headers: developer });
    assert.deepEqual(removed.json.api_key.sales_channels, []);
  });

  it('refuses an expired key, and validates expires_at and rate_limit', async () => {
    assert.equal(
      (await api('/admin/api-keys', { method: 'POST', json: { title: 'x', type: 'secret', rate_limit: 'lots' }, headers: admin })).status,
      400,
    );
    assert.equal(
      (
        await api('/admin/api-keys', {
          method: 'POST',
          json: { title: 'x', type: 'secret', expires_at: '2000-01-01T00:00:00Z' },
          headers: admin,
        })
      ).status,
      400,
    );
    const soon = new Date(Date.now() + 1500).toISOString();
    const key = await createKey(admin, { title: 'short-lived', type: 'secret', expires_at: soon });
    const verify = await api('/v1/auth/verify', { headers: { authorization: `Bearer ${key.token}` } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.expires_at, soon);
    await eventually(async () => (await api('/v1/auth/verify', { headers: { authorization: `Bearer ${key.token}` } })).status === 401);
  });

  it('records last use without a write per request', async () => {
    const key = await createKey(admin, { title: 'used', type: 'secret' });
    assert.equal(key.last_used_at, null);
    for (let i = 0; i < 5; i++) assert.equal((await api('/admin/users/me', { headers: basic(key.token) })).status, 200);
    await eventually(async () => (await api(`/admin/api-keys/${key.id}`, { headers: admin })).json.api_key.last_used_at !== null);
    const first = (await api(`/admin/api-keys/${key.id}`, { headers: admin })).json.api_key.last_used_at;
    await api('/admin/users/me', { headers: basic(key.token) });
    // Throttled: a use moments later does not rewrite it.
    assert.equal((await api(`/admin/api-keys/${key.id}`, { headers: admin })).json.api_key.last_used_at, first);
  });

  it('answers 401 for unknown, malformed and publishable keys on /admin', async () => {
    const pk = await createKey(admin, { title: 'pk' });
    for (const authorization of [
      `Basic ${Buffer.from(`sk_${'0'.repeat(64)}:`).toString('base64')}`,
      'Bearer sk_short',
      `Bearer ${pk.token}`,
      'Basic !!!',
    ]) {
      const res = await api('/admin/users/me', { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      assert.deepEqual(res.json, { type: 'unauthorized', message: 'Unauthorized' });
    }
  });
});
