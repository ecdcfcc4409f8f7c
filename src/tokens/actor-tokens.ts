import { newId } from '../ids.ts';
import type { Account, ActorType } from '../accounts/accounts.ts';
import type { SignInClient, SignIns } from '../accounts/sign-ins.ts';
import { currentStanding, type Standing } from '../accounts/standing.ts';
import type { Config } from '../config.ts';
import { InvalidTokenError } from '../errors.ts';
import type { Principal } from '../principal/principal.ts';
import type { IssuedJwt, JwtService } from './jwt.ts';
import type { Revocations } from './revocations.ts';

/** Medusa names the login identity apart from the actor; ours is derived from the account id. */
export const authIdentityIdOf = (accountId: string) => `authid_${accountId.slice(accountId.indexOf('_') + 1)}`;
export const appMetadataOf = (actorType: ActorType, id: string) => (actorType === 'user' ? { user_id: id } : { customer_id: id });

/** A Medusa sign-in a refreshed token continues: its lineage, its absolute end and what it was granted. */
export interface MedusaSignIn extends Standing {
  sid: string;
  endsAt: Date;
}

/** The Medusa sign-in a principal belongs to (a Medusa-lineage JWT or a cookie session), or undefined (any other credential). */
export function medusaSignInOf(p: Principal): MedusaSignIn | undefined {
  if ((p.kind !== 'user' && p.kind !== 'customer') || (p.method !== 'jwt' && p.method !== 'session') || !p.sid || !p.signInEndsAt)
    return undefined;
  return { sid: p.sid, endsAt: p.signInEndsAt, scopes: p.scopes, ...(p.role ? { role: p.role } : {}) };
}

/**
 * Medusa-style JWTs for an account (/admin/auth/token, /store/auth/token, /auth/*): our first-party
 * JWT (so /v1/auth/verify, logout and revocation know it) with the claims Medusa clients read.
 */
export function createActorTokens(deps: {
  jwt: JwtService;
  signIns: SignIns;
  revocations: Revocations;
  roleScopes: Config['roleScopes'];
  ttl: Config['ttl'];
}) {
  const { jwt, signIns, revocations, roleScopes, ttl } = deps;
  return {
    /**
     * Without `from`, a new sign-in: its own `sid` and an absolute end REFRESH_TOKEN_TTL from now
     * (`sign_in_exp`). With `from` (a refresh), the same sign-in: same `sid`, no more than it was
     * granted nor than the account's role allows now, and never past its end.
     */
    async issue(account: Account, from?: MedusaSignIn, client?: SignInClient): Promise<IssuedJwt> {
      const actorType = account.actor_type;
      const nowMs = Date.now();
      const signIn: MedusaSignIn = from ?? {
        sid: newId(),
        endsAt: new Date(nowMs + ttl.refresh * 1000),
        ...(account.role ? { role: account.role } : {}),
        scopes: roleScopes[actorType === 'user' ? (account.role ?? 'member') : 'customer'],
      };
      const standing = currentStanding(account, signIn, roleScopes);
      const signInExp = Math.floor(signIn.endsAt.getTime() / 1000);
      const ttlSeconds = Math.min(actorType === 'user' ? ttl.admin : ttl.customer, signInExp - Math.floor(nowMs / 1000));
      if (ttlSeconds <= 0) throw new InvalidTokenError('The sign-in has ended; sign in again');
      const issued = await jwt.issue({
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
      await signIns.add(account.id, 'lineage', signIn.sid, issued.expiresAt.getTime(), client);
      // A sign-in ended while this token was minted: its revocation may predate the token's expiry
      // (the end read the expiry before the line above), so it is extended to cover it, the entry
      // just written is dropped, and the token is never handed out.
      if (from && (await revocations.isLineageRevoked(signIn.sid))) {
        await revocations.revokeLineage(signIn.sid, issued.expiresAt.getTime());
        await signIns.forget(account.id, 'lineage', signIn.sid);
        throw new InvalidTokenError('The sign-in has ended; sign in again');
      }
      return issued;
    },
  };
}
