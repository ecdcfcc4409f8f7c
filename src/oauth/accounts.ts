import type { FindAccount } from 'oidc-provider';
import type { Accounts } from '../accounts/accounts.ts';

/** Claims per scope: what the ID token and userinfo may say about the account. */
export const CLAIMS = {
  // Every token says which kind of account it speaks for (a back-office user or a customer).
  openid: ['sub', 'actor_type'],
  profile: ['name', 'given_name', 'family_name', 'updated_at'],
  email: ['email', 'email_verified'],
};

/** oidc-provider's findAccount on our accounts store (users and customers alike; ids are unique). */
export function createFindAccount(accounts: Accounts): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.active(sub);
    if (!account) return undefined;
    return {
      accountId: account.id,
      async claims() {
        const name = [account.first_name, account.last_name].filter(Boolean).join(' ');
        return {
          sub: account.id,
          actor_type: account.actor_type,
          email: account.email,
          // We never proved the address belongs to them; say so rather than guess.
          email_verified: false,
          ...(name ? { name } : {}),
          ...(account.first_name ? { given_name: account.first_name } : {}),
          ...(account.last_name ? { family_name: account.last_name } : {}),
          updated_at: Math.floor(Date.parse(account.updated_at) / 1000),
        };
      },
    };
  };
}
