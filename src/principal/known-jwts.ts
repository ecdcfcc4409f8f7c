import type { Revocations } from '../tokens/revocations.ts';
import type { Credential, KnownTokens, Principal } from './principal.ts';

/** A resolver's cache of Bearer JWTs whose signature and claims it has checked. */
export interface SignatureCheckedJwts {
  signatureChecked(token: string): Principal | undefined;
  forget(token: string): void;
}

const bearerOf = (credential: Credential) => (credential.scheme === 'bearer' ? credential.value : undefined);

/**
 * Known JWTs still hold unless their revocation record says otherwise: the signature and expiry
 * are settled by the cache, so the recheck is the one lookup the pipeline would make too.
 */
export function knownJwts(revocations: Revocations, cache: SignatureCheckedJwts): KnownTokens {
  return {
    principalOf(credential) {
      const token = bearerOf(credential);
      return token === undefined ? undefined : cache.signatureChecked(token);
    },
    recheck: async (_credential, principal) => ((await revocations.isRevoked(principal.sid!, principal.jti!)) ? null : principal),
    forget(credential) {
      const token = bearerOf(credential);
      if (token !== undefined) cache.forget(token);
    },
  };
}
