import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { ulid } from 'ulid';
import { InvalidTokenError } from '../errors.ts';
import type { ActorType } from '../accounts/accounts.ts';
import { toTokenError } from './jwt.ts';
import { ALLOWED_ALGS, type Keystore } from './keystore.ts';
import type { Revocations } from './revocations.ts';

/**
 * The `typ` of registration tokens. Not `JWT`: a registration token names an identity and no actor,
 * so a verifier that accepts first-party tokens (ours, or a microservice checking `typ: 'JWT'` as the
 * README shows) must refuse it rather than take it for a signed-in user or customer.
 */
export const REGISTRATION_TYP = 'registration+jwt';
const CLOCK_TOLERANCE_SECONDS = 5;

export interface RegistrationClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  sid: string;
  actor_type: ActorType;
}

/**
 * Tokens `/auth/{actor}/emailpass/register` answers (step one of Medusa's two-step registration).
 * They carry Medusa's claims (`actor_id` "", no scope) and their own `sid`, so they can be revoked:
 * once the customer exists, its password reset or sign-out everywhere ends the token (it is recorded
 * as one of the customer's sign-ins), and exchanging it for a customer token ends it too.
 */
export function createRegistrationTokens(deps: { keystore: Keystore; revocations: Revocations; issuer: string; audience: string; ttlSeconds: number }) {
  const { keystore, revocations, issuer, audience } = deps;
  return {
    async issue(identityId: string, actorType: ActorType): Promise<string> {
      const signer = keystore.signingKey();
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope: '', actor_type: actorType, actor_id: '', auth_identity_id: identityId, app_metadata: {}, sid: ulid() })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: REGISTRATION_TYP })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(identityId)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + deps.ttlSeconds)
        .sign(signer.key);
    },

    /** Signature, claims and revocation (one HMGET): the token's claims, or InvalidTokenError/TokenExpiredError. */
    async verify(token: string): Promise<RegistrationClaims> {
      let claims: RegistrationClaims;
      try {
        const { payload } = await jwtVerify(token, keystore.verificationKeys, {
          issuer,
          audience,
          algorithms: [...ALLOWED_ALGS],
          typ: REGISTRATION_TYP,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'jti', 'exp', 'iat', 'sid'],
        });
        claims = payload as RegistrationClaims;
      } catch (err) {
        throw toTokenError(err);
      }
      if (claims.actor_type !== 'user' && claims.actor_type !== 'customer') throw new InvalidTokenError();
      if (await revocations.isRevoked(claims.sid, claims.jti)) throw new InvalidTokenError('The registration token has been used or revoked');
      return claims;
    },
  };
}
export type RegistrationTokens = ReturnType<typeof createRegistrationTokens>;
