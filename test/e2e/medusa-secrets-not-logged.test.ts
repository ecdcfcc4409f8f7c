import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * The whole Medusa flow at log level debug, with every log line captured: no password, JWT,
 * API key, session id or password-reset token may appear in any of them.
 */
describe('Secrets never reach the logs', () => {
  const lines: string[] = [];
  let server: TestServer;
  let url: string;
  let prefix: string;

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startTestServer({ env: { LOG_LEVEL: 'debug' }, logDestination: sink });
    url = server.url;
    prefix = server.prefix;
    await server.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'admin-password-123', role: 'admin' });
  });
  after(() => server.close());

  it('logs requests and events but none of the credentials that went through them', async () => {
    const secrets: string[] = ['admin-password-123', 'customer-password-456', 'new-password-789'];
    const login = await http(`${url}/admin/auth/token`, {
      method: 'POST',
      json: { email: 'admin@example.com', password: 'admin-password-123' },
    });
    const jwt = login.json.token as string;
    secrets.push(jwt);
    const admin = { authorization: `Bearer ${jwt}` };
    const sk = (await http(`${url}/admin/api-keys`, { method: 'POST', json: { title: 's', type: 'secret' }, headers: admin })).json.api_key;
    const pk = (await http(`${url}/admin/api-keys`, { method: 'POST', json: { title: 'p' }, headers: admin })).json.api_key;
    secrets.push(sk.token, pk.token);
    await http(`${url}/admin/users/me?token=${sk.token}`, {
      headers: { authorization: `Basic ${Buffer.from(`${sk.token}:`).toString('base64')}` },
    });
    await http(`${url}/v1/auth/verify`, { headers: { authorization: `Bearer ${sk.token}` } });
    const reg = await http(`${url}/auth/customer/emailpass/register`, {
      method: 'POST',
      json: { email: 'c@example.com', password: 'customer-password-456' },
    });
    secrets.push(reg.json.token);
    await http(`${url}/store/customers`, {
      method: 'POST',
      json: {},
      headers: { authorization: `Bearer ${reg.json.token}`, 'x-publishable-api-key': pk.token },
    });
    const session = await http(`${url}/auth/session`, { method: 'POST', headers: admin });
    const cookie = session.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    secrets.push(decodeURIComponent(cookie.match(/connect\.sid=([^;]+)/)![1]!));
    await http(`${url}/admin/users/me`, { headers: { cookie } });
    await http(`${url}/auth/customer/emailpass/reset-password`, { method: 'POST', json: { identifier: 'c@example.com' } });
    // The event is published just after the 201 (off the request path): read it as a mailer would.
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    let resetToken: string | undefined;
    for (let i = 0; i < 200 && !resetToken; i++) {
      resetToken = (await redis.xRange(`${prefix}events:auth`, '-', '+'))[0]?.message.token;
      if (!resetToken) await new Promise((r) => setTimeout(r, 10));
    }
    await redis.close();
    assert.ok(resetToken, 'the reset event was published');
    secrets.push(resetToken);
    await http(`${url}/auth/customer/emailpass/update?token=${resetToken}`, { method: 'POST', json: { password: 'new-password-789' } });
    await http(`${url}/auth/customer/emailpass/update`, {
      method: 'POST',
      json: { password: 'new-password-789' },
      headers: { authorization: `Bearer ${resetToken}` },
    });

    const log = lines.join('');
    assert.ok(lines.length > 10, 'requests were logged');
    assert.ok(log.includes('auth.password_reset'), 'the reset event was logged');
    assert.ok(log.includes('api_key.created'), 'the audit events were logged');
    for (const secret of secrets) assert.ok(!log.includes(secret), `a secret reached the logs: ${secret.slice(0, 6)}…`);
  });
});
