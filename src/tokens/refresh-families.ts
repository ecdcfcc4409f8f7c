import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { newId } from '../ids.ts';
import { InvalidTokenError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { ActorType } from '../accounts/accounts.ts';
import type { JwtService } from './jwt.ts';
import type { Revocations } from './revocations.ts';
import type { SignInClient, SignIns } from '../accounts/sign-ins.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { currentStanding, type Standing } from '../accounts/standing.ts';
import type { Config, Role } from '../config.ts';

/** What a family mints on every rotation. */
interface FamilyRecord {
  sub: string;
  actorType: ActorType;
  scope: string[];
  accessTtl: number;
  extra?: Record<string, unknown>;
  createdAt: number;
  /** The latest expiry (ms) of the access tokens the family issued: how long its revocation is kept when it ends. */
  accessExp?: number;
}

/** `successor` only with a reuse grace window (the only time it is opened): a used token is then ~60 bytes instead of ~1.3 KB. */
type TokenRecord = { state: 'active'; issuedAt: number } | { state: 'used'; issuedAt: number; usedAt: number; successor?: string };

export interface TokenPair {
  token: string;
  token_type: 'Bearer';
  expires_at: string;
  expires_in: number;
  refresh_token: string;
}

const TOKEN_FORMAT = /^rt_([0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$/;

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/** The successor pair is kept encrypted under a key only the presenter of the old token can derive. */
function successorKey(secret: string, familyId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, familyId, 'portcullis refresh successor', 32));
}
function seal(pair: TokenPair, secret: string, familyId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(secret, familyId), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}
function open(sealed: string, secret: string, familyId: string): TokenPair {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', successorKey(secret, familyId), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as TokenPair;
}

/**
 * First-party refresh tokens: opaque `rt_<family>.<secret>`, stored only as a hash, rotated on
 * every use. All keys of a family share its hash tag. Rotation is a compare-and-swap from
 * "active" to "used", so of concurrent presentations exactly one mints a successor. A used token
 * presented again revokes the family and its access tokens, unless it comes within the reuse
 * grace window, where it receives the same successor pair.
 */
export function createRefreshFamilies(deps: {
  store: Store;
  jwt: JwtService;
  revocations: Revocations;
  signIns: SignIns;
  accounts: Accounts;
  roleScopes: Config['roleScopes'];
  refreshTtl: number;
  reuseGraceSeconds: number;
  /** A used token came back after the grace window (stolen, or a misbehaving client): its family is revoked. */
  onReuseDetected?: (family: { sub: string; actorType: ActorType }) => Promise<void>;
}) {
  const { store, jwt, revocations, refreshTtl, reuseGraceSeconds } = deps;

  /** What the family may mint now: the login's grant, narrowed to the account's current role. */
  async function standingOf(familyId: string, family: FamilyRecord): Promise<Standing> {
    const account = await deps.accounts.active(family.sub);
    if (!account || account.actor_type !== family.actorType) {
      await revokeFamily(familyId);
      throw new InvalidTokenError('The account of this sign-in no longer exists');
    }
    return currentStanding(account, { role: family.extra?.role as Role | undefined, scopes: family.scope }, deps.roleScopes);
  }

  /**
   * Issue a pair: the access token signed, the refresh token recorded with its hash in the family's
   * index of tokens (what ends it). `alongside` are writes of the caller, given the access token's expiry,
   * sent in the same round trip.
   */
  async function mint(
    familyId: string,
    family: FamilyRecord,
    standing: Standing = { role: family.extra?.role as Role | undefined, scopes: family.scope },
    alongside: (accessExp: number) => Promise<unknown>[] = () => [],
  ): Promise<{ pair: TokenPair; accessExp: number; tokenHash: string }> {
    const extra = { ...family.extra, ...(standing.role ? { role: standing.role } : {}) };
    const access = await jwt.issue({
      sub: family.sub,
      actorType: family.actorType,
      scope: standing.scopes,
      sid: familyId,
      ttlSeconds: family.accessTtl,
      extra,
    });
    const secret = randomBytes(32).toString('base64url');
    const record: TokenRecord = { state: 'active', issuedAt: Date.now() };
    const tokenHash = hashSecret(secret);
    const index = keys.refreshTokenIndex(familyId);
    // One round trip (the keys share the family's hash tag): the token, and its place in the index that ends it.
    await Promise.all([
      store.put(keys.refreshToken(familyId, tokenHash), JSON.stringify(record), { ttlSeconds: refreshTtl }),
      store.indexAdd(index, tokenHash, record.issuedAt),
      store.expire(index, refreshTtl),
      ...alongside(access.expiresAt.getTime()),
    ]);
    const pair: TokenPair = {
      token: access.token,
      token_type: 'Bearer',
      expires_at: access.expiresAt.toISOString(),
      expires_in: access.expiresIn,
      refresh_token: `rt_${familyId}.${secret}`,
    };
    return { pair, accessExp: access.expiresAt.getTime(), tokenHash };
  }

  /**
   * Note in the family record that it issued an access token lasting until `accessExp`, and keep the
   * family another REFRESH_TOKEN_TTL. A swap, never a plain write: a family ended meanwhile is not
   * brought back, and then false (the new pair must not be handed out: its end did not cover it).
   */
  async function recordIssued(familyId: string, raw: string, accessExp: number): Promise<boolean> {
    const key = keys.refreshFamily(familyId);
    let current: string | null = raw;
    for (let round = 0; round < 5 && current !== null; round++) {
      const family = JSON.parse(current) as FamilyRecord;
      const next: FamilyRecord = { ...family, accessExp: Math.max(family.accessExp ?? 0, accessExp) };
      if (await store.compareAndSwap(key, current, JSON.stringify(next), refreshTtl)) return true;
      current = await store.get(key);
    }
    return false;
  }

  /**
   * End a family: its access tokens are refused at once, and every record of it goes in the same
   * step (the family, its refresh tokens and their index, its entry among the account's sign-ins).
   * What stays is the revocation, for as long as the latest access token the family issued can live.
   */
  async function revokeFamily(familyId: string): Promise<void> {
    const familyKey = keys.refreshFamily(familyId);
    const raw = await store.get(familyKey);
    if (raw === null && (await revocations.isLineageRevoked(familyId))) return; // ended already: its revocation stands as it is
    const seen = raw ? (JSON.parse(raw) as FamilyRecord) : null;
    // The access tokens are refused first. Without a family record (a sid of another kind of sign-in),
    // the revocation lasts as long as the longest access token can.
    await revocations.revokeLineage(familyId, seen?.accessExp);
    // Taken in one step: a rotation that records a later token after this finds no family and hands nothing out;
    // one that recorded it before is seen here, and the revocation extended to its token.
    const taken = await store.consume(familyKey);
    const family = taken ? (JSON.parse(taken) as FamilyRecord) : seen;
    if (family?.accessExp !== undefined && family.accessExp !== seen?.accessExp)
      await revocations.revokeLineage(familyId, family.accessExp);
    const index = keys.refreshTokenIndex(familyId);
    const tokenHashes = await store.indexRangeByScore(index, -Infinity, Infinity);
    await Promise.all([
      store.delete(index, ...tokenHashes.map((hash) => keys.refreshToken(familyId, hash))),
      family ? deps.signIns.forget(family.sub, 'family', familyId) : undefined,
    ]);
  }

  return {
    /** A login: a new family and its first pair. */
    async start(family: Omit<FamilyRecord, 'createdAt'>, client?: SignInClient): Promise<TokenPair> {
      const familyId = newId();
      const record: FamilyRecord = { ...family, createdAt: Date.now() };
      // The family, its first pair and its entry among the account's sign-ins, written together.
      const { pair } = await mint(familyId, record, undefined, (accessExp) => [
        store.put(keys.refreshFamily(familyId), JSON.stringify({ ...record, accessExp }), { ttlSeconds: refreshTtl }),
        deps.signIns.add(family.sub, 'family', familyId, record.createdAt + refreshTtl * 1000, client),
      ]);
      return pair;
    },

    async rotate(refreshToken: string): Promise<TokenPair> {
      const m = TOKEN_FORMAT.exec(refreshToken);
      if (!m) throw new InvalidTokenError('The refresh token is invalid');
      const [, familyId, secret] = m as unknown as [string, string, string];
      const tokenKey = keys.refreshToken(familyId, hashSecret(secret));
      const [familyRaw, tokenRaw] = await store.getMany([keys.refreshFamily(familyId), tokenKey]);
      if (!familyRaw || !tokenRaw) throw new InvalidTokenError('The refresh token is invalid');
      const family = JSON.parse(familyRaw) as FamilyRecord;

      let current = JSON.parse(tokenRaw) as TokenRecord;
      if (current.state === 'active') {
        const minted = await mint(familyId, family, await standingOf(familyId, family));
        const { pair } = minted;
        const used: TokenRecord = {
          state: 'used',
          issuedAt: current.issuedAt,
          usedAt: Date.now(),
          ...(reuseGraceSeconds > 0 ? { successor: seal(pair, secret, familyId) } : {}),
        };
        if (await store.compareAndSwap(tokenKey, tokenRaw, JSON.stringify(used))) {
          if (!(await recordIssued(familyId, familyRaw, minted.accessExp))) {
            // The family ended while this rotation ran: the new pair is dropped, never handed out.
            await Promise.all([
              store.delete(keys.refreshToken(familyId, minted.tokenHash)),
              store.indexRemove(keys.refreshTokenIndex(familyId), [minted.tokenHash]),
            ]);
            throw new InvalidTokenError('The refresh token is invalid');
          }
          // The family lives on while it is used: so does its entry among the account's sign-ins,
          // or sign-out everywhere, an admin's sign-out and a password reset would miss it once it
          // is older than its first REFRESH_TOKEN_TTL.
          await deps.signIns.add(family.sub, 'family', familyId, Date.now() + refreshTtl * 1000);
          return pair;
        }
        // Lost the race: someone rotated this token a moment ago. Treat ours as a reuse.
        const again = await store.get(tokenKey);
        if (!again) throw new InvalidTokenError('The refresh token is invalid');
        current = JSON.parse(again) as TokenRecord;
        if (current.state === 'active') throw new InvalidTokenError('The refresh token is invalid');
      }
      if (reuseGraceSeconds > 0 && Date.now() - current.usedAt <= reuseGraceSeconds * 1000) {
        if (current.successor) return open(current.successor, secret, familyId);
      }
      await revokeFamily(familyId);
      await deps.onReuseDetected?.(family);
      throw new InvalidTokenError('The refresh token has already been used; its session has been revoked');
    },

    revokeFamily,
  };
}
export type RefreshFamilies = ReturnType<typeof createRefreshFamilies>;
