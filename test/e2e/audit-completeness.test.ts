import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const PASSWORD = 'complete-audit-password';

/** Events as the admin API serves them (actor, subject and data as objects). */
type Event = {
  type: string;
  outcome: string;
  actor: { type: string; id: string };
  subject: { type: string; id: string } | null;
  data: any;
};

describe('audit trail: every change and sign-in is recorded once, with its actor and subject, and no secret', () => {
  let srv: TestServer;
  let adminId: string;
  let adminToken: string;
  /** Every value a scripted run used that must never reach the audit trail. */
  const secrets: string[] = [PASSWORD];
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const admin = (path: string, init: Parameters<typeof http>[1] = {}) =>
    http(`${srv.url}${path}`, { ...init, headers: { ...bearer(adminToken), ...init.headers } });
  const events = async (type: string): Promise<Event[]> => (await admin(`/admin/audit-events?limit=500&type=${type}`)).json.audit_events;
  const once = async (type: string, subjectId: string, actor?: { type: string; id: string }) => {
    const found = (await events(type)).filter((e) => e.subject?.id === subjectId);
    assert.equal(found.length, 1, `${type} for ${subjectId}: ${JSON.stringify(found)}`);
    if (actor) assert.deepEqual(found[0]!.actor, actor, `${type}: actor`);
    return found[0]!;
  };
  const asAdmin = () => ({ type: 'user', id: adminId });

  before(async () => {
    srv = await startTestServer();
    adminId = (await srv.services.accounts.create({ actorType: 'user', email: 'boss@example.com', password: PASSWORD, role: 'admin' })).id;
    const login = await http(`${srv.url}/admin/auth/token`, { method: 'POST', json: { email: 'boss@example.com', password: PASSWORD } });
    adminToken = login.json.token;
    secrets.push(adminToken);
  });
  after(() => srv.close());

  it('a failed login names the account it was about, never the typed email; an unknown email only as a keyed hash', async () => {
    const member = await srv.services.accounts.create({ actorType: 'user', email: 'typo@example.com', password: PASSWORD });
    const fail = (email: string) =>
      http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: email, password: 'not-the-password-1' } });
    assert.equal((await fail('typo@example.com')).status, 401);
    assert.equal((await fail('ghost.person@example.com')).status, 401);
    assert.equal((await fail('Ghost.Person@example.com')).status, 401);
    secrets.push('not-the-password-1');
    const failed = await events('auth.login.failed');
    const known = failed.filter((e) => e.subject?.id === member.id);
    assert.equal(known.length, 1);
    assert.deepEqual(known[0]!.actor, { type: 'anonymous', id: '' });
    assert.equal(known[0]!.data.reason, 'invalid_credentials');
    const unknown = failed.filter((e) => !e.subject);
    assert.equal(unknown.length, 2);
    assert.match(unknown[0]!.data.email_hash, /^[0-9a-f]{32}$/);
    assert.equal(unknown[0]!.data.email_hash, unknown[1]!.data.email_hash, 'one address tried twice shows as one pseudonym');
    assert.equal(JSON.stringify(failed).toLowerCase().includes('ghost.person'), false, 'the typed email is not recorded');
    assert.equal(JSON.stringify(failed).includes('typo@example.com'), false);
  });

  it('records users created and changed through the admin API, by the admin, once each', async () => {
    const created = await admin('/admin/users', {
      method: 'POST',
      json: { email: 'made@example.com', password: PASSWORD, role: 'member' },
    });
    assert.equal(created.status, 200, created.text);
    const id = created.json.user.id;
    const event = await once('user.created', id, asAdmin());
    assert.equal(event.data.role, 'member');
    assert.equal((await admin(`/admin/users/${id}`, { method: 'POST', json: { role: 'developer' } })).status, 200);
    assert.deepEqual((await once('user.role_changed', id, asAdmin())).data, { from_role: 'member', to_role: 'developer' });
    assert.equal((await admin(`/admin/users/${id}`, { method: 'POST', json: { disabled: true } })).status, 200);
    await once('user.disabled', id, asAdmin());
    assert.equal((await admin(`/admin/users/${id}`, { method: 'DELETE' })).status, 200);
    await once('user.deleted', id, asAdmin());
  });

  it('records every API key change: created, updated, sales channels, rolled, revoked, deleted', async () => {
    const created = await admin('/admin/api-keys', { method: 'POST', json: { title: 'lifecycle', type: 'secret' } });
    assert.equal(created.status, 200, created.text);
    const key = created.json.api_key;
    secrets.push(key.token);
    await once('api_key.created', key.id, asAdmin());
    assert.equal((await admin(`/admin/api-keys/${key.id}`, { method: 'POST', json: { title: 'renamed' } })).status, 200);
    await once('api_key.updated', key.id, asAdmin());
    const rolled = await admin(`/admin/api-keys/${key.id}/roll`, { method: 'POST', json: {} });
    assert.equal(rolled.status, 200, rolled.text);
    secrets.push(rolled.json.api_key.token);
    assert.equal((await once('api_key.revoked', key.id, asAdmin())).data.replaced_by, rolled.json.api_key.id);
    assert.equal((await once('api_key.created', rolled.json.api_key.id, asAdmin())).data.replaces, key.id);
    const revoked = await admin(`/admin/api-keys/${rolled.json.api_key.id}/revoke`, { method: 'POST', json: {} });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await events('api_key.revoked')).filter((e) => e.subject?.id === rolled.json.api_key.id).length, 1);
    assert.equal((await admin(`/admin/api-keys/${key.id}`, { method: 'DELETE' })).status, 200);
    await once('api_key.deleted', key.id, asAdmin());

    const pk = (await admin('/admin/api-keys', { method: 'POST', json: { title: 'shop', type: 'publishable' } })).json.api_key;
    const channel = (await admin('/admin/sales-channels', { method: 'POST', json: { name: 'Web' } })).json.sales_channel;
    await once('sales_channel.created', channel.id, asAdmin());
    const linked = await admin(`/admin/api-keys/${pk.id}/sales-channels`, { method: 'POST', json: { add: [channel.id] } });
    assert.equal(linked.status, 200, linked.text);
    assert.equal((await once('api_key.sales_channels_changed', pk.id, asAdmin())).data.add, channel.id);
  });

  it('records OAuth client changes, a grant given and withdrawn by an admin, and a logout at the OAuth server', async () => {
    const created = await admin('/admin/oauth-clients', {
      method: 'POST',
      json: { client_id: 'audit-complete', name: 'Audit', redirect_uris: [REDIRECT_URI] },
    });
    assert.equal(created.status, 200, created.text);
    secrets.push(created.json.oauth_client.client_secret);
    await once('oauth_client.created', 'audit-complete', asAdmin());
    assert.equal((await admin('/admin/oauth-clients/audit-complete', { method: 'POST', json: { name: 'Audited' } })).status, 200);
    await once('oauth_client.updated', 'audit-complete', asAdmin());
    const rotated = await admin('/admin/oauth-clients/audit-complete/rotate-secret', { method: 'POST', json: {} });
    assert.equal(rotated.status, 200, rotated.text);
    const secret = rotated.json.oauth_client.client_secret as string;
    secrets.push(secret);
    await once('oauth_client.secret_rotated', 'audit-complete', asAdmin());

    const customer = await srv.services.accounts.create({ actorType: 'customer', email: 'grants@example.com', password: PASSWORD });
    const rp = await relyingParty(srv.url, { clientId: 'audit-complete', clientSecret: secret });
    const browser = new Browser();
    const a = await authorize(rp, browser, { email: 'grants@example.com', password: PASSWORD, scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    secrets.push(tokens.access_token, tokens.refresh_token!, tokens.id_token!);
    const grantId = decodeJwt(tokens.access_token).grant_id as string;
    await once('oauth_grant.given', grantId, { type: 'customer', id: customer.id });
    const withdrawn = await admin(`/admin/customers/${customer.id}/grants/${grantId}`, { method: 'DELETE' });
    assert.equal(withdrawn.status, 200, withdrawn.text);
    await once('oauth_grant.revoked', grantId, asAdmin());

    // The browser still holds its session at the OAuth server: signing out there is a logout.
    const end = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token! });
    const confirm = await browser.follow(end.href, 'https://never');
    await browser.submit(confirm.url, confirm.html, '/end-session/confirm', { logout: 'yes' }, 'https://never');
    const logout = (await events('auth.logout')).filter((e) => e.subject?.id === customer.id);
    assert.equal(logout.length, 1);
    assert.deepEqual(logout[0]!.actor, { type: 'customer', id: customer.id });
    assert.equal(logout[0]!.data.surface, 'oauth');

    assert.equal((await admin('/admin/oauth-clients/audit-complete', { method: 'DELETE' })).status, 200);
    await once('oauth_client.deleted', 'audit-complete', asAdmin());
  });

  it('records a logout of a cookie session (DELETE /auth/session) by the account', async () => {
    const user = await srv.services.accounts.create({ actorType: 'user', email: 'cookie@example.com', password: PASSWORD });
    const token = (
      await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: { email: 'cookie@example.com', password: PASSWORD } })
    ).json.token;
    secrets.push(token);
    const start = await http(`${srv.url}/auth/session`, { method: 'POST', headers: bearer(token) });
    assert.equal(start.status, 200, start.text);
    const cookie = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    secrets.push(cookie.split('=')[1]!);
    const out = await http(`${srv.url}/auth/session`, {
      method: 'DELETE',
      headers: { cookie, origin: new URL(srv.url).origin, 'content-type': 'application/json' },
    });
    assert.equal(out.status, 200, out.text);
    const event = await once('auth.logout', user.id, { type: 'user', id: user.id });
    assert.equal(event.data.surface, 'auth');
    assert.equal(event.data.cookie_session, true);
  });

  it('no password, token, key or client secret appears anywhere in the stream after all of the above', async () => {
    const exported = await (await fetch(`${srv.url}/admin/audit-events/export`, { headers: bearer(adminToken) })).text();
    assert.ok(exported.trim().split('\n').length > 20);
    for (const secret of secrets) {
      assert.ok(secret && secret.length >= 8);
      assert.equal(exported.includes(secret), false, `a secret in the audit trail: ${secret.slice(0, 6)}…`);
    }
  });
});

describe('audit trail: lock-outs', () => {
  it('records one auth.login.locked_out per lock-out, however many requests the lock-out then refuses', async () => {
    const srv = await startTestServer();
    try {
      const user = await srv.services.accounts.create({ actorType: 'user', email: 'locked@example.com', password: PASSWORD });
      const wrong = () =>
        http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'locked@example.com', password: 'wrong-guess' } });
      // An account backs off after its 5 free failures: the 5th wrong password starts the lock-out.
      for (let i = 0; i < 5; i++) assert.equal((await wrong()).status, 401);
      const burst = await Promise.all(Array.from({ length: 12 }, wrong));
      const refused = burst.filter((r) => r.status === 429).length;
      assert.ok(refused >= 1, 'the lock-out refused requests');
      // Each wrong password checked while backing off starts a longer lock-out (the machine may be slow
      // enough for the first to end mid-burst): one event for each of those, none for a refusal.
      const checkedAgain = burst.filter((r) => r.status === 401).length;
      assert.equal(refused + checkedAgain, burst.length);
      const { events } = await srv.services.audit.list({ type: 'auth.login.locked_out', limit: 100 });
      assert.equal(events.length, 1 + checkedAgain, JSON.stringify(events));
      const first = events.at(-1)!;
      assert.equal(first.subject_id, user.id);
      assert.equal(first.outcome, 'failure');
      assert.equal(JSON.parse(first.data!).cell, 'account');
      assert.ok(JSON.parse(first.data!).retry_after >= 1);
      // Refused requests are not failed logins either: only the wrong passwords checked are.
      const failed = await srv.services.audit.list({ type: 'auth.login.failed', subjectId: user.id, limit: 100 });
      assert.equal(failed.events.length, 5 + checkedAgain);
    } finally {
      await srv.close();
    }
  });
});

describe('audit trail: dropped password-reset requests', () => {
  it('are recorded at most once a minute per address, however many are sent', async () => {
    const srv = await startTestServer();
    try {
      const started = Date.now();
      const reset = () =>
        http(`${srv.url}/auth/customer/emailpass/reset-password`, { method: 'POST', json: { identifier: 'flooded@example.com' } });
      // 5 an hour per account are admitted; the rest are dropped (the answer is 201 all the same).
      for (let i = 0; i < 15; i++) assert.equal((await reset()).status, 201);
      const { events } = await srv.services.audit.list({ type: 'auth.password_reset.requested', limit: 100 });
      assert.equal(events.filter((e) => e.outcome === 'success').length, 5);
      const dropped = events.filter((e) => e.outcome === 'failure');
      const minutes = Math.floor((Date.now() - started) / 60_000);
      assert.ok(dropped.length >= 1 && dropped.length <= 1 + minutes, `${dropped.length} events for 10 dropped requests`);
      assert.equal(JSON.parse(dropped[0]!.data!).reason, 'throttled');
      assert.equal(JSON.stringify(events).includes('flooded@example.com'), false);
    } finally {
      await srv.close();
    }
  });
});

describe('audit trail: other services read it', () => {
  it('with a consumer group (XGROUP, XREADGROUP, XACK), as docs/operations.md shows', async () => {
    const srv = await startTestServer();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const stream = `${srv.prefix}events:audit`;
      await redis.xGroupCreate(stream, 'siem', '$', { MKSTREAM: true });
      await srv.services.accounts.create({ actorType: 'user', email: 'consumed@example.com', password: PASSWORD });
      await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'consumed@example.com', password: PASSWORD } });
      const read = await redis.xReadGroup('siem', 'worker-1', { key: stream, id: '>' }, { COUNT: 100 });
      const messages = (read as { messages: { id: string; message: Record<string, string> }[] }[])[0]!.messages;
      const login = messages.find((m) => m.message.type === 'auth.login.succeeded');
      assert.ok(login, JSON.stringify(messages));
      assert.equal(login.message.actor_type, 'user');
      assert.match(login.message.hash!, /^[0-9a-f]{64}$/);
      assert.equal(JSON.parse(login.message.data!).actor_type, 'user');
      assert.equal(
        await redis.xAck(
          stream,
          'siem',
          messages.map((m) => m.id),
        ),
        messages.length,
      );
      const pending = await redis.xPending(stream, 'siem');
      assert.equal(pending.pending, 0);
    } finally {
      await redis.quit();
      await srv.close();
    }
  });
});
