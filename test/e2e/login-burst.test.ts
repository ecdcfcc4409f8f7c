import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keys } from '../../src/store/keys.ts';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Only a wrong password is a failure. A burst of correct logins from one address (an office behind
 * one NAT, or every user behind a proxy without TRUST_PROXY) all get in, even while most of them
 * wait for a hashing slot, and leave the address with no failures; correct logins held back by a
 * stalled store all get in when it resumes. Wrong passwords still back off.
 */
describe('bursts of correct logins from one address', () => {
  let srv: TestServer;
  const USERS = 32;
  before(async () => {
    // This is about the throttle: the hashing queue's deadline (password-hasher.test.ts) is set out
    // of reach, so a slow or busy machine cannot turn a burst into 503s.
    srv = await startTestServer({ env: { LOGIN_QUEUE_TIMEOUT: '1h' } });
    await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        srv.services.accounts.create({
          actorType: 'user',
          email: `staff${i}@example.com`,
          password: `staff password ${i}`,
          role: 'member',
        }),
      ),
    );
    await srv.services.accounts.create({ actorType: 'user', email: 'kiosk@example.com', password: 'kiosk password', role: 'member' });
  });
  after(() => srv?.close());

  const login = (username: string, password: string) => http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password } });
  /** The failures the address cell of 127.0.0.1 holds (the cell is "failures:…"). */
  const addressFailures = async () => Number((await srv.store.get(keys.loginThrottle('ip', '127.0.0.1')))?.split(':')[0] ?? 0);

  it(`${USERS} concurrent correct logins from one address all succeed, and leave the address at 0 failures`, async () => {
    const results = await Promise.all(Array.from({ length: USERS }, (_, i) => login(`staff${i}@example.com`, `staff password ${i}`)));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(USERS).fill(200),
    );
    assert.equal(await addressFailures(), 0);
  });

  it('concurrent correct logins of one account held back by a stalled store all succeed when it resumes', async () => {
    // Every read of a throttle cell waits until all the logins are waiting, then they race at once.
    const BURST = 16;
    const store = srv.store;
    const realGet = store.get.bind(store);
    let waiting = 0;
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    store.get = async (key: string) => {
      if (key.startsWith('lt:')) {
        if (++waiting >= BURST * 2) resume();
        await resumed;
      }
      return realGet(key);
    };
    try {
      const results = await Promise.all(Array.from({ length: BURST }, () => login('kiosk@example.com', 'kiosk password')));
      assert.deepEqual(
        results.map((r) => r.status),
        Array(BURST).fill(200),
      );
    } finally {
      store.get = realGet;
    }
    assert.equal(await addressFailures(), 0);
  });

  it('wrong passwords still count: the address backs off after 20 of them', async () => {
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => login(`staff${i}@example.com`, 'not my password')));
    assert.deepEqual(
      wrong.map((r) => r.status),
      Array(20).fill(401),
    );
    assert.equal(await addressFailures(), 20);
    const refused = await login('staff30@example.com', 'staff password 30');
    assert.equal(refused.status, 429, 'the address backs off');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  });
});
