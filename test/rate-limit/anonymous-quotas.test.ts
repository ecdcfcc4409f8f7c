import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAnonymousQuotas, RegistrationThrottledError } from '../../src/rate-limit/anonymous-quotas.ts';
import { createMemoryStore } from '../../src/store/memory.ts';

const quotas = {
  registrationsPerAddress: { limit: 3, windowSeconds: 3600 },
  resetRequestsPerAddress: { limit: 4, windowSeconds: 3600 },
  resetRequestsPerAccount: { limit: 2, windowSeconds: 3600 },
};

describe('anonymous quotas', () => {
  it('counts registrations per address, an IPv6 /64 being one address', async () => {
    const q = createAnonymousQuotas({ store: createMemoryStore(), quotas });
    for (let i = 1; i <= 3; i++) await q.admitRegistration(`2001:db8:0:7::${i}`);
    await assert.rejects(
      q.admitRegistration('2001:db8:0:7::ffff'),
      (err: Error) => err instanceof RegistrationThrottledError && err.status === 429,
    );
    await q.admitRegistration('2001:db8:0:8::1');
    await q.admitRegistration('198.51.100.1');
  });

  it('counts reset requests per account, whatever the spelling of its email, and per address', async () => {
    const q = createAnonymousQuotas({ store: createMemoryStore(), quotas });
    assert.equal(await q.admitResetRequest('198.51.100.1', 'customer', 'Lost@Example.com'), true);
    assert.equal(await q.admitResetRequest('198.51.100.2', 'customer', ' lost@example.com'), true);
    assert.equal(
      await q.admitResetRequest('198.51.100.3', 'customer', 'lost@example.com'),
      false,
      'past the account quota, from any address',
    );
    assert.equal(await q.admitResetRequest('198.51.100.3', 'user', 'lost@example.com'), true, 'a user is another account than a customer');
    for (let i = 0; i < 4; i++) await q.admitResetRequest('203.0.113.1', 'customer', `a${i}@example.com`);
    assert.equal(
      await q.admitResetRequest('203.0.113.1', 'customer', 'fresh@example.com'),
      false,
      'past the address quota, for any account',
    );
  });
});
