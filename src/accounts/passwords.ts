import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { ServiceUnavailableError } from '../errors.ts';

/** OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Linux: lower the CPU priority of libuv's pool threads, where argon2 hashes, below the event loop's.
 * When the host's cores are all busy (a login flood plus other load), the scheduler then serves
 * token verification on the event loop first and hashing with what is left; when cores are free,
 * nothing changes. Measured with bench/login-flood.ts on 2 busy cores: verify's p99 under a flood
 * was lower and steadier, at about the same login throughput. Best effort; other platforms keep
 * their defaults. (The pool also runs fs and dns work, which the server does little of.)
 */
export function deprioritizePoolThreads(nice = 10): number {
  if (process.platform !== 'linux' || !nice) return 0;
  // Relative to the main thread's own niceness (the process may already run niced), at most 19.
  const target = Math.min(19, getPriority() + nice);
  let changed = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'libuv-worker') continue;
        setPriority(Number(tid), target);
        changed++;
      } catch {
        /* the thread ended, or the priority cannot be changed here */
      }
    }
  } catch {
    /* no /proc */
  }
  return changed;
}

/**
 * Password hashing off the event loop (@node-rs/argon2 runs on libuv's pool) with a cap on the
 * hashing in flight and a bounded queue, so a login flood cannot starve the rest of the server:
 * past the queue, logins get 503 instead of piling up.
 */
export function createPasswordHasher(opts: { maxConcurrent?: number; maxQueued?: number; poolNice?: number } = {}) {
  const maxConcurrent = opts.maxConcurrent ?? Math.max(1, availableParallelism() - 1);
  const maxQueued = opts.maxQueued ?? 256;
  let active = 0;
  const waiting: (() => void)[] = [];

  async function limited<T>(work: () => Promise<T>): Promise<T> {
    if (active >= maxConcurrent) {
      if (waiting.length >= maxQueued) {
        const busy = new ServiceUnavailableError('Too many logins in progress, retry shortly');
        busy.headers['Retry-After'] = '1';
        throw busy;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else active++;
    try {
      return await work();
    } finally {
      const nextInLine = waiting.shift();
      if (nextInLine) nextInLine();
      else active--;
    }
  }

  // A real hash of a random password: verifying an unknown account against it costs the same
  // as verifying a wrong password, so timing does not tell which emails exist.
  const decoy = hash(crypto.randomUUID(), PARAMS);
  // The decoy's hash started libuv's pool (all its threads at once): lower their priority now.
  void decoy.then(() => deprioritizePoolThreads(opts.poolNice ?? 10));

  return {
    hash: (password: string) => limited(() => hash(password, PARAMS)),
    /** Verifies against `stored`, or against the decoy when there is no account; false either way on mismatch. */
    async verify(stored: string | undefined, password: string): Promise<boolean> {
      const target = stored ?? (await decoy);
      const ok = await limited(() => verify(target, password).catch(() => false));
      return ok && stored !== undefined;
    },
    stats: () => ({ active, queued: waiting.length, maxConcurrent }),
  };
}
export type PasswordHasher = ReturnType<typeof createPasswordHasher>;
