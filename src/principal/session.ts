import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Role } from '../config.ts';
import { InvalidTokenError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { CredentialResolver } from './principal.ts';
import type { SignInClient, SignIns } from '../accounts/sign-ins.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { currentStanding } from '../accounts/standing.ts';
import type { Config } from '../config.ts';
import type { Revocations } from '../tokens/revocations.ts';

/** Medusa's session cookie name (express-session's default), so browser tooling finds it. */
export const SESSION_COOKIE = 'connect.sid';

/** The auth context a session carries: what POST /auth/session answers as `user`. */
export interface SessionRecord {
  actor_id: string;
  actor_type: 'user' | 'customer';
  auth_identity_id: string;
  app_metadata: Record<string, unknown>;
  role?: Role;
  scopes: string[];
  /** The sign-in (lineage `sid` of the token the session was started with): the session ends with it. */
  sid: string;
  /** The absolute end of that sign-in (ISO 8601). */
  sign_in_ends_at: string;
  created_at: string;
  expires_at: string;
}

/** The key of a session's record: its id's SHA-256 in hex (never the id itself, a credential). */
const idHash = (id: string) => createHash('sha256').update(id).digest('hex');
/**
 * The reference a cookie session is recorded under among its account's sign-ins: the same digest in
 * base64url. Its 43 characters keep `session:<ref>` within the 64 bytes of Redis's compact sorted-set
 * encoding; the hex form (72 bytes) moved the account's whole index out of it (about 1.2 KB more).
 */
export const sessionSignInRef = (id: string) => createHash('sha256').update(id).digest('base64url');
/** The record key's hash from a sign-in reference; entries written in hex (before the change) are used as they are. */
const recordHashOf = (ref: string) => (ref.length === 64 ? ref : Buffer.from(ref, 'base64url').toString('hex'));

/**
 * Cookie sessions kept in the store. The cookie holds only a random id (signed by Koa);
 * the store keeps the session under the id's hash, with a TTL. Ending a session deletes it,
 * so a copied cookie stops working too.
 */
export function createSessions(deps: { store: Store; signIns: SignIns }) {
  const { store, signIns } = deps;
  async function get(id: string): Promise<SessionRecord | null> {
    const raw = await store.get(keys.session(idHash(id)));
    return raw ? (JSON.parse(raw) as SessionRecord) : null;
  }
  return {
    async create(
      context: Omit<SessionRecord, 'created_at' | 'expires_at'>,
      ttlSeconds: number,
      client?: SignInClient,
    ): Promise<{ id: string; session: SessionRecord }> {
      const id = `sess_${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const session: SessionRecord = {
        ...context,
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + ttlSeconds * 1000).toISOString(),
      };
      await store.put(keys.session(idHash(id)), JSON.stringify(session), { ttlSeconds });
      await signIns.add(context.actor_id, 'session', sessionSignInRef(id), now + ttlSeconds * 1000, client);
      return { id, session };
    },
    get,
    /**
     * Log out of a session: it ends with its entry among its account's sign-ins and that entry's
     * record (an entry in hex, from an earlier release, too). Answers the session as it was, or null.
     */
    async end(id: string): Promise<SessionRecord | null> {
      const session = await get(id);
      const listed =
        session &&
        ((await signIns.endRef(session.actor_id, 'session', sessionSignInRef(id))) ||
          (await signIns.endRef(session.actor_id, 'session', idHash(id))));
      if (!listed) await store.delete(keys.session(idHash(id)));
      return session;
    },
    /** Note a use of the session for the admin's sign-in list (at most once a minute; a failure here refuses nothing). */
    async touch(id: string, session: SessionRecord): Promise<void> {
      await signIns.touch(session.actor_id, 'session', sessionSignInRef(id)).catch(() => undefined);
    },
    /** The sign-in (lineage sid) the session recorded under `ref` came from, or null when it has ended. */
    async signInOf(ref: string): Promise<string | null> {
      const raw = await store.get(keys.session(recordHashOf(ref)));
      return raw ? ((JSON.parse(raw) as SessionRecord).sid ?? null) : null;
    },
    /** End the session recorded as a sign-in under `ref` (sessionSignInRef). */
    async endSignIn(ref: string): Promise<void> {
      await store.delete(keys.session(recordHashOf(ref)));
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;

/**
 * Set (or, with id null, clear) the session cookie: httpOnly, signed, SameSite=Lax, and Secure
 * when the request is (an https PUBLIC_URL, TLS, or a trusted X-Forwarded-Proto: see app.ts), the
 * same rule oidc-provider applies to its cookies.
 */
export function writeSessionCookie(ctx: Context, id: string | null, opts: { maxAgeSeconds?: number } = {}): void {
  ctx.cookies.set(SESSION_COOKIE, id, {
    httpOnly: true,
    signed: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    ...(id && opts.maxAgeSeconds ? { maxAge: opts.maxAgeSeconds * 1000 } : {}),
  });
}

/**
 * Session cookies (read by readCredential when no Authorization header is sent). A session is a
 * derived credential: it ends with the sign-in it came from (its lineage revoked: a logout of the
 * token, sign-out everywhere, a password reset) and with the account, and holds no more than the
 * account's current role allows. (Not the verify hot path: three reads, two of them together.)
 */
export function sessionResolver(deps: {
  sessions: Sessions;
  accounts: Accounts;
  revocations: Revocations;
  roleScopes: Config['roleScopes'];
}): CredentialResolver {
  return {
    name: 'session',
    async resolve(credential) {
      if (credential.scheme !== 'session') return undefined;
      const session = await deps.sessions.get(credential.value);
      // (A session of an older release names no sign-in to end it with: it is refused.)
      if (!session?.sid || Date.parse(session.expires_at) <= Date.now()) throw new InvalidTokenError('The session has ended');
      const [account, revoked] = await Promise.all([
        deps.accounts.active(session.actor_id),
        deps.revocations.isLineageRevoked(session.sid),
      ]);
      if (revoked || !account || account.actor_type !== session.actor_type) throw new InvalidTokenError('The session has ended');
      const standing = currentStanding(account, { role: session.role, scopes: session.scopes }, deps.roleScopes);
      await deps.sessions.touch(credential.value, session);
      return {
        kind: session.actor_type,
        id: session.actor_id,
        actorType: session.actor_type,
        scopes: standing.scopes,
        method: 'session',
        expiresAt: new Date(session.expires_at),
        ...(standing.role ? { role: standing.role } : {}),
        sid: session.sid,
        signInEndsAt: new Date(session.sign_in_ends_at),
      };
    },
  };
}
