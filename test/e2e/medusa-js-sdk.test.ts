import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as medusaSdk from '@medusajs/js-sdk';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

// The package's types read as CommonJS (no "type": "module") while Node loads its ESM build,
// so the default export is typed one level deeper than it is at run time.
type MedusaClass = typeof medusaSdk.default.default;
const loaded = medusaSdk as unknown as { default: MedusaClass | { default: MedusaClass } };
const Medusa: MedusaClass = 'default' in loaded.default ? loaded.default.default : loaded.default;
const { FetchError } = medusaSdk;
type FetchError = InstanceType<typeof medusaSdk.FetchError>;

/** The real @medusajs/js-sdk against Portcullis, as a Node back office or storefront would use it. */
describe('@medusajs/js-sdk against Portcullis', () => {
  let srv: TestServer;
  const sdk = (extra: Record<string, unknown> = {}) =>
    new Medusa({
      baseUrl: srv.url,
      auth: { jwtTokenStorageMethod: 'memory' },
      logger: { error() {}, warn() {}, info() {}, debug() {} },
      ...extra,
    });

  /** The error the SDK throws (any status >= 300), with its status and the body's message. */
  async function rejection(p: Promise<unknown>): Promise<FetchError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof FetchError, String(err));
      return err;
    }
    assert.fail('expected the SDK call to fail');
  }

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'supersecret', role: 'admin' });
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: 'supersecret', role: 'member' });
  });
  after(() => srv.close());

  it('logs a user in and manages API keys through sdk.admin.apiKey', async () => {
    const admin = sdk();
    const token = await admin.auth.login('user', 'emailpass', { email: 'admin@example.com', password: 'supersecret' });
    assert.equal(typeof token, 'string');
    const { user } = await admin.admin.user.me();
    assert.equal(user.email, 'admin@example.com');

    const { api_key: created } = await admin.admin.apiKey.create({ title: 'Storefront', type: 'publishable' });
    assert.match(created.token, /^pk_/);
    const { api_key: secret } = await admin.admin.apiKey.create({ title: 'Server', type: 'secret' });
    assert.match(secret.token, /^sk_/);

    const listed = await admin.admin.apiKey.list({ type: 'publishable' } as never);
    assert.deepEqual(
      listed.api_keys.map((k: { id: string }) => k.id),
      [created.id],
    );
    assert.equal(listed.count, 1);
    const { api_key: retrieved } = await admin.admin.apiKey.retrieve(secret.id);
    assert.equal(retrieved.token, '');
    const { api_key: renamed } = await admin.admin.apiKey.update(created.id, { title: 'Storefront EU' });
    assert.equal(renamed.title, 'Storefront EU');

    const { sales_channel } = await admin.admin.salesChannel.create({ name: 'EU web' });
    const { api_key: linked } = await admin.admin.apiKey.batchSalesChannels(created.id, { add: [sales_channel.id] });
    assert.deepEqual(
      linked.sales_channels?.map((c: { id: string }) => c.id),
      [sales_channel.id],
    );

    const early = await rejection(admin.admin.apiKey.delete(secret.id));
    assert.equal(early.status, 400);
    assert.equal(early.message, `Cannot delete api keys that are not revoked - ${secret.id}`);
    const { api_key: revoked } = await admin.admin.apiKey.revoke(secret.id);
    assert.ok(revoked.revoked_at);
    const deleted = await admin.admin.apiKey.delete(secret.id);
    assert.deepEqual(deleted, { id: secret.id, object: 'api_key', deleted: true });
    const missing = await rejection(admin.admin.apiKey.retrieve(secret.id));
    assert.equal(missing.status, 404);
  });

  it('uses a secret key via apiKey (Basic base64(sk_…:)) and fails once it is revoked', async () => {
    const admin = sdk();
    await admin.auth.login('user', 'emailpass', { email: 'admin@example.com', password: 'supersecret' });
    const { api_key } = await admin.admin.apiKey.create({ title: 'CI', type: 'secret' });
    const server = sdk({ apiKey: api_key.token });
    const { user } = await server.admin.user.me();
    assert.equal(user.email, 'admin@example.com');
    const { api_keys } = await server.admin.apiKey.list();
    assert.ok(api_keys.some((k: { id: string }) => k.id === api_key.id));
    await admin.admin.apiKey.revoke(api_key.id);
    const refused = await rejection(server.admin.user.me());
    assert.equal(refused.status, 401);
    assert.equal(refused.message, 'Unauthorized');
  });

  it('registers a customer in two steps, logs in, and calls store routes with publishableKey', async () => {
    const admin = sdk();
    await admin.auth.login('user', 'emailpass', { email: 'admin@example.com', password: 'supersecret' });
    const { api_key } = await admin.admin.apiKey.create({ title: 'Shop', type: 'publishable' });

    const shop = sdk({ publishableKey: api_key.token });
    await shop.auth.register('customer', 'emailpass', { email: 'alice@example.com', password: 'alice-password' });
    const { customer } = await shop.store.customer.create({ email: 'alice@example.com', first_name: 'Alice', last_name: 'Smith' });
    assert.match(customer.id, /^cus_/);
    await shop.auth.login('customer', 'emailpass', { email: 'alice@example.com', password: 'alice-password' });
    const me = await shop.store.customer.retrieve();
    assert.equal(me.customer.id, customer.id);
    assert.equal(me.customer.first_name, 'Alice');

    const noKey = sdk();
    await noKey.auth.login('customer', 'emailpass', { email: 'alice@example.com', password: 'alice-password' });
    const refused = await rejection(noKey.store.customer.retrieve());
    assert.equal(refused.status, 400);
    assert.match(refused.message, /^Publishable API key required/);

    // A customer token opens no admin route.
    const forbidden = await rejection(shop.admin.user.me());
    assert.equal(forbidden.status, 403);
  });

  it('refuses a wrong password, refreshes a token, and resets a password with updateProvider', async () => {
    const bad = await rejection(sdk().auth.login('user', 'emailpass', { email: 'admin@example.com', password: 'wrong' }));
    assert.equal(bad.status, 401);
    assert.equal(bad.message, 'Invalid email or password');

    const member = sdk();
    await member.auth.login('user', 'emailpass', { email: 'member@example.com', password: 'supersecret' });
    const { token } = await member.auth.refresh();
    assert.equal(typeof token, 'string');
    assert.equal((await member.admin.user.me()).user.email, 'member@example.com');
    const readOnly = await rejection(member.admin.apiKey.create({ title: 'nope', type: 'secret' }));
    assert.equal(readOnly.status, 403);

    await sdk().auth.resetPassword('user', 'emailpass', { identifier: 'member@example.com' });
    // The reset token goes to the mailer through the auth event stream; read it as a mailer would.
    const { createClient } = await import('redis');
    const { REDIS_URL } = await import('../helpers/harness.ts');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    // It is published just after the 201 (off the request path, so the answer takes the same time for any email).
    let resetToken: string | undefined;
    for (let i = 0; i < 200 && !resetToken; i++) {
      const events = await redis.xRange(`${srv.prefix}events:auth`, '-', '+');
      resetToken = events.map((e) => e.message).find((m) => m.entity_id === 'member@example.com')?.token;
      if (!resetToken) await new Promise((r) => setTimeout(r, 10));
    }
    await redis.close();
    assert.ok(resetToken, 'the reset event was published');
    await sdk().auth.updateProvider('user', 'emailpass', { password: 'new-member-pass' }, resetToken);
    await sdk().auth.login('user', 'emailpass', { email: 'member@example.com', password: 'new-member-pass' });
    const reused = await rejection(sdk().auth.updateProvider('user', 'emailpass', { password: 'again' }, resetToken));
    assert.equal(reused.status, 401);
    assert.equal(reused.message, 'Invalid token');
  });

  it('logs out of a session with sdk.auth.logout (session mode) and the cookie stops working', async () => {
    // In Node fetch keeps no cookies and sends no Origin; carry both by hand as a browser on this origin would.
    const bearer = await sdk().auth.login('user', 'emailpass', { email: 'admin@example.com', password: 'supersecret' });
    const started = await http(`${srv.url}/auth/session`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
    const cookie = started.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const browser = sdk({
      auth: { type: 'session', jwtTokenStorageMethod: 'memory' },
      globalHeaders: { cookie, origin: new URL(srv.url).origin },
    });
    assert.equal((await browser.admin.user.me()).user.email, 'admin@example.com');
    await browser.auth.logout();
    const after = await rejection(browser.admin.user.me());
    assert.equal(after.status, 401);
  });
});
