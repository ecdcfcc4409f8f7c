import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

// ulid's own random source asks WebCrypto for one byte per character (16 calls per id, ~0.1 ms
// together where system calls are slow); a login makes several ids. The bytes come from the same
// CSPRNG here, filled in bulk, as crypto.randomUUID() pools its own.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** A random fraction in [0, 1) from one CSPRNG byte: 256 values, so ulid's 32 characters stay uniform. */
function pooledRandomFraction(): number {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]! / 256;
}

/** A new record id: a ULID (time-ordered, 80 random bits). */
export const newId = (): string => ulid(undefined, pooledRandomFraction);
