import { jwtVerify, type JWTPayload } from 'jose';
import { InvalidTokenError } from '../errors.ts';
import { GRANT_CLAIM } from '../tokens/claims.ts';
import { ALLOWED_ALGS, type Keystore } from '../tokens/keystore.ts';
import { toTokenError } from '../tokens/jwt.ts';
import type { Revocations } from '../tokens/revocations.ts';
import { isJwtOfType } from './first-party-jwt.ts';
import { knownJwts } from './known-jwts.ts';
import type { CredentialResolver, Principal } from './principal.ts';
import { createVerifiedCache } from '../tokens/verified-cache.ts';

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
 * The signature check is cached per token until it expires; the revocation check never is.
 */
export function oauthAccessTokenResolver(deps: {
  keystore: Keystore;
  revocations: Revocations;
  issuer: string;
  audience: string;
}): CredentialResolver {
  const verified = createVerifiedCache<Principal>({ keyUsable: (kid) => deps.keystore.hasKey(kid) });

  async function verifySignature(token: string): Promise<Principal> {
    const cached = verified.get(token, CLOCK_TOLERANCE_SECONDS * 1000);
    if (cached) return cached;
    const { claims, kid } = await verifyClaims(token);
    const principal = principalOf(claims);
    verified.set(token, principal, principal.expiresAt!.getTime(), kid);
    return principal;
  }

  async function verifyClaims(token: string): Promise<{ claims: OAuthAccessClaims; kid: string }> {
    let claims: OAuthAccessClaims;
    let kid: string;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, deps.keystore.verificationKeys, {
        issuer: deps.issuer,
        audience: deps.audience,
        algorithms: [...ALLOWED_ALGS],
        typ: OAUTH_ACCESS_TOKEN_TYP,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id', GRANT_CLAIM],
      });
      claims = payload as OAuthAccessClaims;
      kid = protectedHeader.kid!;
    } catch (err) {
      throw toTokenError(err);
    }
    if (typeof claims[GRANT_CLAIM] !== 'string' || typeof claims.client_id !== 'string') throw new InvalidTokenError();
    // A sender-constrained token (DPoP `cnf.jkt`, mTLS `cnf.x5t#S256`) is refused: no proof is checked here.
    if (claims.cnf !== undefined) throw new InvalidTokenError('Sender-constrained tokens are not accepted');
    return { claims, kid };
  }

  function principalOf(claims: OAuthAccessClaims): Principal {
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
      sid: claims[GRANT_CLAIM] as string,
      jti: claims.jti,
    };
  }

  return {
    name: 'oauth-access-token',
    async resolve(credential) {
      if (credential.scheme !== 'bearer') return undefined;
      if (!verified.get(credential.value, CLOCK_TOLERANCE_SECONDS * 1000) && !isJwtOfType(credential.value, OAUTH_ACCESS_TOKEN_TYP))
        return undefined;
      const principal = await verifySignature(credential.value);
      if (await deps.revocations.isRevoked(principal.sid!, principal.jti!)) {
        verified.delete(credential.value);
        throw new InvalidTokenError('The token has been revoked');
      }
      return principal;
    },
    known: knownJwts(deps.revocations, { signatureChecked: (token) => verified.get(token), forget: (token) => verified.delete(token) }),
  };
}
