import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Failed password logins back off per account and per client address (TRUST_PROXY=1: the
 * address comes from X-Forwarded-For, as behind a load balancer). Default policy: an account's
 * 6th failure waits 1 s, then 2 s, 4 s…; an address gets 20 free failures. The back-off's clock
 * stands still unless the test moves it, so a slow machine (a login's hashing outlasting a one-second
 * back-off) cannot change what the test sees.
 */
describe('failed-login back-off and enumeration resistance', () => {
  let srv: TestServer;
  let clockMs = Date.now();
  const advanceClock = (ms: number) => void (clockMs += ms);
  before(async () => {
    srv = await startTestServer({ env: { TRUST_PROXY: '1' }, overrides: { loginThrottleClock: () => clockMs } });
    await srv.services.accounts.create({ actorType: 'user', email: 'victim@example.com', password: 'correct horse', role: 'member' });
    await srv.services.accounts.create({ actorType: 'user', email: 'twin@example.com', password: 'correct horse', role: 'member' });
  });
  after(() => srv?.close());

  const login = (username: string, password: string, ip: string) =>
    http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password }, headers: { 'x-forwarded-for': ip } });
  const comparable = (res: Awaited<ReturnType<typeof login>>) => ({
    status: res.status,
    error: res.json?.error,
    message: res.json?.message,
    code: res.json?.code,
    retryAfter: res.headers.get('retry-after'),
    keys: Object.keys(res.json ?? {}).sort(),
  });

  it('answers an unknown account exactly as a wrong password, through the back-off too', async () => {
    const known: ReturnType<typeof comparable>[] = [];
    const unknown: ReturnType<typeof comparable>[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(comparable(await login('twin@example.com', 'wrong password', '203.0.113.10')));
      unknown.push(comparable(await login('nobody@example.com', 'wrong password', '203.0.113.11')));
    }
    assert.deepEqual(known, unknown);
    assert.equal(known[0]!.status, 401);
    assert.equal(known[0]!.error, 'invalid_credentials');
    assert.equal(known[5]!.status, 429);
    assert.equal(known[5]!.error, 'rate_limit_exceeded');
  });

  it('backs off exponentially, then lets the right password in from a new address', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login('victim@example.com', `guess ${i}`, '198.51.100.7')).status, 401);

    // Locked for a second: even the right password, from anywhere, is not checked.
    const locked = await login('victim@example.com', 'correct horse', '192.0.2.50');
    assert.equal(locked.status, 429);
    assert.equal(locked.json.error, 'rate_limit_exceeded');
    assert.equal(locked.headers.get('retry-after'), '1');

    advanceClock(1100);
    assert.equal((await login('victim@example.com', 'guess 6', '198.51.100.7')).status, 401);
    const longer = await login('victim@example.com', 'guess 7', '198.51.100.7');
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '2', 'the wait doubles with each failure past the free ones');

    // After the back-off the owner logs in from a new address, and that clears the account's failures.
    advanceClock(Number(longer.headers.get('retry-after')) * 1000 + 100);
    const owner = await login('victim@example.com', 'correct horse', '192.0.2.50');
    assert.equal(owner.status, 200);
    assert.ok(owner.json.token);
    assert.equal((await login('victim@example.com', 'typo', '192.0.2.50')).status, 401, 'a success resets the account count');
  });

  it('throttles one address spraying many accounts, and only that address', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await login(`spray${i}@example.com`, 'Password1', '198.51.100.99')).status, 401);
    const refused = await login('victim@example.com', 'correct horse', '198.51.100.99');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await login('victim@example.com', 'correct horse', '192.0.2.51')).status, 200);
  });
});
