import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddressKey } from '../../src/ip-addresses.ts';
import { backoffMs, createLoginThrottle, LoginThrottledError } from '../../src/rate-limit/login-throttle.ts';
import { keys } from '../../src/store/keys.ts';
import { createMemoryStore } from '../../src/store/memory.ts';

const policy = { free: 3, baseMs: 1000, maxMs: 8000 };

describe('login throttle', () => {
  it('backs off exponentially after the free failures, up to a cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 20].map((f) => backoffMs(f, policy)),
      [0, 0, 0, 1000, 2000, 4000, 8000, 8000],
    );
  });

  it('groups IPv6 clients by /64 and unwraps v4-mapped addresses', () => {
    assert.equal(clientAddressKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(clientAddressKey('2001:db8:0:1::5'), clientAddressKey('2001:db8:0:1:ffff::9'));
    assert.notEqual(clientAddressKey('2001:db8:0:1::5'), clientAddressKey('2001:db8:0:2::5'));
    assert.equal(clientAddressKey('203.0.113.9'), '203.0.113.9');
  });

  it('refuses a burst of parallel guesses beyond the free ones without running them', async () => {
    const throttle = createLoginThrottle({ store: createMemoryStore(), options: { account: policy, ip: { ...policy, free: 100 } } });
    let checked = 0;
    const wrong = async () => {
      checked++;
      await new Promise((r) => setTimeout(r, 5));
      return null;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => throttle.attempt({ ip: '198.51.100.1', actorType: 'user', email: 'a@example.com' }, wrong)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.every((r) => (r as PromiseRejectedResult).reason instanceof LoginThrottledError));
    assert.ok(checked <= policy.free + 1, `at most the free attempts (plus one back-off slot) reach the password check, got ${checked}`);
    assert.ok(refused.length >= 20 - (policy.free + 1));
  });

  it('lets a burst of correct logins on one account all in, a few at a time, and leaves no failure behind', async () => {
    const store = createMemoryStore();
    const throttle = createLoginThrottle({ store, options: { account: policy, ip: policy } });
    let inFlight = 0;
    let most = 0;
    const right = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return 'ok';
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => throttle.attempt({ ip: '198.51.100.4', actorType: 'user', email: 'busy@example.com' }, right)),
    );
    assert.deepEqual(results, Array(20).fill('ok'));
    assert.ok(most <= policy.free, `at most the free failures' worth checked at once, got ${most}`);
    assert.equal(await store.get(keys.loginThrottle('ip', '198.51.100.4')), null, 'the address was charged nothing');
  });

  it('counts an unknown account exactly like a known one', async () => {
    const throttle = createLoginThrottle({ store: createMemoryStore(), options: { account: policy, ip: { ...policy, free: 100 } } });
    const outcome = async (email: string) => {
      const seen: string[] = [];
      for (let i = 0; i < policy.free + 1; i++) {
        try {
          seen.push(String(await throttle.attempt({ ip: '198.51.100.2', actorType: 'user', email }, async () => null)));
        } catch (e) {
          seen.push(`${(e as LoginThrottledError).status} ${(e as LoginThrottledError).headers['Retry-After']} ${(e as Error).message}`);
        }
      }
      return seen;
    };
    assert.deepEqual(await outcome('exists@example.com'), await outcome('nobody@example.com'));
  });

  it('does not count attempts that failed for another reason than the password', async () => {
    const throttle = createLoginThrottle({ store: createMemoryStore(), options: { account: policy, ip: policy } });
    const who = { ip: '198.51.100.3', actorType: 'user' as const, email: 'busy@example.com' };
    for (let i = 0; i < 10; i++)
      await assert.rejects(
        throttle.attempt(who, async () => Promise.reject(new Error('hasher busy'))),
        /hasher busy/,
      );
    assert.equal(await throttle.attempt(who, async () => 'ok'), 'ok');
  });
});
