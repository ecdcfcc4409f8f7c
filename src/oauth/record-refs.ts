import { createHmac } from 'node:crypto';

/** Models whose id is not a credential: grants are named in every JWT's `grant_id`, clients are public. */
const PUBLIC_IDS = new Set(['Grant', 'Client']);

/**
 * The name under which an oidc-provider record is stored. Most ids are bearer credentials (a
 * refresh token, a code, the session cookie...), so a record is stored under a keyed hash of its
 * id (HMAC-SHA-256 under API_KEY_PEPPER, as secret API keys are): a copy of the database, or a SCAN
 * of it, yields no working token. The model name is part of the hash, so one id never names two
 * records.
 */
export function createRecordRefs(pepper: string) {
  return (model: string, id: string): string =>
    PUBLIC_IDS.has(model) ? id : createHmac('sha256', pepper).update(`oidc:${model}:${id}`).digest('base64url');
}
export type RecordRef = ReturnType<typeof createRecordRefs>;
