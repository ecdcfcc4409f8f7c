import { jwtVerify, type JWTPayload } from 'jose';
import { InvalidTokenError } from '../http/errors.ts';
import { GRANT_CLAIM } from '../oauth/token-claims.ts';
import { ALLOWED_ALGS, type Keystore } from '../tokens/keystore.ts';
import { toTokenError } from '../tokens/jwt.ts';
import type { Revocations } from '../tokens/revocations.ts';
import { isJwtOfType } from './first-party-jwt.ts';
import type { CredentialResolver } from './principal.ts';

export const OAUTH_ACCESS_TOKEN_TYP = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 5;

interface OAuthAccessClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  client_id: string;
  scope?: string;
  grant_id?: string;
  actor_type?: 'user' | 'customer' | 'client';
}

/**
 * OAuth access tokens (RFC 9068 `typ: at+jwt`) minted by /oauth/token: our issuer, the resource
 * audience, our keys and algorithms only; then one HMGET for the grant's revocation record, so a
 * revoked grant's tokens stop at once. Client-credentials tokens speak for the client itself.
 */
export function oauthAccessTokenResolver(deps: { keystore: Keystore; revocations: Revocations; issuer: string; audience: string }): CredentialResolver {
  return {
    name: 'oauth-access-token',
    async resolve(credential) {
      if (credential.scheme !== 'bearer' || !isJwtOfType(credential.value, OAUTH_ACCESS_TOKEN_TYP)) return undefined;
      let claims: OAuthAccessClaims;
      try {
        const { payload } = await jwtVerify(credential.value, deps.keystore.verificationKeys, {
          issuer: deps.issuer,
          audience: deps.audience,
          algorithms: [...ALLOWED_ALGS],
          typ: OAUTH_ACCESS_TOKEN_TYP,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id', GRANT_CLAIM],
        });
        claims = payload as OAuthAccessClaims;
      } catch (err) {
        throw toTokenError(err);
      }
      const grantId = claims[GRANT_CLAIM];
      if (typeof grantId !== 'string' || typeof claims.client_id !== 'string') throw new InvalidTokenError();
      if (await deps.revocations.isRevoked(grantId, claims.jti)) throw new InvalidTokenError('The token has been revoked');
      const isClient = claims.actor_type === 'client';
      const kind = isClient ? 'client' : claims.actor_type === 'user' ? 'user' : 'customer';
      return {
        kind,
        id: claims.sub,
        actorType: kind,
        scopes: claims.scope ? claims.scope.split(' ').filter(Boolean) : [],
        method: 'oauth',
        expiresAt: new Date(claims.exp * 1000),
        clientId: claims.client_id,
        sid: grantId,
        jti: claims.jti,
      };
    },
  };
}
