import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ulid } from 'ulid';
import { z } from 'zod';
import type { Account } from '../../accounts/accounts.ts';
import { InvalidTokenError } from '../../http/errors.ts';
import type { Principal } from '../../principal/principal.ts';
import type { Services } from '../../services.ts';
import { FIRST_PARTY_TYP, type ActorType, type IssuedJwt } from '../../tokens/jwt.ts';

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

/**
 * A Medusa-style JWT for an account: our first-party JWT (so /v1/auth/verify, logout and
 * revocation know it) with the claims Medusa clients read. Each login is its own `sid`.
 */
export async function issueActorToken(s: Services, account: Account, lineage?: string): Promise<IssuedJwt> {
  const actorType = account.actor_type;
  const holder = actorType === 'user' ? (account.role ?? 'member') : 'customer';
  const sid = lineage ?? ulid();
  const issued = await s.jwt.issue({
    sub: account.id,
    actorType,
    scope: s.config.roleScopes[holder],
    sid,
    ttlSeconds: actorType === 'user' ? s.config.ttl.admin : s.config.ttl.customer,
    extra: {
      auth_identity_id: authIdentityIdOf(account.id),
      app_metadata: appMetadataOf(actorType, account.id),
      ...(account.role ? { role: account.role } : {}),
    },
  });
  // A refreshed token continues its lineage (recorded at sign-in) and extends it.
  await s.signIns.add(account.id, 'lineage', sid, issued.expiresAt.getTime());
  return issued;
}

/**
 * The token `/auth/{actor}/emailpass/register` answers: it names the new identity but no actor
 * yet (`actor_id` ""), and holds no scope, so it opens nothing but the actor's creation
 * (POST /store/customers) and /auth/token/refresh.
 */
export async function issueRegistrationToken(s: Services, identityId: string, actorType: ActorType): Promise<string> {
  const signer = s.keystore.signingKey();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: '', actor_type: actorType, actor_id: '', auth_identity_id: identityId, app_metadata: {}, sid: ulid() })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: FIRST_PARTY_TYP })
    .setIssuer(s.config.issuer)
    .setAudience(s.config.audience)
    .setSubject(identityId)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + s.config.ttl.customer)
    .sign(signer.key);
}

/** A registration token's principal (no actor yet), as opposed to a logged-in actor's. */
export const isRegistrationPrincipal = (p: Principal) => p.method === 'jwt' && p.id.startsWith('authid_');

/** The account behind a logged-in actor principal (JWT or session), or 401. */
export async function actorAccount(s: Services, p: Principal, actorType: ActorType): Promise<Account> {
  if (p.kind !== actorType || isRegistrationPrincipal(p)) throw new InvalidTokenError();
  const account = await s.accounts.get(p.id);
  if (!account || account.actor_type !== actorType) throw new InvalidTokenError();
  return account;
}
