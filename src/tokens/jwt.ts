import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { ActorType } from '../accounts/accounts.ts';
import { InvalidTokenError, TokenExpiredError } from '../errors.ts';
import { ALLOWED_ALGS, type Keystore } from './keystore.ts';
import type { Revocations } from './revocations.ts';
import { createVerifiedCache } from './verified-cache.ts';

/** Claims of a first-party JWT (login, Medusa token endpoints). */
export interface FirstPartyClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  scope: string;
  actor_type: ActorType;
  /** Medusa's name for the subject. */
  actor_id: string;
  /** Login session / refresh family: what logout and reuse detection revoke. */
  sid: string;
  auth_identity_id?: string;
  app_metadata?: Record<string, unknown>;
  /**
   * Medusa-lineage tokens only: the absolute end (NumericDate) of the sign-in, fixed at sign-in.
   * /auth/token/refresh refreshes only tokens that carry it, and never past it.
   */
  sign_in_exp?: number;
}

export interface IssuedJwt {
  token: string;
  jti: string;
  expiresAt: Date;
  expiresIn: number;
}

export const FIRST_PARTY_TYP = 'JWT';
const CLOCK_TOLERANCE_SECONDS = 5;
const CACHE_LIMIT = 10_000;

/**
 * Issues and verifies first-party JWTs. Verification checks the signature against our keys
 * (allowlisted algorithms, known kid), iss, aud, exp, nbf and typ, then the revocation record.
 * Signature checks are cached per token until it expires; the revocation check never is, so a
 * revocation is seen at once.
 */
export function createJwtService(deps: { keystore: Keystore; revocations: Revocations; issuer: string; audience: string }) {
  const { keystore, revocations, issuer, audience } = deps;
  const verified = createVerifiedCache<FirstPartyClaims>({ limit: CACHE_LIMIT });

  async function issue(claims: { sub: string; actorType: ActorType; scope: string[]; sid: string; ttlSeconds: number; extra?: Record<string, unknown> }): Promise<IssuedJwt> {
    const signer = keystore.signingKey();
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + claims.ttlSeconds;
    const token = await new SignJWT({
      ...claims.extra,
      scope: claims.scope.join(' '),
      actor_type: claims.actorType,
      actor_id: claims.sub,
      sid: claims.sid,
    })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: FIRST_PARTY_TYP })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(claims.sub)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(signer.key);
    return { token, jti, expiresAt: new Date(exp * 1000), expiresIn: claims.ttlSeconds };
  }

  async function verifySignature(token: string): Promise<FirstPartyClaims> {
    const cached = verified.get(token, CLOCK_TOLERANCE_SECONDS * 1000);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, keystore.verificationKeys, {
        issuer,
        audience,
        algorithms: [...ALLOWED_ALGS],
        typ: FIRST_PARTY_TYP,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'jti', 'exp', 'iat', 'sid'],
      });
      const claims = payload as FirstPartyClaims;
      if (claims.actor_type !== 'user' && claims.actor_type !== 'customer') throw new InvalidTokenError();
      // Every token we issue names its actor; one that does not (a registration token of an older
      // release) authenticates no one.
      if (claims.actor_id !== claims.sub) throw new InvalidTokenError();
      if (claims.sign_in_exp !== undefined && typeof claims.sign_in_exp !== 'number') throw new InvalidTokenError();
      verified.set(token, claims, claims.exp * 1000);
      return claims;
    } catch (err) {
      throw toTokenError(err);
    }
  }

  return {
    issue,
    /** Full verification, including revocation (one store round trip). */
    async verify(token: string): Promise<FirstPartyClaims> {
      const claims = await verifySignature(token);
      if (await revocations.isRevoked(claims.sid, claims.jti)) {
        // A revoked token never returns to the cache, so only tokens last seen alive reach
        // the verify fast lane (which checks revocation and spends the quota together).
        verified.delete(token);
        throw new InvalidTokenError('The token has been revoked');
      }
      return claims;
    },
    /**
     * Claims of a token whose signature this process has already checked and that has not
     * expired; undefined otherwise. Says nothing about revocation: the caller must check it.
     */
    signatureChecked(token: string): FirstPartyClaims | undefined {
      return verified.get(token);
    },
    /** Drop a token from the signature cache (it was found revoked). */
    forget(token: string): void {
      verified.delete(token);
    },
  };
}
export type JwtService = ReturnType<typeof createJwtService>;

/** jose errors -> our two token errors. Only expiry is reported as such; every other failure is invalid_token. */
export function toTokenError(err: unknown): Error {
  if (err instanceof InvalidTokenError || err instanceof TokenExpiredError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenExpiredError();
  return new InvalidTokenError();
}
