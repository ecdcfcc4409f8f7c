import { availableParallelism } from 'node:os';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { ServiceUnavailableError } from '../http/errors.ts';

/** OWASP's argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Password hashing off the event loop (@node-rs/argon2 runs on libuv's pool) with a cap on the
 * hashing in flight and a bounded queue, so a login flood cannot starve the rest of the server:
 * past the queue, logins get 503 instead of piling up.
 */
export function createPasswordHasher(opts: { maxConcurrent?: number; maxQueued?: number } = {}) {
  const maxConcurrent = opts.maxConcurrent ?? Math.max(1, availableParallelism() - 1);
  const maxQueued = opts.maxQueued ?? 256;
  let active = 0;
  const waiting: (() => void)[] = [];

  async function limited<T>(work: () => Promise<T>): Promise<T> {
    if (active >= maxConcurrent) {
      if (waiting.length >= maxQueued) throw new ServiceUnavailableError('Too many logins in progress, retry shortly');
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
