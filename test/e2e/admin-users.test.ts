import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { dropPrefix, http, startTestServer, type TestServer } from '../helpers/harness.ts';

const PASSWORD = 'supersecret';

describe('Users and customers through /admin/users and /admin/customers', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: Record<string, string>;
  let developer: Record<string, string>;
  let member: Record<string, string>;
  let adminId: string;

  const api = (path: string, init: Parameters<typeof http>[1] = {}, srv = a) => http(`${srv.url}${path}`, init);
  const on = (srv: TestServer, path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.origin}${path}`, init);
  const login = async (email: string) => {
    const res = await api('/admin/auth/token', { method: 'POST', json: { email, password: PASSWORD } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return { headers: { authorization: `Bearer ${res.json.token}` }, id: res.json.user.id as string };
  };
  const createUser = async (email: string, role: 'admin' | 'developer' | 'member') =>
    (await a.services.accounts.create({ actorType: 'user', email, password: PASSWORD, role })).id;

  before(async () => {
    a = await startTestServer();
    // A second instance on the same Redis prefix: a replica behind the same load balancer.
    b = await startTestServer({ prefix: a.prefix, env: { PUBLIC_URL: a.url } });
    await createUser('admin@example.com', 'admin');
    await createUser('dev@example.com', 'developer');
    await createUser('member@example.com', 'member');
    ({ headers: admin, id: adminId } = await login('admin@example.com'));
    ({ headers: developer } = await login('dev@example.com'));
    ({ headers: member } = await login('member@example.com'));
  });
  after(async () => {
    await b.close();
    await a.close();
    await dropPrefix(a.prefix);
  });

  it("lists users with search, role and disabled filters, order and paging, in Medusa's shape", async () => {
    await createUser('zed.search@example.com', 'member');
    const all = await api('/admin/users?order=email&limit=2', { headers: admin });
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.equal(all.json.limit, 2);
    assert.equal(all.json.offset, 0);
    assert.ok(all.json.count >= 4);
    assert.deepEqual(
      all.json.users.map((u: { email: string }) => u.email),
      ['admin@example.com', 'dev@example.com'],
    );
    const found = await api('/admin/users?q=ZED.SEARCH', { headers: admin });
    assert.deepEqual(
      found.json.users.map((u: { email: string }) => u.email),
      ['zed.search@example.com'],
    );
    assert.equal(found.json.count, 1);
    const devs = await api('/admin/users?role=developer', { headers: admin });
    assert.deepEqual(
      devs.json.users.map((u: { email: string }) => u.email),
      ['dev@example.com'],
    );
    const desc = await api('/admin/users?order=-email', { headers: admin });
    assert.equal(desc.json.users[0].email, 'zed.search@example.com');
    assert.equal((await api('/admin/users?order=password_hash', { headers: admin })).status, 400);
    assert.equal((await api('/admin/users?disabled=true', { headers: admin })).json.count, 0);
  });

  it('gets one user; unknown ids and customers are 404', async () => {
    const one = await api(`/admin/users/${adminId}`, { headers: admin });
    assert.equal(one.status, 200);
    assert.equal(one.json.user.email, 'admin@example.com');
    assert.equal(one.json.user.disabled, false);
    assert.equal('password_hash' in one.json.user, false);
    const missing = await api('/admin/users/user_nope', { headers: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.type, 'not_found');
    const customer = await a.services.accounts.create({ actorType: 'customer', email: 'not-a-user@example.com', password: PASSWORD });
    assert.equal((await api(`/admin/users/${customer.id}`, { headers: admin })).status, 404);
    for (const [method, path] of [
      ['POST', '/admin/users/user_nope'],
      ['DELETE', '/admin/users/user_nope'],
    ] as const)
      assert.equal((await api(path, { method, headers: admin, ...(method === 'POST' ? { json: { first_name: 'x' } } : {}) })).status, 404);
  });

  it('refuses user reads to members and developers, and writes to them too', async () => {
    const target = await createUser('target-roles@example.com', 'member');
    for (const headers of [member, developer]) {
      assert.equal((await api('/admin/users', { headers })).status, 403);
      assert.equal((await api(`/admin/users/${target}`, { headers })).status, 403);
      assert.equal((await api(`/admin/users/${target}`, { method: 'POST', headers, json: { role: 'admin' } })).status, 403);
      assert.equal((await api(`/admin/users/${target}`, { method: 'DELETE', headers })).status, 403);
    }
    assert.equal((await a.services.accounts.get(target))!.role, 'member');
  });

  it('changes names and metadata, and records who did it without any secret', async () => {
    const id = await createUser('rename@example.com', 'member');
    const res = await api(`/admin/users/${id}`, { method: 'POST', headers: admin, json: { first_name: 'Ada', metadata: { team: 'ops' } } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.user.first_name, 'Ada');
    assert.deepEqual(res.json.user.metadata, { team: 'ops' });
    assert.equal((await api(`/admin/users/${id}`, { method: 'POST', headers: admin, json: { password: 'x'.repeat(20) } })).status, 400);
    const events = await readAudit(a);
    const updated = events.filter((e) => e.type === 'user.updated' && e.subject_id === id);
    assert.equal(updated.length, 1);
    assert.equal(updated[0]!.actor_id, adminId);
    assert.equal(JSON.parse(updated[0]!.data!).fields, 'first_name,metadata');
  });

  it('a role change narrows the next refresh, and is audited once', async () => {
    const id = await createUser('demote-me@example.com', 'admin');
    const signIn = await api('/v1/auth/login', { method: 'POST', json: { username: 'demote-me@example.com', password: PASSWORD } });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.json));
    assert.equal(decodeJwt(signIn.json.token).role, 'admin');
    const res = await api(`/admin/users/${id}`, { method: 'POST', headers: admin, json: { role: 'member' } });
    assert.equal(res.status, 200);
    assert.equal(res.json.user.role, 'member');
    const refreshed = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: signIn.json.refresh_token } });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
    const claims = decodeJwt(refreshed.json.token);
    assert.equal(claims.role, 'member');
    assert.equal(String(claims.scope).split(' ').includes('admin'), false);
    const changed = (await readAudit(a)).filter((e) => e.type === 'user.role_changed' && e.subject_id === id);
    assert.equal(changed.length, 1);
    assert.equal(JSON.parse(changed[0]!.data!).from_role, 'admin');
    assert.equal(JSON.parse(changed[0]!.data!).to_role, 'member');
  });

  it("disabling ends every sign-in and refuses the user's API key at once on another instance; enabling restores the key", async () => {
    const id = await createUser('disable-me@example.com', 'developer');
    const { headers } = await login('disable-me@example.com');
    const v1 = await api('/v1/auth/login', { method: 'POST', json: { username: 'disable-me@example.com', password: PASSWORD } });
    const key = await api('/admin/api-keys', { method: 'POST', headers, json: { title: 'ci', type: 'secret' } });
    assert.equal(key.status, 200, JSON.stringify(key.json));
    const keyAuth = { authorization: `Bearer ${key.json.api_key.token}` };
    // Instance b has verified the key (and cached its creator) before the disable.
    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 200);
    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 200);

    const res = await api(`/admin/users/${id}`, { method: 'POST', headers: admin, json: { disabled: true } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.user.disabled, true);

    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 401, 'the key, on the other instance, at once');
    assert.equal((await on(b, '/admin/users/me', { headers: keyAuth })).status, 401);
    assert.equal((await on(b, '/v1/auth/verify', { headers })).status, 401, 'the admin JWT');
    assert.equal(
      (await on(b, '/v1/auth/refresh', { method: 'POST', json: { refresh_token: v1.json.refresh_token } })).status,
      401,
      'the refresh family',
    );
    const again = await api('/admin/auth/token', { method: 'POST', json: { email: 'disable-me@example.com', password: PASSWORD } });
    assert.equal(again.status, 401, 'a disabled user cannot sign in');
    assert.equal((await api('/admin/users?disabled=true', { headers: admin })).json.users[0].id, id);

    const enabled = await api(`/admin/users/${id}`, { method: 'POST', headers: admin, json: { disabled: false } });
    assert.equal(enabled.status, 200);
    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 200, 'the key works again once enabled');
    assert.equal(
      (await api('/admin/auth/token', { method: 'POST', json: { email: 'disable-me@example.com', password: PASSWORD } })).status,
      200,
    );

    const events = (await readAudit(a)).filter((e) => e.subject_id === id && !e.type!.startsWith('auth.'));
    assert.deepEqual(
      events.map((e) => e.type),
      ['user.disabled', 'user.enabled'],
    );
    for (const e of events) assert.equal(JSON.stringify(e).includes(key.json.api_key.token), false);
  });

  it('deleting a user ends its sign-ins, revokes its keys and frees its email', async () => {
    const id = await createUser('delete-me@example.com', 'developer');
    const { headers } = await login('delete-me@example.com');
    const key = await api('/admin/api-keys', { method: 'POST', headers, json: { title: 'ci', type: 'secret' } });
    const keyAuth = { authorization: `Bearer ${key.json.api_key.token}` };
    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 200);
    const res = await api(`/admin/users/${id}`, { method: 'DELETE', headers: admin });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, { id, object: 'user', deleted: true });
    assert.equal((await on(b, '/v1/auth/verify', { headers: keyAuth })).status, 401);
    assert.equal((await on(b, '/v1/auth/verify', { headers })).status, 401);
    const stored = await api(`/admin/api-keys/${key.json.api_key.id}`, { headers: admin });
    assert.notEqual(stored.json.api_key.revoked_at, null);
    assert.equal(stored.json.api_key.revoked_by, adminId);
    assert.equal((await api(`/admin/users/${id}`, { headers: admin })).status, 404);
    assert.equal((await api(`/admin/users/${id}`, { method: 'DELETE', headers: admin })).status, 404);
    await createUser('delete-me@example.com', 'member');
    assert.equal((await readAudit(a)).filter((e) => e.type === 'user.deleted' && e.subject_id === id).length, 1);
  });

  it('never demotes, disables or deletes the last active admin, even when two admins demote each other at once', async () => {
    // Leave exactly two active admins: the test's admin and one more.
    const { users } = (await api('/admin/users?role=admin&disabled=false&limit=100', { headers: admin })).json;
    for (const u of users as { id: string }[]) if (u.id !== adminId) await a.services.accounts.update(u.id, { role: 'member' });
    const otherId = await createUser('other-admin@example.com', 'admin');
    const other = await login('other-admin@example.com');
    const results = await Promise.all([
      api(`/admin/users/${otherId}`, { method: 'POST', headers: admin, json: { role: 'member' } }),
      on(b, `/admin/users/${adminId}`, { method: 'POST', headers: other.headers, json: { role: 'member' } }),
    ]);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(results.map((r) => r.json)));
    const refused = results.find((r) => r.status !== 200)!;
    assert.equal(refused.status, 400);
    assert.equal(refused.json.type, 'not_allowed');
    assert.match(refused.json.message, /last active admin/);
    const admins = (
      await a.services.accounts.search('user', {
        role: 'admin',
        disabled: false,
        order: { field: 'email', desc: false },
        offset: 0,
        limit: 100,
      })
    ).accounts;
    assert.equal(admins.length, 1);
    const last = admins[0]!;
    const lastHeaders = last.id === adminId ? admin : other.headers;
    for (const [method, json] of [
      ['POST', { role: 'developer' }],
      ['POST', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const res = await api(`/admin/users/${last.id}`, { method, headers: lastHeaders, ...(json ? { json } : {}) });
      assert.equal(res.status, 400, `${method} ${JSON.stringify(json)}`);
      assert.equal(res.json.type, 'not_allowed');
    }
    assert.equal((await a.services.accounts.get(last.id))!.role, 'admin');
    // Restore the test's admin for the tests after this one.
    if (last.id !== adminId) await a.services.accounts.update(adminId, { role: 'admin' });
  });

  it('lists, gets, changes, signs out and deletes customers: admins write, developers read, members neither', async () => {
    const c = await a.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: PASSWORD });
    const list = await api('/admin/customers?q=SHOPPER', { headers: developer });
    assert.equal(list.status, 200, JSON.stringify(list.json));
    assert.deepEqual(
      list.json.customers.map((x: { id: string }) => x.id),
      [c.id],
    );
    assert.equal(list.json.count, 1);
    assert.equal((await api(`/admin/customers/${c.id}`, { headers: developer })).json.customer.email, 'shopper@example.com');
    assert.equal((await api('/admin/customers', { headers: member })).status, 403);
    assert.equal((await api(`/admin/customers/${c.id}`, { method: 'POST', headers: developer, json: { first_name: 'X' } })).status, 403);
    assert.equal((await api(`/admin/customers/${c.id}`, { method: 'DELETE', headers: developer })).status, 403);
    assert.equal((await api(`/admin/customers/${c.id}/sign-out`, { method: 'POST', headers: developer })).status, 403);
    assert.equal((await api('/admin/customers/cus_nope', { headers: admin })).status, 404);
    assert.equal((await api(`/admin/customers/${adminId}`, { headers: admin })).status, 404, 'a user is not a customer');

    const token = await api('/auth/customer/emailpass', { method: 'POST', json: { email: 'shopper@example.com', password: PASSWORD } });
    assert.equal(token.status, 200, JSON.stringify(token.json));
    const shopper = { authorization: `Bearer ${token.json.token}` };
    assert.equal((await on(b, '/v1/auth/verify', { headers: shopper })).status, 200);

    const out = await api(`/admin/customers/${c.id}/sign-out`, { method: 'POST', headers: admin });
    assert.equal(out.status, 200);
    assert.equal(out.json.signed_out, true);
    assert.equal((await on(b, '/v1/auth/verify', { headers: shopper })).status, 401);

    const disabled = await api(`/admin/customers/${c.id}`, {
      method: 'POST',
      headers: admin,
      json: { disabled: true, last_name: 'Lovelace' },
    });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.json));
    assert.equal(disabled.json.customer.disabled, true);
    assert.equal(disabled.json.customer.last_name, 'Lovelace');
    assert.equal(
      (await api('/auth/customer/emailpass', { method: 'POST', json: { email: 'shopper@example.com', password: PASSWORD } })).status,
      401,
    );

    const del = await api(`/admin/customers/${c.id}`, { method: 'DELETE', headers: admin });
    assert.deepEqual(del.json, { id: c.id, object: 'customer', deleted: true });
    assert.equal((await api(`/admin/customers/${c.id}`, { headers: admin })).status, 404);
    const events = (await readAudit(a)).filter((e) => e.subject_id === c.id && !e.type!.startsWith('auth.')).map((e) => e.type);
    assert.deepEqual(events, ['customer.signed_out', 'customer.disabled', 'customer.updated', 'customer.deleted']);
  });
});

/** The audit stream's entries, as flat objects (the shape other services read with XRANGE/XREAD). */
async function readAudit(srv: TestServer): Promise<Record<string, string>[]> {
  const { createClient } = await import('redis');
  const client = createClient({ url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });
  await client.connect();
  try {
    const entries = await client.xRange(`${srv.prefix}events:audit`, '-', '+');
    return entries.map((e) => e.message as Record<string, string>);
  } finally {
    await client.close();
  }
}
