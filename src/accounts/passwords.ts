import { availableParallelism, getPriority } from 'node:os';
import { Algorithm, hash } from '@node-rs/argon2';
import { createHashingThreads } from './hashing-threads.ts';

/** OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** The lowest CPU priority there is (Linux nice 19). */
const LOWEST_PRIORITY = 19;
/** LOGIN_QUEUE_TIMEOUT's default: a login that would wait longer for a hashing thread gets 503 + Retry-After instead. */
const MAX_WAIT_MS = 10_000;

/**
 * Password hashing on every core, verification first: argon2 runs in worker threads (one per core)
 * at the lowest CPU priority the OS allows, so whenever the event loop (token verification, every
 * other request) needs a core, the scheduler gives it that core, and hashing gets what is left; on
 * an idle machine hashing has all the cores. The queue in front of the threads is bounded by length
 * and by time: a login that would wait past MAX_WAIT_MS is refused with 503 and Retry-After
 * instead of piling up behind a flood.
 */
export function createPasswordHasher(opts: { maxConcurrent?: number; maxQueued?: number; maxWaitMs?: number; nice?: number } = {}) {
  const threads = createHashingThreads({
    threads: opts.maxConcurrent ?? availableParallelism(),
    maxQueued: opts.maxQueued ?? 256,
    maxWaitMs: opts.maxWaitMs ?? MAX_WAIT_MS,
    // Relative to the process's own niceness (it may already run niced), at most the lowest.
    nice: Math.min(LOWEST_PRIORITY, getPriority() + (opts.nice ?? LOWEST_PRIORITY)),
  });

  // A real hash of a random password: verifying an unknown account against it costs the same
  // as verifying a wrong password, so timing does not tell which emails exist. (Once, on libuv's
  // pool: starting the hashing threads waits for the first login.)
  const decoy = hash(crypto.randomUUID(), PARAMS);

  return {
    hash: (password: string) => threads.hash(password, PARAMS),
    /** Verifies against `stored`, or against the decoy when there is no account; false either way on mismatch. */
    async verify(stored: string | undefined, password: string): Promise<boolean> {
      const target = stored ?? (await decoy);
      const ok = await threads.verify(target, password);
      return ok && stored !== undefined;
    },
    stats: threads.stats,
  };
}
export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
