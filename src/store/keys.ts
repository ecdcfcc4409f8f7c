/**
 * Every key name Portcullis uses, in one place (the store adds REDIS_PREFIX in front).
 * `{...}` is a Redis Cluster hash tag: keys one atomic operation touches together share it.
 */
export const keys = {
  // accounts
  account: (id: string) => `account:${id}`,
  accountEmail: (actorType: string, email: string) => `account-email:${actorType}:${email.toLowerCase()}`,
  accountIndex: (actorType: string) => `account-index:${actorType}`,

  // first-party refresh-token families: one hash tag per family
  refreshFamily: (familyId: string) => `rtf:{${familyId}}`,
  refreshToken: (familyId: string, tokenHash: string) => `rtf:{${familyId}}:t:${tokenHash}`,
  refreshUserIndex: (userId: string) => `rtf-user:${userId}`,

  // revocations of issued JWTs, grouped by session/family/grant id (`sid` claim):
  // field "*" revokes the whole lineage, field <jti> one token. One HMGET answers both.
  revocations: (sid: string) => `rev:{${sid}}`,
} as const;
