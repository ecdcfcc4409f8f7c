import { decodeProtectedHeader } from 'jose';
import type { Role } from '../config.ts';
import type { FirstPartyClaims, JwtService } from '../tokens/jwt.ts';
import { FIRST_PARTY_TYP } from '../tokens/jwt.ts';
import type { Revocations } from '../tokens/revocations.ts';
import { knownJwts } from './known-jwts.ts';
import type { CredentialResolver, Principal } from './principal.ts';

/** True when `value` looks like a JWS of the given `typ` (cheap header peek, no verification). */
export function isJwtOfType(value: string, typ: string): boolean {
  if (value.split('.').length !== 3) return false;
  try {
    return (decodeProtectedHeader(value).typ ?? FIRST_PARTY_TYP).toLowerCase() === typ.toLowerCase();
  } catch {
    return false;
  }
}

/** Bearer JWTs we issued ourselves (/v1/auth/login, Medusa token endpoints). */
export function firstPartyJwtResolver(jwt: JwtService, revocations: Revocations): CredentialResolver {
  // One Principal object per cached claims object: the fast lane renders each Principal's answer once.
  const principals = new WeakMap<FirstPartyClaims, Principal>();
  return {
    name: 'first-party-jwt',
    async resolve(credential) {
      if (credential.scheme !== 'bearer' || credential.value.startsWith('sk_')) return undefined;
      // Tokens of another typ (OAuth at+jwt) belong to another resolver; everything else that
      // is not ours is verified here and fails as invalid_token.
      // (A token already verified here is ours: skip the header peek.)
      if (
        !jwt.signatureChecked(credential.value) &&
        credential.value.split('.').length === 3 &&
        !isJwtOfType(credential.value, FIRST_PARTY_TYP)
      ) {
        try {
          decodeProtectedHeader(credential.value);
          return undefined;
        } catch {
          /* not even a JWS header: ours to reject */
        }
      }
      return principalOfClaims(await jwt.verify(credential.value));
    },
    known: knownJwts(revocations, {
      signatureChecked(token) {
        const claims = jwt.signatureChecked(token);
        if (!claims) return undefined;
        let principal = principals.get(claims);
        if (!principal) principals.set(claims, (principal = principalOfClaims(claims)));
        return principal;
      },
      forget: (token) => jwt.forget(token),
    }),
  };
}

/** The Principal a verified first-party JWT stands for. */
export function principalOfClaims(claims: FirstPartyClaims): Principal {
  return {
    kind: claims.actor_type,
    id: claims.sub,
    actorType: claims.actor_type,
    scopes: claims.scope ? claims.scope.split(' ') : [],
    method: 'jwt',
    expiresAt: new Date(claims.exp * 1000),
    role: claims.role as Role | undefined,
    sid: claims.sid,
    jti: claims.jti,
    ...(claims.sign_in_exp !== undefined ? { signInEndsAt: new Date(claims.sign_in_exp * 1000) } : {}),
  };
}
