import { createHash } from 'node:crypto';
import { normalizeEmail } from '../accounts/accounts.ts';
import { clientAddressKey } from '../ip-addresses.ts';
import { RateLimitedError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { ActorType } from '../accounts/accounts.ts';

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

/** A back-off a wrong password just started: of the account, or of the client's address. */
export interface Lockout {
  cell: 'account' | 'address';
  retryAfterSeconds: number;
}

export class LoginThrottledError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds, 'Too many failed login attempts, retry later');
  }
}

const QUIET_MS = 15 * 60_000;
/**
 * An attempt still marked in flight after this long belongs to a process that died mid-check
 * (the request deadline is 20 s): it no longer holds a place.
 */
const IN_FLIGHT_STALE_MS = 30_000;
/** How long a login waits for a place among an account's attempts in flight before 429. */
const IN_FLIGHT_WAIT_MS = 10_000;
/** Compare-and-swap rounds before giving up: each round some contender wins, so this covers bursts. */
const MAX_CAS_ROUNDS = 200;

/**
 * One throttle cell, stored as "failures:lastMs:inFlight:inFlightMs". Only wrong passwords are
 * failures; `inFlight` counts an account's attempts whose password is being checked right now.
 */
interface CellState {
  failures: number;
  lastMs: number;
  inFlight: number;
  inFlightMs: number;
}

const EMPTY: CellState = { failures: 0, lastMs: 0, inFlight: 0, inFlightMs: 0 };

const parse = (raw: string | null, now: number): CellState => {
  if (!raw) return EMPTY;
  const [failures = NaN, lastMs = NaN, inFlight = 0, inFlightMs = 0] = raw.split(':').map(Number);
  if (![failures, lastMs, inFlight, inFlightMs].every(Number.isFinite)) return EMPTY;
  return { failures, lastMs, ...(now - inFlightMs > IN_FLIGHT_STALE_MS ? { inFlight: 0, inFlightMs: 0 } : { inFlight, inFlightMs }) };
};
const serialize = (s: CellState) => `${s.failures}:${s.lastMs}:${s.inFlight}:${s.inFlightMs}`;

export function backoffMs(failures: number, p: BackoffPolicy): number {
  if (failures < p.free) return 0;
  return Math.min(p.maxMs, p.baseMs * 2 ** Math.min(30, failures - p.free));
}

/** Milliseconds this cell still refuses attempts for. */
const blockedFor = (s: CellState, p: BackoffPolicy, now: number) => Math.max(0, s.lastMs + backoffMs(s.failures, p) - now);

/**
 * How many of an account's attempts may have their password checked at once: the failures it may
 * still make before backing off (at least one), so parallel guesses get no more checks than the
 * same guesses one after another.
 */
const inFlightBudget = (s: CellState, p: BackoffPolicy) => Math.max(1, p.free - s.failures);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (ms: number) => sleep(ms / 2 + Math.random() * ms);

/** An update of a cell, given its state: the next state, nothing to write, or wait and look again. */
type Change = (s: CellState, now: number) => CellState | null | 'wait';

/**
 * Failed password logins, throttled per account and per client address with exponential back-off.
 * Only a wrong password counts as a failure: a login waiting for its hash, one refused by a busy
 * hasher, or a correct one never does, so an office behind one NAT (or a proxy without
 * TRUST_PROXY) is not locked out by its own volume.
 *
 * An account's attempts are marked in flight before the password is checked, and at most as many
 * as it has free failures left are checked at once; the others wait for their turn. A burst of
 * parallel guesses therefore gets no more checks than the same guesses in sequence, and a burst of
 * correct logins all get in. An address is only read before the check and charged after a wrong
 * password: many logins from one address at once are never refused for their number.
 * Unknown accounts are counted exactly like known ones. Each cell is one key updated by
 * compare-and-swap; an attempt refused while backing off writes nothing.
 */
export function createLoginThrottle(deps: {
  store: Store;
  options?: Partial<LoginThrottleOptions>;
  /** The back-off's clock (tests hold it still); how long a request waits for its turn is wall time. */
  now?: () => number;
}) {
  const { store } = deps;
  const clock = deps.now ?? Date.now;
  const opts = { ...DEFAULT_LOGIN_THROTTLE, ...deps.options };
  // A cell is forgotten after its back-off plus a quiet quarter of an hour: failures decay, so a
  // shared address (an office, a backend logging users in) is not punished for a month of typos.
  const ttlSeconds = (s: CellState, p: BackoffPolicy) => Math.ceil((backoffMs(s.failures, p) + QUIET_MS) / 1000);

  /**
   * Apply `change` to a cell by compare-and-swap; `change` may throw to abort (nothing written) or
   * ask to wait (until `waitUntil`, then 429). Losing a race only means reading again: one
   * contender wins each round, so a burst (or the backlog after a Redis pause) gets through.
   */
  async function update(
    key: string,
    p: BackoffPolicy,
    change: Change,
    o: { firstRead?: string | null; waitUntil?: number } = {},
  ): Promise<boolean> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const raw = round === 0 && o.firstRead !== undefined ? o.firstRead : await store.get(key);
      const now = clock();
      const next = change(parse(raw, now), now);
      if (next === null) return true;
      if (next === 'wait') {
        if (Date.now() >= (o.waitUntil ?? 0)) throw new LoginThrottledError(1);
        await jitter(50);
        continue;
      }
      // A cell with nothing to remember (no failure, no attempt in flight) is not kept: a correct
      // login leaves no key behind, and a million users signing in cost no memory here.
      if (next.failures === 0 && next.inFlight === 0) {
        if (raw === null || (await store.compareAndDelete(key, raw))) return true;
        if (round >= 2) await jitter(5);
        continue;
      }
      const value = serialize(next);
      const written =
        raw === null
          ? await store.put(key, value, { ttlSeconds: ttlSeconds(next, p), ifAbsent: true })
          : await store.compareAndSwap(key, raw, value, ttlSeconds(next, p));
      if (written) return true;
      if (round >= 2) await jitter(5);
    }
    return false;
  }

  /** Take a place among the account's attempts in flight, waiting while its budget is used up. */
  const enter = (key: string, p: BackoffPolicy, firstRead: string | null) =>
    update(
      key,
      p,
      (s, now) => {
        const wait = blockedFor(s, p, now);
        if (wait > 0) throw new LoginThrottledError(wait / 1000);
        if (s.inFlight >= inFlightBudget(s, p)) return 'wait';
        return { ...s, inFlight: s.inFlight + 1, inFlightMs: now };
      },
      { firstRead, waitUntil: Date.now() + IN_FLIGHT_WAIT_MS },
    );

  /**
   * Count one wrong password against a cell; returns the back-off it starts (ms), 0 for none. Each
   * back-off starts with exactly one wrong password (while it runs, attempts are refused unchecked),
   * so reporting it here reports each lock-out once, however many requests it then refuses.
   */
  async function fail(key: string, p: BackoffPolicy, account: boolean): Promise<number> {
    let next: CellState = EMPTY;
    const written = await update(key, p, (s, now) => {
      next = { ...s, failures: s.failures + 1, lastMs: now, ...(account ? { inFlight: Math.max(0, s.inFlight - 1) } : {}) };
      return next;
    });
    return written ? backoffMs(next.failures, p) : 0;
  }

  /** Leave the account's attempts in flight with the check's outcome (a wrong one: `fail`). */
  const leave = (key: string, p: BackoffPolicy, outcome: 'right' | 'not-checked') =>
    update(key, p, (s) => {
      const inFlight = Math.max(0, s.inFlight - 1);
      if (outcome === 'right') return { failures: 0, lastMs: 0, inFlight, inFlightMs: inFlight ? s.inFlightMs : 0 };
      return { ...s, inFlight };
    });

  return {
    /**
     * Run `verify` (the password check) unless the account or the address is backing off, in which
     * case 429 with Retry-After. A wrong password (null) is a failure of both; success clears the
     * account's failures (not the address's: an attacker's own valid account must not wash its
     * address clean).
     */
    async attempt<T>(
      who: { ip: string; actorType: ActorType; email: string },
      verify: () => Promise<T | null>,
      onLockout?: (lockout: Lockout) => void | Promise<void>,
    ): Promise<T | null> {
      const accountKey = keys.loginThrottle(
        'acct',
        createHash('sha256')
          .update(`${who.actorType}:${normalizeEmail(who.email)}`)
          .digest('hex')
          .slice(0, 32),
      );
      const ipKey = keys.loginThrottle('ip', clientAddressKey(who.ip));
      // Both cells are read first: while either backs off the attempt is refused with no write at all.
      const [rawAccount, rawAddress] = await Promise.all([store.get(accountKey), store.get(ipKey)]);
      const now = clock();
      const wait = Math.max(blockedFor(parse(rawAccount, now), opts.account, now), blockedFor(parse(rawAddress, now), opts.ip, now));
      if (wait > 0) throw new LoginThrottledError(wait / 1000);
      if (!(await enter(accountKey, opts.account, rawAccount))) throw new LoginThrottledError(1);
      let result: T | null;
      try {
        result = await verify();
      } catch (err) {
        // Not a wrong password (e.g. the hasher is saturated): the attempt counts for nothing.
        await leave(accountKey, opts.account, 'not-checked').catch(() => {});
        throw err;
      }
      if (result !== null) await leave(accountKey, opts.account, 'right');
      else {
        const [accountMs, addressMs] = await Promise.all([fail(accountKey, opts.account, true), fail(ipKey, opts.ip, false)]);
        if (accountMs > 0) await onLockout?.({ cell: 'account', retryAfterSeconds: Math.ceil(accountMs / 1000) });
        if (addressMs > 0) await onLockout?.({ cell: 'address', retryAfterSeconds: Math.ceil(addressMs / 1000) });
      }
      return result;
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
