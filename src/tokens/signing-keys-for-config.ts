import type { Audit } from '../audit/audit.ts';
import { longestAccessTtl, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { ID_TOKEN_TTL } from '../oauth/ttl.ts';
import type { Store } from '../store/port.ts';
import { createStaticSigningKeys, createStoredSigningKeys, type SigningKeys } from './signing-keys.ts';

/** Past the longest lifetime, a little more for the verifiers' clock tolerance (ours is 5 s). */
const RETIRE_MARGIN_SECONDS = 60;

/** The signing keys the configuration asks for (SIGNING_KEYS): kept in the store, or static from JWKS/JWKS_FILE. */
export function createSigningKeys(
  config: Config,
  deps: { store: Store; logger: Logger; audit: Pick<Audit, 'record'> },
): Promise<SigningKeys> {
  if (config.signingKeys.mode === 'static') return createStaticSigningKeys(config.jwks);
  const { signingKeys: o } = config;
  return createStoredSigningKeys({
    ...deps,
    keyEncryptionKey: o.keyEncryptionKey,
    previousKeyEncryptionKey: o.previousKeyEncryptionKey,
    algorithms: o.algorithms,
    leadTimeMs: o.leadTime * 1000,
    // A key stops being published only once every token it signed has expired.
    retireAfterMs: (Math.max(longestAccessTtl(config), ID_TOKEN_TTL) + RETIRE_MARGIN_SECONDS) * 1000,
    rotationMs: o.rotation === undefined ? undefined : o.rotation * 1000,
    importJwks: config.jwks,
  });
}
