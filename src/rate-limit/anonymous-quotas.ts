import { createHash } from 'node:crypto';
import { normalizeEmail } from '../accounts/accounts.ts';
import { clientAddressKey } from '../ip-addresses.ts';
import { RateLimitedError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { ActorType } from '../accounts/accounts.ts';
import { policyId, type RatePolicy } from './policy.ts';

/**
 * Anonymous requests that cost us work or storage, counted before the work is done: each
 * registration hashes a password and stores a pending identity; each reset request may store a
 * token and publish an event. Counted per client address (an IPv6 /64) and, for resets, per account.
 */
export const ANONYMOUS_QUOTAS = {
  /** As many as an address's free failed logins; then one every three minutes. */
  registrationsPerAddress: { limit: 20, windowSeconds: 3600 },
  resetRequestsPerAddress: { limit: 20, windowSeconds: 3600 },
  /** Enough for a lost email or two; not a mailbox flood. */
  resetRequestsPerAccount: { limit: 5, windowSeconds: 3600 },
} as const satisfies Record<string, RatePolicy>;

export class RegistrationThrottledError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds, 'Too many registrations from this address, retry later');
  }
}

/** The account a reset names, hashed: no email is kept in a counter's key. */
const accountId = (actorType: ActorType, email: string) =>
  createHash('sha256')
    .update(`${actorType}:${normalizeEmail(email)}`)
    .digest('hex')
    .slice(0, 32);

/** GCRA quotas (one atomic store step each; a refusal writes nothing) for anonymous requests. */
export function createAnonymousQuotas(deps: { store: Store; quotas?: Record<keyof typeof ANONYMOUS_QUOTAS, RatePolicy> }) {
  const { store } = deps;
  const quotas = deps.quotas ?? ANONYMOUS_QUOTAS;
  const spend = (subject: string, p: RatePolicy) =>
    store.rateLimit(keys.rateLimit(subject, policyId(p)), p.limit, p.windowSeconds * 1000, 1);

  return {
    /** Count a registration from `ip`, success or not; 429 past the address's quota. */
    async admitRegistration(ip: string): Promise<void> {
      const spent = await spend(`register:${clientAddressKey(ip)}`, quotas.registrationsPerAddress);
      if (!spent.allowed) throw new RegistrationThrottledError(spent.retryAfterMs / 1000);
    },

    /**
     * Count a reset request against its address and its account (known or not, alike); false when
     * either is past its quota. The caller answers the same either way.
     */
    async admitResetRequest(ip: string, actorType: ActorType, email: string): Promise<boolean> {
      const [address, account] = await Promise.all([
        spend(`reset-ip:${clientAddressKey(ip)}`, quotas.resetRequestsPerAddress),
        spend(`reset-acct:${accountId(actorType, email)}`, quotas.resetRequestsPerAccount),
      ]);
      return address.allowed && account.allowed;
    },
  };
}
