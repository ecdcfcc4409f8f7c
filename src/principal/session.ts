import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Role } from '../config.ts';
import { InvalidTokenError } from '../http/errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { CredentialResolver } from './principal.ts';
import type { SignIns } from '../accounts/sign-ins.ts';

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
  created_at: string;
  expires_at: string;
}

const idHash = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * Cookie sessions kept in the store. The cookie holds only a random id (signed by Koa);
 * the store keeps the session under the id's hash, with a TTL. Ending a session deletes it,
 * so a copied cookie stops working too.
 */
export function createSessions(deps: { store: Store; signIns: SignIns }) {
  const { store, signIns } = deps;
  return {
    async create(context: Omit<SessionRecord, 'created_at' | 'expires_at'>, ttlSeconds: number): Promise<{ id: string; session: SessionRecord }> {
      const id = `sess_${randomBytes(32).toString('base64url')}`;
      const now = Date.now();
      const session: SessionRecord = { ...context, created_at: new Date(now).toISOString(), expires_at: new Date(now + ttlSeconds * 1000).toISOString() };
      await store.put(keys.session(idHash(id)), JSON.stringify(session), { ttlSeconds });
      await signIns.add(context.actor_id, 'session', idHash(id), now + ttlSeconds * 1000);
      return { id, session };
    },
    async get(id: string): Promise<SessionRecord | null> {
      const raw = await store.get(keys.session(idHash(id)));
      return raw ? (JSON.parse(raw) as SessionRecord) : null;
    },
    async destroy(id: string): Promise<void> {
      await store.delete(keys.session(idHash(id)));
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

/** Session cookies (read by readCredential when no Authorization header is sent). */
export function sessionResolver(sessions: Sessions): CredentialResolver {
  return {
    name: 'session',
    async resolve(credential) {
      if (credential.scheme !== 'session') return undefined;
      const session = await sessions.get(credential.value);
      if (!session || Date.parse(session.expires_at) <= Date.now()) throw new InvalidTokenError('The session has ended');
      return {
        kind: session.actor_type,
        id: session.actor_id,
        actorType: session.actor_type,
        scopes: session.scopes,
        method: 'session',
        expiresAt: new Date(session.expires_at),
        role: session.role,
      };
    },
  };
}
