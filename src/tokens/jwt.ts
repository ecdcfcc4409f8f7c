import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { newId } from '../ids.ts';
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
/**
 * The `typ` of registration tokens. Not `JWT`: a registration token names an identity and no actor,
 * so a verifier that accepts first-party tokens (ours, or a microservice checking `typ: 'JWT'` as the
 * README shows) must refuse it rather than take it for a signed-in user or customer.
 */
export const REGISTRATION_TYP = 'registration+jwt';

/** Claims of a registration token: an identity (`sub`), no actor and no scope, and its own `sid`. */
interface RegistrationClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  sid: string;
  actor_type: ActorType;
}

const CLOCK_TOLERANCE_SECONDS = 5;
const CACHE_LIMIT = 10_000;

/**
 * Issues and verifies first-party JWTs: the access tokens of a sign-in (`typ: JWT`) and the
 * registration tokens of Medusa's two-step registration (`typ: registration+jwt`), with one set of
 * rules (our signing key, iss, aud, sub, jti, iat, exp). Verification checks the signature against
 * our keys (allowlisted algorithms, known kid), iss, aud, exp, nbf and typ, then the revocation
 * record. Signature checks of access tokens are cached per token until it expires; the revocation
 * check never is, so a revocation is seen at once.
 */
export function createJwtService(deps: {
  keystore: Keystore;
  revocations: Revocations;
  issuer: string;
  audience: string;
  registrationTtlSeconds: number;
}) {
  const { keystore, revocations, issuer, audience } = deps;
  const verified = createVerifiedCache<FirstPartyClaims>({ limit: CACHE_LIMIT, keyUsable: (kid) => keystore.hasKey(kid) });

  async function sign(typ: string, sub: string, ttlSeconds: number, payload: JWTPayload): Promise<IssuedJwt> {
    const signer = keystore.signingKey();
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(sub)
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(signer.key);
    return { token, jti, expiresAt: new Date(exp * 1000), expiresIn: ttlSeconds };
  }

  /** Signature, typ and registered claims, and the kid that signed them; jose's errors become ours. */
  async function verifyAs<T extends JWTPayload>(token: string, typ: string): Promise<{ claims: T; kid: string }> {
    const { payload, protectedHeader } = await jwtVerify(token, keystore.verificationKeys, {
      issuer,
      audience,
      algorithms: [...ALLOWED_ALGS],
      typ,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'jti', 'exp', 'iat', 'sid'],
    });
    return { claims: payload as T, kid: protectedHeader.kid! };
  }

  function issue(claims: {
    sub: string;
    actorType: ActorType;
    scope: string[];
    sid: string;
    ttlSeconds: number;
    extra?: Record<string, unknown>;
  }): Promise<IssuedJwt> {
    return sign(FIRST_PARTY_TYP, claims.sub, claims.ttlSeconds, {
      ...claims.extra,
      scope: claims.scope.join(' '),
      actor_type: claims.actorType,
      actor_id: claims.sub,
      sid: claims.sid,
    });
  }

  async function verifySignature(token: string): Promise<FirstPartyClaims> {
    const cached = verified.get(token, CLOCK_TOLERANCE_SECONDS * 1000);
    if (cached) return cached;
    try {
      const { claims, kid } = await verifyAs<FirstPartyClaims>(token, FIRST_PARTY_TYP);
      if (claims.actor_type !== 'user' && claims.actor_type !== 'customer') throw new InvalidTokenError();
      // Every token we issue names its actor; one that does not (a registration token of an older
      // release) authenticates no one.
      if (claims.actor_id !== claims.sub) throw new InvalidTokenError();
      if (claims.sign_in_exp !== undefined && typeof claims.sign_in_exp !== 'number') throw new InvalidTokenError();
      verified.set(token, claims, claims.exp * 1000, kid);
      return claims;
    } catch (err) {
      throw toTokenError(err);
    }
  }

  return {
    issue,
    /**
     * The token `/auth/{actor}/emailpass/register` answers (step one of Medusa's two-step
     * registration): Medusa's claims with no actor yet (`actor_id` "", no scope), so it opens nothing
     * but the actor's creation (POST /store/customers) and /auth/token/refresh. Its own `sid` makes
     * it revocable: once the customer exists, its password reset or sign-out everywhere ends the token
     * (it is recorded as one of the customer's sign-ins), and exchanging it for a customer token too.
     */
    async issueRegistration(identityId: string, actorType: ActorType): Promise<string> {
      const payload = { scope: '', actor_type: actorType, actor_id: '', auth_identity_id: identityId, app_metadata: {}, sid: newId() };
      return (await sign(REGISTRATION_TYP, identityId, deps.registrationTtlSeconds, payload)).token;
    },
    /** A registration token's claims after signature, claims and revocation (one HMGET), or InvalidTokenError/TokenExpiredError. */
    async verifyRegistration(token: string): Promise<RegistrationClaims> {
      let claims: RegistrationClaims;
      try {
        ({ claims } = await verifyAs<RegistrationClaims>(token, REGISTRATION_TYP));
      } catch (err) {
        throw toTokenError(err);
      }
      if (claims.actor_type !== 'user' && claims.actor_type !== 'customer') throw new InvalidTokenError();
      if (await revocations.isRevoked(claims.sid, claims.jti))
        throw new InvalidTokenError('The registration token has been used or revoked');
      return claims;
    },
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
