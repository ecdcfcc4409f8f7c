import { ulid } from 'ulid';
import { z } from 'zod';
import type { Account } from '../../accounts/accounts.ts';
import { InvalidTokenError } from '../../errors.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';
import type { ActorType, IssuedJwt } from '../../tokens/jwt.ts';
import { currentStanding, type Standing } from '../../accounts/standing.ts';

/** Medusa names the login identity apart from the actor; ours is derived from the account id. */
export const authIdentityIdOf = (accountId: string) => `authid_${accountId.slice(accountId.indexOf('_') + 1)}`;
export const appMetadataOf = (actorType: ActorType, id: string) => (actorType === 'user' ? { user_id: id } : { customer_id: id });

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  role: z.enum(['admin', 'member', 'developer']),
  created_at: z.string(),
  updated_at: z.string(),
});
export const customerSchema = userSchema.omit({ role: true });
export const medusaErrorSchema = z.object({ type: z.string(), message: z.string() });
export const medusaErr = (description: string) => ({ description, schema: medusaErrorSchema });

export function userView(a: Account) {
  return { id: a.id, email: a.email, first_name: a.first_name, last_name: a.last_name, role: a.role ?? 'member', created_at: a.created_at, updated_at: a.updated_at };
}
export function customerView(a: Account) {
  return { id: a.id, email: a.email, first_name: a.first_name, last_name: a.last_name, created_at: a.created_at, updated_at: a.updated_at };
}

/** A Medusa sign-in a refreshed token continues: its lineage, its absolute end and what it was granted. */
export interface MedusaSignIn extends Standing {
  sid: string;
  endsAt: Date;
}

/**
 * A Medusa-style JWT for an account: our first-party JWT (so /v1/auth/verify, logout and
 * revocation know it) with the claims Medusa clients read. Without `from`, a new sign-in: its own
 * `sid` and an absolute end REFRESH_TOKEN_TTL from now (`sign_in_exp`). With `from` (a refresh),
 * the same sign-in: same `sid`, no more than it was granted nor than the account's role allows now,
 * and never past its end.
 */
export async function issueActorToken(s: Services, account: Account, from?: MedusaSignIn): Promise<IssuedJwt> {
  const actorType = account.actor_type;
  const nowMs = Date.now();
  const signIn: MedusaSignIn = from ?? {
    sid: ulid(),
    endsAt: new Date(nowMs + s.config.ttl.refresh * 1000),
    ...(account.role ? { role: account.role } : {}),
    scopes: s.config.roleScopes[actorType === 'user' ? (account.role ?? 'member') : 'customer'],
  };
  const standing = currentStanding(account, signIn, s.config.roleScopes);
  const signInExp = Math.floor(signIn.endsAt.getTime() / 1000);
  const ttlSeconds = Math.min(actorType === 'user' ? s.config.ttl.admin : s.config.ttl.customer, signInExp - Math.floor(nowMs / 1000));
  if (ttlSeconds <= 0) throw new InvalidTokenError('The sign-in has ended; sign in again');
  const issued = await s.jwt.issue({
    sub: account.id,
    actorType,
    scope: standing.scopes,
    sid: signIn.sid,
    ttlSeconds,
    extra: {
      auth_identity_id: authIdentityIdOf(account.id),
      app_metadata: appMetadataOf(actorType, account.id),
      ...(standing.role ? { role: standing.role } : {}),
      sign_in_exp: signInExp,
    },
  });
  // The sign-in is recorded (and its record kept as long as its latest token), so a password reset ends it.
  await s.signIns.add(account.id, 'lineage', signIn.sid, issued.expiresAt.getTime());
  return issued;
}

/** The Medusa sign-in a principal belongs to (a Medusa-lineage JWT or a cookie session), or undefined (any other credential). */
export function medusaSignInOf(p: Principal): MedusaSignIn | undefined {
  if ((p.kind !== 'user' && p.kind !== 'customer') || (p.method !== 'jwt' && p.method !== 'session') || !p.sid || !p.signInEndsAt) return undefined;
  return { sid: p.sid, endsAt: p.signInEndsAt, scopes: p.scopes, ...(p.role ? { role: p.role } : {}) };
}

/**
 * The token `/auth/{actor}/emailpass/register` answers: it names the new identity but no actor
 * yet (`actor_id` ""), and holds no scope, so it opens nothing but the actor's creation
 * (POST /store/customers) and /auth/token/refresh (see src/tokens/registration-tokens.ts).
 */
export async function issueRegistrationToken(s: Services, identityId: string, actorType: ActorType): Promise<string> {
  return s.registrationTokens.issue(identityId, actorType);
}

/** A registration token's principal (no actor yet), as opposed to a logged-in actor's. */
export const isRegistrationPrincipal = (p: Principal) => p.kind === 'registration';

/** The account behind a logged-in actor principal (JWT or session), or 401. */
export async function actorAccount(s: Services, p: Principal, actorType: ActorType): Promise<Account> {
  if (p.kind !== actorType) throw new InvalidTokenError();
  const account = await s.accounts.active(p.id);
  if (!account || account.actor_type !== actorType) throw new InvalidTokenError();
  return account;
}
