import type { Config, Role } from '../config.ts';
import type { Account } from './accounts.ts';

const ROLE_ORDER: Role[] = ['member', 'developer', 'admin'];

/** The lower of two back-office roles. */
export function lowerRole(a: Role, b: Role): Role {
  return ROLE_ORDER.indexOf(a) <= ROLE_ORDER.indexOf(b) ? a : b;
}

/** What a credential derived from a sign-in may carry. */
export interface Standing {
  role?: Role;
  scopes: string[];
}

/**
 * What a sign-in may hold now: never more than it was granted, nor more than the account's current
 * role allows (a demoted admin's refresh mints member tokens; a promotion does not widen a sign-in
 * made before it). Customers hold the customer scopes at most.
 */
export function currentStanding(account: Account, granted: Standing, roleScopes: Config['roleScopes']): Standing {
  if (account.actor_type === 'customer') return { scopes: roleScopes.customer.filter((s) => granted.scopes.includes(s)) };
  const role = lowerRole(account.role ?? 'member', granted.role ?? 'member');
  return { role, scopes: roleScopes[role].filter((s) => granted.scopes.includes(s)) };
}
