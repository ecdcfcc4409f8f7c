import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { dropPrefix, http, privatePrefix, REDIS_URL, startTestServer, type TestServer, runCli } from '../helpers/harness.ts';
import { eventually, startWebhookSink } from '../helpers/webhook-sink.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const run = promisify(execFile);
const PASSWORD = 'supersecret-audit';

async function auditCli(prefix: string, ...args: string[]) {
  const { code, stdout } = await runCli(prefix, ['audit', ...args]);
  return { code, stdout };
}

describe('audit trail', () => {
  let srv: TestServer;
  let adminId: string;
  let adminToken: string;
  const events = async (query = '') =>
    (await http(`${srv.url}/admin/audit-events?limit=500${query}`, { headers: { authorization: `Bearer ${adminToken}` } })).json
      .audit_events as any[];

  before(async () => {
    srv = await startTestServer();
    adminId = (await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: PASSWORD, role: 'admin' })).id;
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: PASSWORD, role: 'member' });
    const login = await http(`${srv.url}/admin/auth/token`, {
      method: 'POST',
      json: { email: 'admin@example.com', password: PASSWORD },
      headers: { 'user-agent': 'audit-test/1.0', 'x-request-id': 'req-audit-1' },
    });
    assert.equal(login.status, 200);
    adminToken = login.json.token;
  });
  after(() => srv.close());

  it('records a password login once, with the account as actor and subject, its address, user agent and request id', async () => {
    const found = (await events('&type=auth.login.succeeded')).filter((e) => e.subject?.id === adminId);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0].actor, { type: 'user', id: adminId });
    assert.equal(found[0].outcome, 'success');
    assert.equal(found[0].ip, '127.0.0.1');
    assert.equal(found[0].user_agent, 'audit-test/1.0');
    assert.equal(found[0].request_id, 'req-audit-1');
  });

  it('records a failed login with its reason class for operators, anonymous, and the client still sees one answer', async () => {
    const res = await http(`${srv.url}/admin/auth/token`, {
      method: 'POST',
      json: { email: 'admin@example.com', password: 'wrong-password-1' },
    });
    assert.equal(res.status, 401);
    const found = await events('&type=auth.login.failed');
    assert.equal(found.length, 1);
    assert.equal(found[0].outcome, 'failure');
    assert.deepEqual(found[0].actor, { type: 'anonymous', id: '' });
    assert.equal(found[0].data.reason, 'invalid_credentials');
  });

  it('records API key changes with the admin as actor, and never a password, token or key in any event', async () => {
    const created = await http(`${srv.url}/admin/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      json: { title: 'audit key', type: 'secret' },
    });
    assert.equal(created.status, 200);
    const key = created.json.api_key;
    const found = (await events('&type=api_key.created')).filter((e) => e.subject?.id === key.id);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0].actor, { type: 'user', id: adminId });
    const exported = await fetch(`${srv.url}/admin/audit-events/export`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(exported.headers.get('content-type')?.startsWith('application/x-ndjson'), true);
    const text = await exported.text();
    assert.ok(text.trim().split('\n').length >= 3);
    for (const secret of [PASSWORD, 'wrong-password-1', adminToken, key.token])
      assert.equal(text.includes(secret), false, 'a secret in the audit trail');
  });

  it('filters by actor and pages with a cursor', async () => {
    const first = await http(`${srv.url}/admin/audit-events?limit=1&actor_id=${adminId}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(first.json.audit_events.length, 1);
    assert.ok(first.json.next_cursor);
    const second = await http(`${srv.url}/admin/audit-events?limit=1&actor_id=${adminId}&cursor=${first.json.next_cursor}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(second.json.audit_events.length, 1);
    assert.ok(second.json.audit_events[0].id < first.json.audit_events[0].id);
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const only = async (type: string, subjectId: string) => {
    const found = (await events(`&type=${type}`)).filter((e) => e.subject?.id === subjectId);
    assert.equal(found.length, 1, `${type} for ${subjectId}: ${JSON.stringify(found)}`);
    return found[0];
  };
  const newUser = async (email: string) =>
    (await srv.services.accounts.create({ actorType: 'user', email, password: PASSWORD, role: 'member' })).id;
  const v1Login = async (email: string) =>
    (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: email, password: PASSWORD } })).json;

  it('records a /v1 logout and a sign-out everywhere, by the account itself', async () => {
    const id = await newUser('logout@example.com');
    const first = await v1Login('logout@example.com');
    assert.equal((await http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: bearer(first.token), json: {} })).status, 204);
    assert.deepEqual((await only('auth.logout', id)).actor, { type: 'user', id });
    const second = await v1Login('logout@example.com');
    const out = await http(`${srv.url}/v1/auth/logout`, { method: 'POST', headers: bearer(second.token), json: { everywhere: true } });
    assert.equal(out.status, 204);
    assert.deepEqual((await only('auth.signed_out_everywhere', id)).actor, { type: 'user', id });
  });

  it('records a reused refresh token (its family revoked) as a failure about the account', async () => {
    const id = await newUser('reuse@example.com');
    const pair = await v1Login('reuse@example.com');
    const refresh = () => http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: pair.refresh_token } });
    assert.equal((await refresh()).status, 200);
    assert.equal((await refresh()).status, 401);
    const event = await only('auth.refresh_token_reused', id);
    assert.equal(event.outcome, 'failure');
    assert.equal(event.data.family_revoked, true);
  });

  it("records an admin's sign-out of a user, with the admin as actor", async () => {
    const id = await newUser('signed-out@example.com');
    const res = await http(`${srv.url}/admin/users/${id}/sign-out`, { method: 'POST', headers: bearer(adminToken), json: {} });
    assert.equal(res.status, 200);
    assert.deepEqual((await only('user.signed_out', id)).actor, { type: 'user', id: adminId });
  });

  it('records a sales channel created by an admin', async () => {
    const res = await http(`${srv.url}/admin/sales-channels`, {
      method: 'POST',
      headers: bearer(adminToken),
      json: { name: 'Audit shop' },
    });
    assert.equal(res.status, 200);
    const event = await only('sales_channel.created', res.json.sales_channel.id);
    assert.deepEqual(event.actor, { type: 'user', id: adminId });
    assert.equal(event.data.name, 'Audit shop');
  });

  it('records a registration, a password reset requested and completed (never the reset token)', async () => {
    const pk = (await http(`${srv.url}/admin/api-keys`, { method: 'POST', headers: bearer(adminToken), json: { title: 'shop' } })).json
      .api_key.token;
    const email = 'registered@example.com';
    const reg = await http(`${srv.url}/auth/customer/emailpass/register`, { method: 'POST', json: { email, password: PASSWORD } });
    const created = await http(`${srv.url}/store/customers`, {
      method: 'POST',
      headers: { ...bearer(reg.json.token), 'x-publishable-api-key': pk },
      json: { email },
    });
    assert.equal(created.status, 200);
    const customerId = created.json.customer.id;
    assert.deepEqual((await only('customer.registered', customerId)).actor, { type: 'customer', id: customerId });

    await http(`${srv.url}/auth/customer/emailpass/reset-password`, { method: 'POST', json: { identifier: email } });
    // The typed email is personal data: the event carries its keyed pseudonym, never the email.
    const pseudonym = srv.services.audit.pseudonym(`customer:${email}`);
    const requested = (await events('&type=auth.password_reset.requested')).filter((e) => e.data.email_hash === pseudonym);
    assert.equal(requested.length, 1);
    assert.equal(JSON.stringify(requested).includes(email), false);
    let resetToken: string | undefined;
    for (let i = 0; i < 40 && !resetToken; i++) {
      const published = await srv.store.streamRange('events:auth', { count: 50 });
      resetToken = published.find((e) => e.fields.entity_id === email)?.fields.token;
      if (!resetToken) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(resetToken);
    const updated = await http(`${srv.url}/auth/customer/emailpass/update`, {
      method: 'POST',
      headers: bearer(resetToken),
      json: { password: 'a brand new password' },
    });
    assert.equal(updated.status, 200);
    const completed = await only('auth.password_reset.completed', customerId);
    assert.deepEqual(completed.actor, { type: 'customer', id: customerId });
    const exported = await (await fetch(`${srv.url}/admin/audit-events/export`, { headers: bearer(adminToken) })).text();
    for (const secret of [resetToken, reg.json.token, 'a brand new password', pk]) assert.equal(exported.includes(secret), false);
  });

  it('is for admins only: a member is refused', async () => {
    const login = await http(`${srv.url}/admin/auth/token`, { method: 'POST', json: { email: 'member@example.com', password: PASSWORD } });
    const res = await http(`${srv.url}/admin/audit-events`, { headers: { authorization: `Bearer ${login.json.token}` } });
    assert.equal(res.status, 403);
    assert.equal(res.json.type, 'forbidden');
  });
});

describe('audit trail: the hash chain', () => {
  it('50 events appended in parallel by two instances form one unbroken chain; verify names an edited and a deleted event', async () => {
    const prefix = privatePrefix('audit-chain');
    const a = await startTestServer({ prefix });
    const b = await startTestServer({ prefix });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).services.audit.record('test.event', { subject: { type: 'test', id: `t${i}` }, data: { n: i } }),
        ),
      );
      // The CLI writes to the same chain (an API key created from the shell).
      await a.services.accounts.create({ actorType: 'user', email: 'cli@example.com', password: PASSWORD, role: 'admin' });
      const cli = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'api-key',
          'create',
          '--title',
          'shell',
          '--type',
          'secret',
          '--created-by',
          'cli@example.com',
        ],
        {
          env: {
            ...process.env,
            NODE_ENV: 'test',
            REDIS_URL,
            REDIS_PREFIX: prefix,
            DEV_SECRETS_FILE: '.portcullis/test-secrets.json',
            LOG_LEVEL: 'silent',
          },
        },
      );
      assert.ok(JSON.parse(cli.stdout).id);
      const intact = await auditCli(prefix, 'verify');
      assert.equal(intact.code, 0, intact.stdout);
      assert.equal(JSON.parse(intact.stdout).checked, 51);

      const stream = `${prefix}events:audit`;
      const entries = await redis.xRange(stream, '-', '+');
      assert.deepEqual(
        entries.map((e) => e.message.seq),
        Array.from({ length: 51 }, (_, i) => String(i + 1)),
      );
      // An attacker rewrites one event (same id, one field changed): a stream only grows, so rebuild it.
      const victim = entries[20]!;
      await redis.del(stream);
      for (const e of entries) await redis.xAdd(stream, e.id, e === victim ? { ...e.message, subject_id: 'someone-else' } : e.message);
      const tampered = await auditCli(prefix, 'verify');
      assert.equal(tampered.code, 1);
      assert.deepEqual(JSON.parse(tampered.stdout).broken, { id: victim.id, seq: '21', reason: 'tampered' });

      await redis.xDel(stream, victim.id);
      const missing = await auditCli(prefix, 'verify');
      assert.equal(missing.code, 1);
      assert.deepEqual(JSON.parse(missing.stdout).broken, { id: entries[21]!.id, seq: '22', reason: 'missing', after: entries[19]!.id });
    } finally {
      await redis.quit();
      await a.close();
      await b.close();
      await dropPrefix(prefix);
    }
  });

  it('trims events older than AUDIT_RETENTION', async () => {
    const srv = await startTestServer({ env: { AUDIT_RETENTION: '1s' } });
    try {
      await srv.services.audit.record('test.old');
      await new Promise((r) => setTimeout(r, 600));
      await srv.services.audit.record('test.middle');
      await new Promise((r) => setTimeout(r, 600));
      await srv.services.audit.record('test.new');
      const { events } = await srv.services.audit.list({ limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ['test.new', 'test.middle'],
      );
      assert.equal((await srv.services.audit.verify()).ok, true);
    } finally {
      await srv.close();
    }
  });
});

describe('audit trail: OAuth grants', () => {
  it('records a grant given at the consent page (by the account) and withdrawn at the revocation endpoint (by the client)', async () => {
    const srv = await startTestServer();
    try {
      const customer = await srv.services.accounts.create({ actorType: 'customer', email: 'oauth@example.com', password: PASSWORD });
      const { secret } = await srv.services.oauthClients.create({
        clientId: 'audited-app',
        name: 'Audited',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      const rp = await relyingParty(srv.url, { clientId: 'audited-app', clientSecret: secret! });
      const a = await authorize(rp, new Browser(), { email: 'oauth@example.com', password: PASSWORD, scope: 'openid read' });
      const tokens = await client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
      const grantId = decodeJwt(tokens.access_token).grant_id as string;
      const list = async (type: string) => (await srv.services.audit.list({ type, subjectId: grantId, limit: 10 })).events;

      const given = await list('oauth_grant.given');
      assert.equal(given.length, 1);
      assert.deepEqual([given[0]!.actor_type, given[0]!.actor_id], ['customer', customer.id]);
      assert.equal(JSON.parse(given[0]!.data!).client_id, 'audited-app');

      await client.tokenRevocation(rp, tokens.refresh_token!);
      const revoked = await list('oauth_grant.revoked');
      assert.equal(revoked.length, 1);
      assert.deepEqual([revoked[0]!.actor_type, revoked[0]!.actor_id], ['oauth_client', 'audited-app']);
      const all = JSON.stringify((await srv.services.audit.list({ limit: 100 })).events);
      for (const secretValue of [secret!, tokens.access_token, tokens.refresh_token!, PASSWORD])
        assert.equal(all.includes(secretValue), false);
    } finally {
      await srv.close();
    }
  });
});

describe('audit trail: the webhook', () => {
  it('pushes each event to NOTIFY_WEBHOOK_URL', async () => {
    const sink = await startWebhookSink();
    const srv = await startTestServer({ env: { NOTIFY_WEBHOOK_URL: sink.url } });
    try {
      await srv.services.accounts.create({ actorType: 'user', email: 'hooked@example.com', password: PASSWORD });
      await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'hooked@example.com', password: 'not the password' } });
      const hook = await eventually(() => sink.events.find((e) => e.event === 'auth.login.failed'));
      assert.equal(hook.data.outcome, 'failure');
      assert.equal(JSON.parse(hook.data.data).reason, 'invalid_credentials');
      assert.equal(JSON.stringify(hook).includes('not the password'), false);
    } finally {
      await srv.close();
      sink.server.close();
    }
  });
});
