import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Context } from 'koa';
import type { Account, Accounts } from '../accounts/accounts.ts';
import { normalizeEmail } from '../accounts/accounts.ts';
import { RateLimitedError } from '../http/errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { ActorType } from '../tokens/jwt.ts';

/** Back-off for one kind of cell: `free` failures cost nothing, then baseMs, 2×, 4×… up to maxMs. */
export interface BackoffPolicy {
  free: number;
  baseMs: number;
  maxMs: number;
}

export interface LoginThrottleOptions {
  account: BackoffPolicy;
  ip: BackoffPolicy;
}

/**
 * An account backs off early but not for long (at most 15 minutes), so an attacker cannot keep a
 * user out for good; an address backs off later (offices share one) but for up to an hour.
 */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  account: { free: 5, baseMs: 1000, maxMs: 15 * 60_000 },
  ip: { free: 20, baseMs: 1000, maxMs: 60 * 60_000 },
};

export class LoginThrottledError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds, 'Too many failed login attempts, retry later');
  }
}

const QUIET_MS = 15 * 60_000;

interface CellState {
  failures: number;
  lastMs: number;
}

const parse = (raw: string | null): CellState => {
  const [f, l] = (raw ?? '').split(':');
  const failures = Number(f);
  const lastMs = Number(l);
  return Number.isFinite(failures) && Number.isFinite(lastMs) && raw ? { failures, lastMs } : { failures: 0, lastMs: 0 };
};

export function backoffMs(failures: number, p: BackoffPolicy): number {
  if (failures < p.free) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(30, failures - p.free));
}

/** Milliseconds this cell still refuses attempts for. */
const blockedFor = (s: CellState, p: BackoffPolicy, now: number) => Math.max(0, s.lastMs + backoffMs(s.failures, p) - now);

/** Addresses as a client controls them: an IPv4 (or v4-mapped) address, or an IPv6 /64. */
export function clientAddressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!isIPv6(ip)) return ip || 'unknown';
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return full.slice(0, 4).map((h) => h.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

/**
 * Failed password logins, throttled per account and per client address with exponential
 * back-off. Each attempt is counted as a failure *before* the password is checked (so a burst of
 * parallel guesses cannot all slip in before the first failure lands) and handed back on success.
 * Unknown accounts are counted exactly like known ones: the answers do not reveal which exist.
 * Each cell is one key updated by compare-and-swap; an attempt refused while backing off writes nothing.
 */
export function createLoginThrottle(deps: { store: Store; options?: Partial<LoginThrottleOptions> }) {
  const { store } = deps;
  const opts = { ...DEFAULT_LOGIN_THROTTLE, ...deps.options };
  // A cell is forgotten after its back-off plus a quiet quarter of an hour: failures decay, so a
  // shared address (an office, a backend logging users in) is not punished for a month of typos.
  const ttlSeconds = (s: CellState, p: BackoffPolicy) => Math.ceil((backoffMs(s.failures, p) + QUIET_MS) / 1000);

  /**
   * Apply `change` to a cell by compare-and-swap; `change` may throw to abort (nothing written).
   * Returns false when other writers kept winning the race.
   */
  async function update(key: string, p: BackoffPolicy, change: (s: CellState, now: number) => CellState | null, firstRead?: string | null): Promise<boolean> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const raw = attempt === 0 && firstRead !== undefined ? firstRead : await store.get(key);
      const next = change(parse(raw), Date.now());
      if (!next) return true;
      const value = `${next.failures}:${next.lastMs}`;
      const written =
        raw === null ? await store.put(key, value, { ttlSeconds: ttlSeconds(next, p), ifAbsent: true }) : await store.compareAndSwap(key, raw, value, ttlSeconds(next, p));
      if (written) return true;
    }
    return false;
  }

  const reserve = (key: string, p: BackoffPolicy, firstRead: string | null) =>
    update(
      key,
      p,
      (s, now) => {
        const wait = blockedFor(s, p, now);
        if (wait > 0) throw new LoginThrottledError(wait / 1000);
        return { failures: s.failures + 1, lastMs: now };
      },
      firstRead,
    );
  const release = (key: string, p: BackoffPolicy) => update(key, p, (s) => (s.failures > 0 ? { failures: s.failures - 1, lastMs: s.lastMs } : null));

  return {
    /**
     * Run `verify` (the password check) unless the account or the address is backing off, in which
     * case 429 with Retry-After. Success clears the account's failures (not the address's: an
     * attacker's own valid account must not wash its address clean).
     *
     * Under contention the two cells differ on purpose: many parallel attempts on one account are an
     * attack, refused; many on one address may be an office or a backend logging its users in, so
     * an address update that keeps losing the race is skipped (the account cells still count).
     */
    async attempt<T>(who: { ip: string; actorType: ActorType; email: string }, verify: () => Promise<T | null>): Promise<T | null> {
      const accountKey = keys.loginThrottle('acct', createHash('sha256').update(`${who.actorType}:${normalizeEmail(who.email)}`).digest('hex').slice(0, 32));
      const ipKey = keys.loginThrottle('ip', clientAddressKey(who.ip));
      // Both cells are read first: while either backs off the attempt is refused with no write at all.
      const [rawAccount, rawAddress] = await Promise.all([store.get(accountKey), store.get(ipKey)]);
      const now = Date.now();
      const wait = Math.max(blockedFor(parse(rawAccount), opts.account, now), blockedFor(parse(rawAddress), opts.ip, now));
      if (wait > 0) throw new LoginThrottledError(wait / 1000);
      const [account, address] = await Promise.allSettled([reserve(accountKey, opts.account, rawAccount), reserve(ipKey, opts.ip, rawAddress)]);
      const accountHeld = account.status === 'fulfilled' && account.value;
      const addressHeld = address.status === 'fulfilled' && address.value;
      if (!accountHeld || address.status === 'rejected') {
        await Promise.all([accountHeld ? release(accountKey, opts.account) : undefined, addressHeld ? release(ipKey, opts.ip) : undefined]);
        const reasons = [account, address].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
        const other = reasons.find((e) => !(e instanceof LoginThrottledError));
        if (other) throw other;
        const waits = reasons.map((e) => Number((e as LoginThrottledError).headers['Retry-After']));
        throw new LoginThrottledError(waits.length ? Math.max(...waits) : opts.account.baseMs / 1000);
      }
      let result: T | null;
      try {
        result = await verify();
      } catch (err) {
        // Not a wrong password (e.g. the hasher is saturated): hand the attempt back.
        await Promise.all([release(accountKey, opts.account), addressHeld ? release(ipKey, opts.ip) : undefined]).catch(() => {});
        throw err;
      }
      if (result !== null) await Promise.all([store.delete(accountKey), addressHeld ? release(ipKey, opts.ip) : undefined]);
      return result;
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/**
 * The one password login every surface uses (/v1/auth/login, /admin/auth/token, /store/auth/token,
 * /auth/{actor}/emailpass, the OAuth login page): throttled, and the same answer for an unknown
 * account as for a wrong password.
 */
export function createPasswordLogin(deps: { accounts: Accounts; throttle: LoginThrottle; onOutcome?: (outcome: 'success' | 'failure' | 'throttled') => void }) {
  const report = deps.onOutcome ?? (() => {});
  return async (ctx: Pick<Context, 'ip'>, actorType: ActorType, email: string, password: string): Promise<Account | null> => {
    try {
      const account = await deps.throttle.attempt({ ip: ctx.ip, actorType, email }, () => deps.accounts.authenticate(actorType, email, password));
      report(account ? 'success' : 'failure');
      return account;
    } catch (err) {
      if (err instanceof LoginThrottledError) report('throttled');
      throw err;
    }
  };
}
export type PasswordLogin = ReturnType<typeof createPasswordLogin>;
