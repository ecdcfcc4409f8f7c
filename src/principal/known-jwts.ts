import type { Revocations } from '../tokens/revocations.ts';
import type { KnownTokens, Principal } from './principal.ts';

/** A resolver's cache of Bearer JWTs whose signature and claims it has checked. */
export interface SignatureCheckedJwts {
  signatureChecked(token: string): Principal | undefined;
  forget(token: string): void;
}

/**
 * Known JWTs still hold unless their revocation record says otherwise: the signature and expiry
 * are settled by the cache, so the recheck is the one lookup the pipeline would make too.
 */
export function knownJwts(revocations: Revocations, cache: SignatureCheckedJwts): KnownTokens {
  return {
    tokenOf: (credential) => (credential.scheme === 'bearer' ? credential.value : undefined),
    principalOf: (token) => cache.signatureChecked(token),
    recheck: async (_token, principal) => ((await revocations.isRevoked(principal.sid!, principal.jti!)) ? null : principal),
    forget: (token) => cache.forget(token),
  };
}
