import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccounts } from '../../src/accounts/accounts.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { createPasswordLogin } from '../../src/accounts/password-login.ts';
import { createLoginThrottle, LoginThrottledError } from '../../src/rate-limit/login-throttle.ts';
import { createMemoryStore } from '../../src/store/memory.ts';

const passwords = createPasswordHasher();

describe('the password login every surface uses', () => {
  async function world() {
    const store = createMemoryStore();
    const accounts = createAccounts({ store, passwords });
    const throttle = createLoginThrottle({
      store,
      options: { account: { free: 2, baseMs: 60_000, maxMs: 60_000 }, ip: { free: 100, baseMs: 1000, maxMs: 1000 } },
    });
    const outcomes: string[] = [];
    const login = createPasswordLogin({ accounts, throttle, onOutcome: (o) => outcomes.push(o) });
    const user = await accounts.create({ actorType: 'user', email: 'login@example.com', password: 'correct horse battery' });
    return { login, user, outcomes };
  }
  const from = { ip: '198.51.100.20' };

  it('answers the account for the right password and null for a wrong one, reporting each outcome', async () => {
    const w = await world();
    assert.equal((await w.login(from, 'user', 'Login@Example.com', 'correct horse battery'))?.id, w.user.id);
    assert.equal(await w.login(from, 'user', 'login@example.com', 'wrong horse battery'), null);
    assert.equal(
      await w.login(from, 'customer', 'login@example.com', 'correct horse battery'),
      null,
      'the same email of another actor type is another account',
    );
    assert.deepEqual(w.outcomes, ['success', 'failure', 'failure']);
  });

  it('after the free failures, refuses the account with 429 and Retry-After, even the right password', async () => {
    const w = await world();
    for (let i = 0; i < 2; i++) assert.equal(await w.login(from, 'user', 'login@example.com', 'guess'), null);
    await assert.rejects(
      w.login(from, 'user', 'login@example.com', 'correct horse battery'),
      (err: Error) => err instanceof LoginThrottledError && err.status === 429 && Number(err.headers['Retry-After']) > 0,
    );
    assert.equal(w.outcomes.at(-1), 'throttled');
    assert.equal(
      await w.login({ ip: '203.0.113.20' }, 'user', 'other@example.com', 'guess'),
      null,
      'other accounts are not held back by it',
    );
  });

  it('throttles an unknown account exactly as a known one', async () => {
    const w = await world();
    for (let i = 0; i < 2; i++) assert.equal(await w.login(from, 'user', 'nobody@example.com', 'guess'), null);
    await assert.rejects(w.login(from, 'user', 'nobody@example.com', 'guess'), LoginThrottledError);
  });

  it('a successful login clears the account failures', async () => {
    const w = await world();
    assert.equal(await w.login(from, 'user', 'login@example.com', 'guess'), null);
    assert.ok(await w.login(from, 'user', 'login@example.com', 'correct horse battery'));
    for (let i = 0; i < 2; i++) assert.equal(await w.login(from, 'user', 'login@example.com', 'guess'), null);
    await assert.rejects(w.login(from, 'user', 'login@example.com', 'guess'), LoginThrottledError);
  });
});
