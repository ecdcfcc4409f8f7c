import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

const PASSWORD = 'correct horse battery';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A secret API key is a credential of its own (its expiry, quota and revocation). Routes that mint
 * a new credential (another API key, a rolled key, a user with a password, an OAuth client secret)
 * accept a signed-in user only: a key that could mint keys would outlive its own expiry and quota,
 * and a leaked key would survive its revocation through the keys it minted (issue 9 item 1, as a
 * class: every route that turns one credential into another names the kinds it accepts).
 */
describe('API keys mint no credentials', () => {
  let srv: TestServer;
  let admin: Record<string, string>;
  /** An admin-scoped secret key expiring in an hour, limited to 50 requests an hour. */
  let key: { id: string; token: string };
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: PASSWORD, role: 'admin' });
    const login = await api('/admin/auth/token', { method: 'POST', json: { email: 'admin@example.com', password: PASSWORD } });
    admin = bearer(login.json.token);
    const created = await api('/admin/api-keys', {
      method: 'POST',
      headers: admin,
      json: { title: 'short-lived', type: 'secret', expires_at: new Date(Date.now() + 3600_000).toISOString(), rate_limit: '50/h' },
    });
    assert.equal(created.status, 200);
    key = created.json.api_key;
  });
  after(() => srv.close());

  it('a key cannot create another key (which would outlive its expiry, quota and revocation)', async () => {
    const res = await api('/admin/api-keys', { method: 'POST', headers: bearer(key.token), json: { title: 'child', type: 'secret' } });
    assert.equal(res.status, 403);
    assert.equal(res.json.type, 'forbidden');
    const publishable = await api('/admin/api-keys', { method: 'POST', headers: bearer(key.token), json: { title: 'child' } });
    assert.equal(publishable.status, 403);
    const list = await api('/admin/api-keys?q=child', { headers: admin });
    assert.equal(list.json.count, 0);
  });

  it('a key cannot roll itself out of a scheduled revocation', async () => {
    assert.equal((await api(`/admin/api-keys/${key.id}/revoke`, { method: 'POST', headers: admin, json: { revoke_in: 600 } })).status, 200);
    const rolled = await api(`/admin/api-keys/${key.id}/roll`, { method: 'POST', headers: bearer(key.token), json: {} });
    assert.equal(rolled.status, 403);
    // A signed-in user still rolls keys.
    const byUser = await api(`/admin/api-keys/${key.id}/roll`, { method: 'POST', headers: admin, json: { revoke_in: 600 } });
    assert.equal(byUser.status, 200);
    key = byUser.json.api_key;
  });

  it('a key cannot create a user (a password that outlives the key)', async () => {
    const res = await api('/admin/users', {
      method: 'POST',
      headers: bearer(key.token),
      json: { email: 'minted@example.com', password: 'another long passphrase', role: 'admin' },
    });
    assert.equal(res.status, 403);
    const login = await api('/admin/auth/token', {
      method: 'POST',
      json: { email: 'minted@example.com', password: 'another long passphrase' },
    });
    assert.equal(login.status, 401);
  });

  it('a key cannot create an OAuth client or rotate its secret (a client credential that outlives the key)', async () => {
    const created = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: bearer(key.token),
      json: { client_id: 'minted-app', grant_types: ['client_credentials'], scopes: ['read'] },
    });
    assert.equal(created.status, 403);
    const mine = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: admin,
      json: { client_id: 'admin-app', grant_types: ['client_credentials'], scopes: ['read'] },
    });
    assert.equal(mine.status, 200, mine.text);
    const rotated = await api('/admin/oauth-clients/admin-app/rotate-secret', { method: 'POST', headers: bearer(key.token), json: {} });
    assert.equal(rotated.status, 403);
    // Reading and revoking stay open to keys: they mint nothing.
    assert.equal((await api('/admin/oauth-clients/admin-app', { headers: bearer(key.token) })).status, 200);
  });
});

/**
 * A client-credentials token speaks for the client with the client's scopes: registering a client
 * is minting a credential, so it holds no scope that ROLE_SCOPES gives to some role and its
 * registrar's role lacks (with OAUTH_SCOPES offering `admin`, a developer cannot mint an
 * admin-scoped machine token), as for API keys.
 */
describe('OAuth clients hold no scope their registrar lacks', () => {
  let srv: TestServer;
  let developer: Record<string, string>;
  let admin: Record<string, string>;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const signIn = async (email: string) =>
    bearer((await api('/admin/auth/token', { method: 'POST', json: { email, password: PASSWORD } })).json.token);

  before(async () => {
    srv = await startTestServer({ env: { OAUTH_SCOPES: 'openid,read,write,admin' } });
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: PASSWORD, role: 'admin' });
    await srv.services.accounts.create({ actorType: 'user', email: 'developer@example.com', password: PASSWORD, role: 'developer' });
    admin = await signIn('admin@example.com');
    developer = await signIn('developer@example.com');
  });
  after(() => srv.close());

  it('a developer cannot register or widen a client to admin scope; an admin can', async () => {
    const widened = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: developer,
      json: { client_id: 'dev-machine', grant_types: ['client_credentials'], scopes: ['read', 'admin'] },
    });
    assert.equal(widened.status, 403);
    assert.equal(widened.json.type, 'forbidden');
    const defaulted = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: developer,
      json: { client_id: 'dev-default', grant_types: ['client_credentials'] },
    });
    assert.equal(defaulted.status, 403, 'the default (every offered scope) includes admin');
    const own = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: developer,
      json: { client_id: 'dev-machine', grant_types: ['client_credentials'], scopes: ['read', 'write'] },
    });
    assert.equal(own.status, 200, own.text);
    const update = await api('/admin/oauth-clients/dev-machine', {
      method: 'POST',
      headers: developer,
      json: { scopes: ['read', 'write', 'admin'] },
    });
    assert.equal(update.status, 403);
    const byAdmin = await api('/admin/oauth-clients', {
      method: 'POST',
      headers: admin,
      json: { client_id: 'admin-machine', grant_types: ['client_credentials'], scopes: ['read', 'admin'] },
    });
    assert.equal(byAdmin.status, 200, byAdmin.text);
    const token = await api('/oauth/token', {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`dev-machine:${own.json.oauth_client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=read%20write%20admin',
    });
    // The client gets those of the asked scopes it is allowed (README): never admin.
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.scope, 'read write');
  });
});
