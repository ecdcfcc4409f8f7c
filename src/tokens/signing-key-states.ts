import type { JWK } from 'jose';
import type { SigningAlg } from './keystore.ts';

/**
 * The lifecycle of a signing key, computed from timestamps (never stored as a state), so every
 * instance derives the same states from the same record at the same time and no instance has to
 * "apply" a transition:
 * - next: published, not yet signing (until `activatesAt`, at least the JWKS max-age after its creation);
 * - current: the latest key of its algorithm whose `activatesAt` has passed: it signs;
 * - previous: superseded by a newer current key, still published so the tokens it signed verify;
 * - retired: superseded longer ago than the longest token lifetime: gone from the JWKS;
 * - revoked: withdrawn (compromised): gone from the JWKS at once.
 */
export type SigningKeyState = 'next' | 'current' | 'previous' | 'retired' | 'revoked';

export interface StoredSigningKey {
  kid: string;
  alg: SigningAlg;
  /** Public members only. */
  publicJwk: JWK;
  /** The private JWK as a compact JWE under KEY_ENCRYPTION_KEY; dropped once the key is retired or revoked. */
  privateJwe?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  activatesAt: number;
  revokedAt?: number;
  origin: 'imported' | 'generated';
}

/** Everything about the keys, stored as one value replaced by compare-and-swap: each change is one atomic step. */
export interface SigningKeyRecord {
  version: number;
  keys: StoredSigningKey[];
}

export interface KeyStates {
  /** State of each key by kid. */
  state: Map<string, SigningKeyState>;
  /** When a superseded key retires (ms), by kid. */
  retiresAt: Map<string, number>;
  /** The next moment a state changes with no write (a next key activating, a previous key retiring), or Infinity. */
  nextChangeAt: number;
}

/** The states of every key at `now`; a previous key retires `retireAfterMs` after it was superseded. */
export function keyStates(keys: readonly StoredSigningKey[], now: number, retireAfterMs: number): KeyStates {
  const state = new Map<string, SigningKeyState>();
  const retiresAt = new Map<string, number>();
  let nextChangeAt = Infinity;
  const algs = new Set(keys.map((k) => k.alg));
  for (const alg of algs) {
    const live = keys.filter((k) => k.alg === alg && k.revokedAt === undefined).sort(byActivation);
    const activated = live.filter((k) => k.activatesAt <= now);
    activated.forEach((k, i) => {
      const successor = activated[i + 1];
      if (!successor) return void state.set(k.kid, 'current');
      const retires = successor.activatesAt + retireAfterMs;
      retiresAt.set(k.kid, retires);
      if (now < retires) {
        state.set(k.kid, 'previous');
        nextChangeAt = Math.min(nextChangeAt, retires);
      } else state.set(k.kid, 'retired');
    });
    for (const k of live.filter((x) => x.activatesAt > now)) {
      state.set(k.kid, 'next');
      nextChangeAt = Math.min(nextChangeAt, k.activatesAt);
    }
  }
  for (const k of keys) if (k.revokedAt !== undefined) state.set(k.kid, 'revoked');
  return { state, retiresAt, nextChangeAt };
}

function byActivation(a: StoredSigningKey, b: StoredSigningKey): number {
  return a.activatesAt - b.activatesAt || a.createdAt - b.createdAt;
}

/** Keys whose state is one of `states`, current first, then next, then previous (newest first within each). */
export function keysIn(
  keys: readonly StoredSigningKey[],
  states: KeyStates,
  wanted: readonly SigningKeyState[] = ['current', 'next', 'previous'],
): StoredSigningKey[] {
  const rank = (k: StoredSigningKey) => wanted.indexOf(states.state.get(k.kid)!);
  return keys.filter((k) => rank(k) >= 0).sort((a, b) => rank(a) - rank(b) || b.activatesAt - a.activatesAt);
}

/** How many retired or revoked records (public parts only) are kept for the listing. */
const KEPT_WITHDRAWN = 20;

/**
 * Housekeeping done with every write: retired and revoked keys lose their private part, and only
 * the most recent withdrawn records are kept.
 */
export function prune(keys: StoredSigningKey[], now: number, retireAfterMs: number): StoredSigningKey[] {
  const states = keyStates(keys, now, retireAfterMs);
  const withdrawn = (k: StoredSigningKey) => ['retired', 'revoked'].includes(states.state.get(k.kid)!);
  const keep = new Set(
    keys
      .filter(withdrawn)
      .sort((a, b) => (b.revokedAt ?? b.activatesAt) - (a.revokedAt ?? a.activatesAt))
      .slice(0, KEPT_WITHDRAWN)
      .map((k) => k.kid),
  );
  return keys
    .filter((k) => !withdrawn(k) || keep.has(k.kid))
    .map((k) => {
      if (!withdrawn(k) || k.privateJwe === undefined) return k;
      const { privateJwe: _dropped, ...rest } = k;
      return rest;
    });
}
