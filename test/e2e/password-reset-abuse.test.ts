import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { eventually } from '../helpers/webhook-sink.ts';

/**
 * Password reset: the first successful reset ends every other outstanding token of the account,
 * the new password meets the policy, requests are limited per account and per address (the answer
 * stays 201), and the answer does not wait for anything that depends on whether the account exists.
 */
describe('password reset abuse', () => {
  let srv: TestServer;
  let redis: ReturnType<typeof createClient>;
  let address = 0;
  const nextAddress = () => `203.0.113.${++address}`;

  before(async () => {
    srv = await startTestServer({ env: { TRUST_PROXY: '1' } });
    for (const name of ['multi', 'weak', 'limited', 'sprayed', 'timing']) {
      await srv.services.accounts.create({ actorType: 'customer', email: `${name}@example.com`, password: `${name} old password` });
    }
    redis = createClient({ url: REDIS_URL });
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
    await srv?.close();
  });

  const requestReset = (email: string, ip: string) =>
    http(`${srv.url}/auth/customer/emailpass/reset-password`, {
      method: 'POST',
      json: { identifier: email },
      headers: { 'x-forwarded-for': ip },
    });
  const update = (token: string, password: string) =>
    http(`${srv.url}/auth/customer/emailpass/update`, {
      method: 'POST',
      json: { password },
      headers: { authorization: `Bearer ${token}` },
    });
  const login = (email: string, password: string) =>
    http(`${srv.url}/auth/customer/emailpass`, {
      method: 'POST',
      json: { email, password },
      headers: { 'x-forwarded-for': nextAddress() },
    });
  /** The reset tokens published for `email` so far, oldest first (what a mailer reads). */
  const tokensOf = async (email: string) =>
    (await redis.xRange(`${srv.prefix}events:auth`, '-', '+'))
      .map((e) => e.message)
      .filter((m) => m.entity_id === email)
      .map((m) => m.token!);
  const nthToken = (email: string, n: number) => eventually(async () => (await tokensOf(email))[n - 1]);

  it('a successful reset ends every other outstanding token of the account', async () => {
    assert.equal((await requestReset('multi@example.com', nextAddress())).status, 201);
    const first = await nthToken('multi@example.com', 1);
    assert.equal((await requestReset('multi@example.com', nextAddress())).status, 201);
    const second = await nthToken('multi@example.com', 2);
    const done = await update(second, 'multi new password');
    assert.deepEqual([done.status, done.json], [200, { success: true }]);
    const stale = await update(first, 'attacker chosen pw');
    assert.deepEqual([stale.status, stale.json], [401, { type: 'unauthorized', message: 'Invalid token' }]);
    assert.equal((await login('multi@example.com', 'multi new password')).status, 200);
    // A token requested after the reset works (it is bound to the new password).
    await requestReset('multi@example.com', nextAddress());
    assert.equal((await update(await nthToken('multi@example.com', 3), 'multi newer password')).status, 200);
  });

  it('applies the password policy to the new password, naming the rule, without spending the token', async () => {
    await requestReset('weak@example.com', nextAddress());
    const token = await nthToken('weak@example.com', 1);
    for (const [password, rule] of [
      ['short', /at least 8 characters/],
      ['iloveyou', /most commonly used/],
    ] as const) {
      const refused = await update(token, password);
      assert.deepEqual([refused.status, refused.json.type], [400, 'invalid_data']);
      assert.match(refused.json.message, rule);
    }
    assert.equal((await login('weak@example.com', 'weak old password')).status, 200, 'nothing changed');
    assert.equal((await update(token, 'weak but long enough now')).status, 200, 'the token still works with a good password');
  });

  it('limits requests per account (5 an hour), answering 201 as always', async () => {
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push((await requestReset('limited@example.com', nextAddress())).status);
    assert.deepEqual(answers, Array(8).fill(201));
    // A later request for another account, once published, shows the earlier ones were handled.
    await requestReset('multi@example.com', nextAddress());
    await nthToken('multi@example.com', 4);
    assert.equal((await tokensOf('limited@example.com')).length, 5);
  });

  it('limits requests per client address (20 an hour), answering 201 as always', async () => {
    const ip = nextAddress();
    for (let i = 0; i < 20; i++) assert.equal((await requestReset(`nobody${i}@example.com`, ip)).status, 201);
    assert.equal((await requestReset('sprayed@example.com', ip)).status, 201);
    assert.equal((await requestReset('weak@example.com', nextAddress())).status, 201);
    await nthToken('weak@example.com', 2);
    assert.equal((await tokensOf('sprayed@example.com')).length, 0, 'the 21st request from one address is dropped');
    await requestReset('sprayed@example.com', nextAddress());
    await nthToken('sprayed@example.com', 1);
  });

  it('answers before any work that depends on whether the account exists', async () => {
    // Stall every account lookup: the answer must not wait for it, for a known or an unknown email.
    const store = srv.store;
    const realGet = store.get.bind(store);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let stalled = 0;
    store.get = async (key: string) => {
      if (key.startsWith('account-email:')) {
        stalled++;
        await released;
      }
      return realGet(key);
    };
    try {
      const answers = await Promise.all([
        requestReset('timing@example.com', nextAddress()),
        requestReset('no-such-user@example.com', nextAddress()),
      ]);
      assert.deepEqual(
        answers.map((a) => [a.status, a.text]),
        [
          [201, ''],
          [201, ''],
        ],
      );
      assert.equal(stalled, 2, 'both lookups were under way when the answers came');
    } finally {
      release();
      store.get = realGet;
    }
    await nthToken('timing@example.com', 1);
  });
});
