import type { Configuration } from 'oidc-provider';
import { GRANT_CLAIM } from '../tokens/claims.ts';
import { actorTypeOfAccount } from './login-actor.ts';

/**
 * Claims our JWT access tokens carry besides RFC 9068's: the grant id, checked against revocations
 * on every verify, and who the subject is (a user, a customer, or the client itself).
 */
export const extraTokenClaims: NonNullable<Configuration['extraTokenClaims']> = async (ctx, token) => {
  if (token.kind === 'ClientCredentials') {
    const lineage = ctx.oidc.client?.metadata().lineage as string | undefined;
    return { [GRANT_CLAIM]: lineage, actor_type: 'client' };
  }
  const { accountId, grantId } = token as { accountId?: string; grantId?: string };
  return {
    [GRANT_CLAIM]: grantId,
    actor_type: actorTypeOfAccount(accountId ?? ''),
  };
};
