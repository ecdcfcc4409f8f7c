import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

const PASSWORD = 'correct horse battery';
const REFRESH_TTL_SECONDS = 3;

/**
 * A /v1 refresh family lives as long as it is used (each rotation starts a new REFRESH_TOKEN_TTL).
 * Sign-out everywhere, an admin's sign-out and a password reset end it however old it is: the
 * record of the account's sign-ins must follow the family's life, not the login's first TTL.
 */
describe("a refresh family kept alive by rotation still ends with the account's sign-ins", () => {
  let srv: TestServer;
  let targetId: string;
  const api = (path: string, init: Parameters<typeof http>[1] = {}) => http(`${srv.url}${path}`, init);
  const login = async (username: string) => {
    const res = await api('/v1/auth/login', { method: 'POST', json: { username, password: PASSWORD } });
    assert.equal(res.status, 200);
    return res.json as { token: string; refresh_token: string };
  };
  /** Rotate until the family is older than its first REFRESH_TOKEN_TTL. */
  const keptAlive = async (username: string) => {
    let pair = await login(username);
    for (let i = 0; i < 4; i++) {
      await sleep(1000);
      const rotated = await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: pair.refresh_token } });
      assert.equal(rotated.status, 200, `rotation ${i + 1}: ${rotated.text}`);
      pair = rotated.json;
    }
    return pair;
  };

  before(async () => {
    srv = await startTestServer({ env: { REFRESH_TOKEN_TTL: String(REFRESH_TTL_SECONDS) } });
    await srv.services.accounts.create({ actorType: 'user', email: 'old-device@example.com', password: PASSWORD, role: 'admin' });
    targetId = (await srv.services.accounts.create({ actorType: 'user', email: 'target@example.com', password: PASSWORD, role: 'member' }))
      .id;
  });
  after(() => srv.close());

  it('sign-out everywhere ends a family older than REFRESH_TOKEN_TTL', async () => {
    const old = await keptAlive('old-device@example.com');
    const fresh = await login('old-device@example.com');
    const out = await api('/v1/auth/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${fresh.token}` },
      json: { everywhere: true },
    });
    assert.equal(out.status, 204);
    assert.equal((await api('/v1/auth/verify', { headers: { authorization: `Bearer ${old.token}` } })).status, 401);
    assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: old.refresh_token } })).status, 401);
  });

  it("an admin's sign-out of a user ends a family older than REFRESH_TOKEN_TTL", async () => {
    const target = await keptAlive('target@example.com');
    const admin = await login('old-device@example.com');
    const out = await api(`/admin/users/${targetId}/sign-out`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}` } });
    assert.equal(out.status, 200);
    assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: target.refresh_token } })).status, 401);
  });
});
