import { REGISTRATION_TYP, type JwtService } from '../tokens/jwt.ts';
import { isJwtOfType } from './first-party-jwt.ts';
import type { CredentialResolver } from './principal.ts';

/**
 * Bearer registration tokens (`typ: registration+jwt`) -> a Principal of kind `registration`, which
 * every guard refuses unless it names that kind (only POST /store/customers and /auth/token/refresh do).
 */
export function registrationTokenResolver(jwt: Pick<JwtService, 'verifyRegistration'>): CredentialResolver {
  return {
    name: 'registration-token',
    async resolve(credential) {
      if (credential.scheme !== 'bearer' || !isJwtOfType(credential.value, REGISTRATION_TYP)) return undefined;
      const claims = await jwt.verifyRegistration(credential.value);
      return {
        kind: 'registration',
        id: claims.sub,
        actorType: claims.actor_type,
        scopes: [],
        method: 'jwt',
        expiresAt: new Date(claims.exp * 1000),
        sid: claims.sid,
        jti: claims.jti,
      };
    },
  };
}
