/**
 * Every key name Portcullis uses, in one place (the store adds REDIS_PREFIX in front).
 * `{...}` is a Redis Cluster hash tag: keys one atomic operation touches together share it.
 */
export const keys = {
  // accounts
  account: (id: string) => `account:${id}`,
  accountEmail: (actorType: string, email: string) => `account-email:${actorType}:${email.toLowerCase()}`,
  accountIndex: (actorType: string) => `account-index:${actorType}`,
  /** Sorted set of an account's live sign-ins (`<kind>:<ref>`, score = expiry ms): what a password reset ends. */
  accountSignIns: (accountId: string) => `signins:${accountId}`,
  /** One sign-in's record (kind, created, last used, client address, user agent), by its opaque admin id. */
  signInRecord: (accountId: string, signInId: string) => `signin:${accountId}:${signInId}`,
  /** Held (seconds) while a change that could remove an admin checks that another admin remains. */
  adminRoleLock: () => 'lock:admin-role',

  // first-party refresh-token families: one hash tag per family
  refreshFamily: (familyId: string) => `rtf:{${familyId}}`,
  refreshToken: (familyId: string, tokenHash: string) => `rtf:{${familyId}}:t:${tokenHash}`,
  /** Sorted set of a family's token hashes (score = issued ms): what ending the family deletes with it, without a scan. */
  refreshTokenIndex: (familyId: string) => `rtf:{${familyId}}:tokens`,

  // revocations of issued JWTs, grouped by session/family/grant id (`sid` claim):
  // field "*" revokes the whole lineage, field <jti> one token. One HMGET answers both.
  revocations: (sid: string) => `rev:{${sid}}`,

  // API keys. The record lives under its token's keyed hash, so verifying a key is
  // one GET; `apiKeyId` points from the public id to that hash for the admin routes.
  apiKeyByHash: (tokenHash: string) => `apikey:h:${tokenHash}`,
  apiKeyId: (id: string) => `apikey:id:${id}`,
  apiKeyIndex: () => 'apikey-index',
  /** Hash: field = key id, value = last use (ISO), written at most once a minute per key and process. */
  apiKeyLastUsed: () => 'apikey-last-used',
  salesChannel: (id: string) => `sales-channel:${id}`,
  salesChannelIndex: () => 'sales-channel-index',
  // Medusa /auth: cookie sessions (by hash of the cookie's id), pending two-step registrations,
  // single-use password-reset tokens (by hash).
  session: (idHash: string) => `session:${idHash}`,
  authIdentity: (id: string) => `auth-identity:${id}`,
  passwordReset: (tokenHash: string) => `pwreset:${tokenHash}`,
  /** Streams other services read (XREAD): `auth` (auth.password_reset), `audit` (api_key.*). */
  eventStream: (name: 'auth' | 'audit') => `events:${name}`,
  /** The latest audit events of one account (a capped copy, for its activity list). */
  accountEvents: (accountId: string) => `events:account:${accountId}`,
  /** Held while a bounded audit event may not be recorded again (`audit.recordAtMostEvery`): a hash of its type and key. */
  auditOnce: (hash: string) => `audit-once:${hash}`,

  // Rate limits: one GCRA cell per subject and quota, e.g. `rl:{api_key:ak_1}:1000/3600s`
  // (the quota is in the name so changing it starts a fresh count instead of reinterpreting an old one).
  rateLimit: (subject: string, policy: string) => `rl:{${subject}}:${policy}`,
  /** Quota refusals of every instance, one field per hour (the console's overview). */
  quotaRefusalTally: () => 'stats:quota-refusals',
  // Failed-login back-off: per account (hash of actor type + email, so no address is stored) and per
  // client address. Each is one "failures:lastMs" string updated by compare-and-swap.
  loginThrottle: (scope: 'acct' | 'ip', id: string) => `lt:{${scope}:${id}}`,

  // OAuth / OIDC. oidc-provider models by model name and record ref (the keyed hash of
  // the id, src/oauth/record-refs.ts; a grant's own id); a grant's record and the index of its
  // tokens share the grant's hash tag; per-client grant index for "delete client".
  oauthModel: (model: string, id: string) => `oidc:${model}:{${id}}`,
  oauthGrantMembers: (grantId: string) => `oidc:grant-members:{${grantId}}`,
  oauthSessionUid: (uid: string) => `oidc:session-uid:{${uid}}`,
  oauthUserCode: (userCode: string) => `oidc:user-code:{${userCode}}`,
  oauthClientGrants: (clientId: string) => `oidc:client-grants:{${clientId}}`,
  /** Hash: field = grant id, value = when it was first stored (ms); what an admin lists and withdraws per account. */
  oauthAccountGrants: (accountId: string) => `oidc:account-grants:{${accountId}}`,
  /** Registered OAuth clients (our registry; the provider reads it through the Client adapter). */
  oauthClient: (clientId: string) => `oauth-client:${clientId}`,
  oauthClientIndex: () => 'oauth-client-index',

  // Signing keys: one record (every key, its timings, its private part encrypted) replaced by
  // compare-and-swap, the counter every instance polls, and the lock of the scheduled rotation.
  signingKeys: () => 'signing-keys',
  signingKeysVersion: () => 'signing-keys:version',
  signingKeyRotationLock: () => 'lock:signing-key-rotation',
} as const;
