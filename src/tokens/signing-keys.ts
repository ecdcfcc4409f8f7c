import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import type { Audit, AuditEntry } from '../audit/audit.ts';
import { NotAllowedError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { keys as storeKeys } from '../store/keys.ts';
import { StoreUnavailableError, type Store } from '../store/port.ts';
import { generatePrivateJwk } from './generate-jwks.ts';
import { decryptPrivateJwk, encryptPrivateJwk } from './key-encryption.ts';
import { createKeystore, createLiveKeystore, publicJwkOf, type Keystore, type LiveKeystore, type SigningAlg } from './keystore.ts';
import {
  keysIn,
  keyStates,
  prune,
  type KeyStates,
  type SigningKeyRecord,
  type SigningKeyState,
  type StoredSigningKey,
} from './signing-key-states.ts';

/** A signing key as the admin API and the CLI show it: public parts and timings, never the private part. */
export interface SigningKeyView {
  kid: string;
  alg: SigningAlg;
  state: SigningKeyState;
  origin: 'imported' | 'generated' | 'static';
  created_at: string | null;
  activates_at: string | null;
  retires_at: string | null;
  revoked_at: string | null;
  public_jwk: JWK;
}

/** Who asked for a change, for the audit trail. */
export type ChangedBy = Pick<AuditEntry, 'actor' | 'request'> & { via: 'api' | 'cli' | 'schedule' };

export interface SigningKeys {
  /** The keys every signature and verification uses now (in memory: no store round trip). */
  readonly keystore: Keystore;
  /** Whether the keys live in the store (rotation, revocation) or in JWKS/JWKS_FILE only (SIGNING_KEYS=static). */
  readonly mode: 'store' | 'static';
  list(): Promise<SigningKeyView[]>;
  /** Publish a new key per algorithm as next (a key already waiting as next is kept): what became or stays next. */
  rotate(by: ChangedBy): Promise<SigningKeyView[]>;
  /** Withdraw a key at once; if it was current, its algorithm's next key (or a new one) signs from now on. */
  revoke(kid: string, by: ChangedBy): Promise<SigningKeyView>;
  /**
   * Encrypt under KEY_ENCRYPTION_KEY every private part still under KEY_ENCRYPTION_KEY_PREVIOUS:
   * the kids re-encrypted (none when every part already opens with the current key).
   */
  rekey(by: ChangedBy): Promise<{ reencrypted: string[] }>;
  /** Read the store now instead of waiting for the next poll. */
  refresh(): Promise<void>;
  /** Stop watching the store. */
  stop(): void;
  /** Called after the keys in use changed (a rotation's key activating or published, a revocation, a retirement). */
  onChange(listener: () => void): void;
}

/** How often each instance looks for a change made elsewhere (one GET of a counter): revocations land within this. */
const POLL_MS = 500;
/** Every so often the whole record is read even if the counter did not move (a writer that died between its two writes). */
const FULL_RELOAD_MS = 30_000;
/** The scheduled-rotation lock outlives any rotation; it is never released early, so one instance rotates per period. */
const ROTATION_LOCK_SECONDS = 60;
const CAS_ATTEMPTS = 10;

const iso = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

export class SigningKeyStoreError extends Error {
  readonly code = 'ERR_SIGNING_KEYS';
}

/**
 * Signing keys kept in the store: one record (every key, its timings, its private part encrypted)
 * replaced by compare-and-swap, and a version counter every instance polls, so a rotation or a
 * revocation made on one instance (or by the CLI) reaches all of them within a poll. The keyset
 * each instance signs and verifies with lives in memory; states follow from timestamps
 * (signing-key-states.ts), so time passing changes them with no write and no coordination.
 */
export async function createStoredSigningKeys(deps: {
  store: Store;
  logger: Logger;
  audit: Pick<Audit, 'record'>;
  keyEncryptionKey: Uint8Array;
  /** The key-encryption key being replaced: private parts still under it open, and rekey moves them. */
  previousKeyEncryptionKey?: Uint8Array;
  /** In use, the first one signing first-party JWTs; RS256 always among them. */
  algorithms: readonly SigningAlg[];
  leadTimeMs: number;
  retireAfterMs: number;
  /** Scheduled rotation period, or undefined for none. */
  rotationMs?: number;
  /** Imported when the store has no keys yet (its first key of each algorithm current, the others previous). */
  importJwks: JSONWebKeySet;
  pollMs?: number;
  now?: () => number;
}): Promise<SigningKeys> {
  const { store, logger, audit, keyEncryptionKey: kek, algorithms } = deps;
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? POLL_MS;
  const recordKey = storeKeys.signingKeys();
  const versionKey = storeKeys.signingKeysVersion();

  let applied: { record: SigningKeyRecord; states: KeyStates; fingerprint: string } | undefined;
  let live: LiveKeystore | undefined;
  const privates = new Map<string, JWK>();

  /** A stored private part, under the current key-encryption key or else the previous one. */
  async function open(kid: string, jwe: string): Promise<{ jwk: JWK; underPrevious: boolean }> {
    try {
      return { jwk: await decryptPrivateJwk(jwe, kid, kek), underPrevious: false };
    } catch (err) {
      if (!deps.previousKeyEncryptionKey) throw err;
      return { jwk: await decryptPrivateJwk(jwe, kid, deps.previousKeyEncryptionKey), underPrevious: true };
    }
  }

  async function read(): Promise<{ raw: string; record: SigningKeyRecord } | null> {
    const raw = await store.get(recordKey);
    if (raw === null) return null;
    return { raw, record: JSON.parse(raw) as SigningKeyRecord };
  }

  async function stored(jwk: JWK, at: number, activatesAt: number, origin: StoredSigningKey['origin']): Promise<StoredSigningKey> {
    return {
      kid: jwk.kid!,
      alg: jwk.alg as SigningAlg,
      publicJwk: publicJwkOf(jwk),
      privateJwe: await encryptPrivateJwk(jwk, kek),
      createdAt: at,
      activatesAt,
      origin,
    };
  }

  /** The first record: the imported JWKS, else one new key per algorithm, current at once (nothing was signed before). */
  async function initialRecord(at: number): Promise<SigningKeyRecord> {
    const keys: StoredSigningKey[] = [];
    const seen = new Map<string, number>();
    for (const jwk of deps.importJwks.keys) {
      const alg = jwk.alg as SigningAlg;
      const rank = seen.get(alg) ?? 0;
      seen.set(alg, rank + 1);
      // Earlier in the file = newer: the first key of each algorithm is current, the others previous.
      keys.push(await stored(jwk, at, at - rank, 'imported'));
    }
    return { version: 1, keys };
  }

  /** Algorithms in use that have no current or next key get one, current at once (no token of that algorithm exists yet). */
  async function missingAlgorithms(record: SigningKeyRecord, at: number): Promise<StoredSigningKey[]> {
    const states = keyStates(record.keys, at, deps.retireAfterMs);
    const covered = new Set(record.keys.filter((k) => ['current', 'next'].includes(states.state.get(k.kid)!)).map((k) => k.alg));
    const added: StoredSigningKey[] = [];
    for (const alg of algorithms) if (!covered.has(alg)) added.push(await stored(await generatePrivateJwk(alg), at, at, 'generated'));
    return added;
  }

  /** An older record never replaces a newer one: a poll that read before a change may finish after it. */
  const stale = (record: SigningKeyRecord) => applied !== undefined && record.version < applied.record.version;

  async function apply(record: SigningKeyRecord): Promise<void> {
    if (stale(record)) return;
    const at = now();
    const states = keyStates(record.keys, at, deps.retireAfterMs);
    const published = keysIn(record.keys, states);
    const fingerprint = published.map((k) => `${k.kid}:${states.state.get(k.kid)}`).join(',');
    if (applied && applied.fingerprint === fingerprint) {
      applied = { record, states, fingerprint };
      return;
    }
    for (const kid of privates.keys()) if (!published.some((k) => k.kid === kid)) privates.delete(kid);
    const jwks: JWK[] = [];
    for (const k of published) {
      let jwk = privates.get(k.kid);
      if (!jwk) {
        if (!k.privateJwe) throw new SigningKeyStoreError(`signing key ${k.kid} has no private part`);
        privates.set(k.kid, (jwk = (await open(k.kid, k.privateJwe)).jwk));
      }
      jwks.push(jwk);
    }
    // Current keys first, in the order of SIGNING_KEY_ALGORITHMS: "the first key signs" holds for
    // oidc-provider (first key of an algorithm) and for first-party JWTs (first key of all).
    const rank = (alg: SigningAlg) => (algorithms.indexOf(alg) + algorithms.length + 1) % (algorithms.length + 1);
    const currents = published.filter((k) => states.state.get(k.kid) === 'current').sort((a, b) => rank(a.alg) - rank(b.alg));
    const ordered = [...currents.map((k) => jwks[published.indexOf(k)]!), ...jwks.filter((j) => !currents.some((c) => c.kid === j.kid))];
    const snapshot = await createKeystore({ keys: ordered }, { signers: currents.map((k) => k.kid) });
    if (stale(record)) return;
    applied = { record, states, fingerprint };
    if (live) live.replace(snapshot);
    else live = createLiveKeystore(snapshot);
    logger.info({ signing_keys: published.map((k) => `${k.kid} ${k.alg} ${states.state.get(k.kid)}`) }, 'signing keys loaded');
  }

  /**
   * One atomic change of the record: `change` gets the record as stored and returns the new keys
   * (or null: nothing to do), tried again on a concurrent writer's newer record.
   */
  async function update(change: (record: SigningKeyRecord, at: number) => Promise<StoredSigningKey[] | null>): Promise<SigningKeyRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await read();
      const at = now();
      if (!current) {
        const first = await initialRecord(at);
        first.keys.push(...(await missingAlgorithms(first, at)));
        if (!(await store.put(recordKey, JSON.stringify(first), { ifAbsent: true }))) continue;
        await store.put(versionKey, String(first.version));
        await apply(first);
        // A log line, not an audit event: the server's `system.started` event names the keys it starts with.
        logger.info(
          { kids: first.keys.map((k) => `${k.kid} ${k.alg} ${k.origin}`) },
          first.keys.some((k) => k.origin === 'imported')
            ? 'signing keys imported into the store'
            : 'signing keys generated into the store',
        );
        continue; // the change itself runs against the record now stored
      }
      const keys = await change(current.record, at);
      if (!keys) {
        await apply(current.record);
        return current.record;
      }
      const next: SigningKeyRecord = { version: current.record.version + 1, keys: prune(keys, at, deps.retireAfterMs) };
      if (!(await store.compareAndSwap(recordKey, current.raw, JSON.stringify(next)))) continue;
      await store.put(versionKey, String(next.version));
      await apply(next);
      return next;
    }
    throw new SigningKeyStoreError('the signing keys kept changing under this change; try again');
  }

  function views(record: SigningKeyRecord, states: KeyStates): SigningKeyView[] {
    const order: SigningKeyState[] = ['current', 'next', 'previous', 'retired', 'revoked'];
    return keysIn(record.keys, states, order).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      state: states.state.get(k.kid)!,
      origin: k.origin,
      created_at: iso(k.createdAt),
      activates_at: iso(k.activatesAt),
      retires_at: iso(states.retiresAt.get(k.kid)),
      revoked_at: iso(k.revokedAt),
      public_jwk: k.publicJwk,
    }));
  }

  /** A rotation: a new next key per algorithm that has none waiting; null when every algorithm already has one. */
  async function rotation(
    record: SigningKeyRecord,
    at: number,
    fresh: (alg: SigningAlg) => Promise<JWK>,
  ): Promise<StoredSigningKey[] | null> {
    const states = keyStates(record.keys, at, deps.retireAfterMs);
    const added: StoredSigningKey[] = [];
    for (const alg of algorithms) {
      if (record.keys.some((k) => k.alg === alg && states.state.get(k.kid) === 'next')) continue;
      added.push(await stored(await fresh(alg), at, at + deps.leadTimeMs, 'generated'));
    }
    return added.length ? [...record.keys, ...added] : null;
  }

  /** Keys are generated once per call, not once per compare-and-swap attempt (an RSA key takes a while). */
  function freshKeys(): (alg: SigningAlg) => Promise<JWK> {
    const made = new Map<SigningAlg, Promise<JWK>>();
    return (alg) => {
      if (!made.has(alg)) made.set(alg, generatePrivateJwk(alg));
      return made.get(alg)!;
    };
  }

  async function rotate(by: ChangedBy): Promise<SigningKeyView[]> {
    const fresh = freshKeys();
    // Made before the change is timed (the lead time counts from when the key is published), and only
    // for algorithms with no key waiting as next (a repeated rotation costs no key generation).
    const waiting = (alg: SigningAlg) => applied?.record.keys.some((k) => k.alg === alg && applied!.states.state.get(k.kid) === 'next');
    await Promise.all(algorithms.filter((alg) => !waiting(alg)).map(fresh));
    const before = applied?.record.keys.map((k) => k.kid) ?? [];
    const record = await update((r, at) => rotation(r, at, fresh));
    const states = keyStates(record.keys, now(), deps.retireAfterMs);
    const next = views(record, states).filter((v) => v.state === 'next');
    for (const v of next.filter((x) => !before.includes(x.kid))) {
      const replaces = record.keys.find((k) => k.alg === v.alg && states.state.get(k.kid) === 'current');
      await audit.record('signing_key.rotated', {
        actor: by.actor,
        request: by.request,
        subject: { type: 'signing_key', id: v.kid },
        data: { alg: v.alg, activates_at: v.activates_at ?? undefined, replaces: replaces?.kid, via: by.via },
      });
    }
    return next;
  }

  async function revoke(kid: string, by: ChangedBy): Promise<SigningKeyView> {
    const fresh = freshKeys();
    let was: SigningKeyState | undefined;
    let replacement: string | undefined;
    const record = await update(async (r, at) => {
      const states = keyStates(r.keys, at, deps.retireAfterMs);
      const target = r.keys.find((k) => k.kid === kid);
      if (!target) throw new NotFoundError(`No signing key with kid ${kid}`);
      was = states.state.get(kid);
      if (was === 'revoked') throw new NotAllowedError(`The signing key ${kid} is already revoked`);
      const keys = r.keys.map((k) => (k.kid === kid ? { ...k, revokedAt: at } : k));
      replacement = undefined;
      if (was === 'current') {
        // Its algorithm needs a signer now: the key waiting as next (already published), else a new one.
        const waiting = keys
          .filter((k) => k.alg === target.alg && states.state.get(k.kid) === 'next')
          .sort((a, b) => a.activatesAt - b.activatesAt)[0];
        if (waiting) {
          replacement = waiting.kid;
          return keys.map((k) => (k.kid === waiting.kid ? { ...k, activatesAt: at } : k));
        }
        const added = await stored(await fresh(target.alg), at, at, 'generated');
        replacement = added.kid;
        return [...keys, added];
      }
      return keys;
    });
    await audit.record('signing_key.revoked', {
      actor: by.actor,
      request: by.request,
      subject: { type: 'signing_key', id: kid },
      data: { was, replaced_by: replacement, via: by.via },
    });
    logger.warn({ kid, was, replaced_by: replacement }, 'signing key revoked');
    return views(record, keyStates(record.keys, now(), deps.retireAfterMs)).find((v) => v.kid === kid)!;
  }

  async function rekey(by: ChangedBy): Promise<{ reencrypted: string[] }> {
    let reencrypted: string[] = [];
    await update(async (r) => {
      reencrypted = [];
      const keys: StoredSigningKey[] = [];
      for (const k of r.keys) {
        const opened = k.privateJwe ? await open(k.kid, k.privateJwe) : undefined;
        if (!opened?.underPrevious) {
          keys.push(k);
          continue;
        }
        keys.push({ ...k, privateJwe: await encryptPrivateJwk(opened.jwk, kek) });
        reencrypted.push(k.kid);
      }
      return reencrypted.length ? keys : null;
    });
    for (const kid of reencrypted)
      await audit.record('signing_key.reencrypted', {
        actor: by.actor,
        request: by.request,
        subject: { type: 'signing_key', id: kid },
        data: { via: by.via },
      });
    return { reencrypted };
  }

  /** The scheduled rotation, when due: tried by every instance, done by the one holding the lock. */
  async function scheduledRotation(): Promise<void> {
    if (!deps.rotationMs || !applied) return;
    const at = now();
    const due = algorithms.some((alg) => {
      const newest = Math.max(...applied!.record.keys.filter((k) => k.alg === alg && k.revokedAt === undefined).map((k) => k.createdAt));
      return at - newest >= deps.rotationMs!;
    });
    if (!due) return;
    if (!(await store.put(storeKeys.signingKeyRotationLock(), randomUUID(), { ttlSeconds: ROTATION_LOCK_SECONDS, ifAbsent: true }))) return;
    // Under the lock, against the record as stored now: another instance may have rotated already.
    const fresh = freshKeys();
    const before = new Set((await read())?.record.keys.map((k) => k.kid));
    const record = await update(async (r, t) => {
      const stillDue = algorithms.some((alg) => {
        const newest = Math.max(...r.keys.filter((k) => k.alg === alg && k.revokedAt === undefined).map((k) => k.createdAt));
        return t - newest >= deps.rotationMs!;
      });
      return stillDue ? rotation(r, t, fresh) : null;
    });
    for (const k of record.keys.filter((x) => !before.has(x.kid)))
      await audit.record('signing_key.rotated', {
        subject: { type: 'signing_key', id: k.kid },
        data: { alg: k.alg, activates_at: iso(k.activatesAt) ?? undefined, via: 'schedule' },
      });
  }

  let lastFullReload = now();
  async function poll(): Promise<void> {
    if (!applied) return void (await startUp());
    const version = await store.get(versionKey);
    const at = now();
    if (version !== String(applied?.record.version) || at - lastFullReload >= FULL_RELOAD_MS) {
      lastFullReload = at;
      const current = await read();
      if (current) await apply(current.record);
    } else if (applied && at >= applied.states.nextChangeAt) await apply(applied.record);
    await scheduledRotation();
  }

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;
  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      poll()
        .then(
          () => {
            if (failing) logger.info('signing keys: the store answers again');
            failing = false;
          },
          (err: unknown) => {
            // Keep serving with the keys in memory; the next poll tries again (a Redis reconnect included).
            if (!failing)
              logger.warn({ err: { message: (err as Error).message } }, 'signing keys: cannot read the store; keeping the keys in memory');
            failing = true;
          },
        )
        .finally(schedule);
    }, pollMs);
    timer.unref();
  }

  // Start-up: the record as stored (imported or generated on first start), with every algorithm in use covered.
  const startUp = () =>
    update(async (record, at) => {
      const added = await missingAlgorithms(record, at);
      return added.length ? [...record.keys, ...added] : null;
    });
  try {
    await startUp();
  } catch (err) {
    // The server starts while Redis is down (it answers 503 until Redis is back): meanwhile it holds
    // the configured keys, and the first poll that reaches the store loads the stored ones.
    if (!(err instanceof StoreUnavailableError) || !deps.importJwks.keys.length) throw err;
    logger.warn('signing keys: the store is unavailable; using JWKS/JWKS_FILE until it answers');
    live = createLiveKeystore(await createKeystore(deps.importJwks));
  }
  schedule();

  return {
    keystore: live!,
    mode: 'store',
    async list() {
      const current = await read();
      if (!current) return [];
      return views(current.record, keyStates(current.record.keys, now(), deps.retireAfterMs));
    },
    rotate,
    revoke,
    rekey,
    refresh: poll,
    onChange: (listener) => live!.onChange(listener),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** SIGNING_KEYS=static: the keys of JWKS/JWKS_FILE as they are; rotation means editing the file and restarting. */
export async function createStaticSigningKeys(jwks: JSONWebKeySet): Promise<SigningKeys> {
  const keystore = await createKeystore(jwks);
  const refuse = () => {
    throw new NotAllowedError('Signing keys are managed outside Portcullis (SIGNING_KEYS=static): edit JWKS or JWKS_FILE and restart');
  };
  const seen = new Set<string>();
  const list: SigningKeyView[] = keystore.publicJwks.keys.map((k) => {
    const first = !seen.has(k.alg!);
    seen.add(k.alg!);
    return {
      kid: k.kid!,
      alg: k.alg as SigningAlg,
      state: first ? 'current' : 'previous',
      origin: 'static',
      created_at: null,
      activates_at: null,
      retires_at: null,
      revoked_at: null,
      public_jwk: k,
    };
  });
  return {
    keystore,
    mode: 'static',
    list: async () => list,
    rotate: async () => refuse(),
    revoke: async () => refuse(),
    rekey: async () => refuse(),
    refresh: async () => {},
    stop: () => {},
    onChange: () => {},
  };
}
