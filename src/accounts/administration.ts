import { randomUUID } from 'node:crypto';
import type { ApiKeys } from '../api-keys/api-keys.ts';
import { NotAllowedError, NotFoundError, ServiceUnavailableError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { Account, AccountChanges, Accounts, ActorType } from './accounts.ts';
import type { SignIns } from './sign-ins.ts';

const LOCK_TTL_SECONDS = 10;
const LOCK_ATTEMPTS = 50;
const LOCK_WAIT_MS = 20;

export class LastAdminError extends NotAllowedError {
  constructor() {
    super('The last active admin cannot be demoted, disabled or deleted: make another user an admin first');
  }
}

const isActiveAdmin = (a: Account) => a.actor_type === 'user' && a.role === 'admin' && !a.disabled;

/**
 * What an administrator does to an account, with what must follow from it: disabling or deleting
 * ends every sign-in and stops the account's API keys at once (suspended while disabled, revoked when
 * deleted); the last active admin is never demoted, disabled or deleted. Such changes take one lock
 * in the store, so two admins demoting each other at once cannot leave no admin, on any instance.
 */
export function createAccountAdministration(deps: {
  store: Store;
  accounts: Accounts;
  apiKeys: Pick<ApiKeys, 'suspendCreatedBy' | 'revokeCreatedBy'>;
  signIns: Pick<SignIns, 'endAll'>;
}) {
  const { store, accounts, apiKeys, signIns } = deps;

  async function mustGet(actorType: ActorType, id: string): Promise<Account> {
    const account = await accounts.get(id);
    if (!account || account.actor_type !== actorType)
      throw new NotFoundError(`${actorType === 'user' ? 'User' : 'Customer'} with id: ${id} was not found`);
    return account;
  }

  /**
   * Read the account and run `change` on it. When the change could take an admin away (`removes`),
   * both happen under the lock, and the change is refused if the account is the last active admin:
   * the account is read under the lock, so a promotion or demotion racing with it is seen.
   */
  async function keepingAnAdmin<T>(
    actorType: ActorType,
    id: string,
    removes: boolean,
    change: (current: Account) => Promise<T>,
  ): Promise<T> {
    if (actorType !== 'user' || !removes) return change(await mustGet(actorType, id));
    const token = randomUUID();
    for (let attempt = 0; !(await store.put(keys.adminRoleLock(), token, { ttlSeconds: LOCK_TTL_SECONDS, ifAbsent: true })); attempt++) {
      if (attempt >= LOCK_ATTEMPTS) throw new ServiceUnavailableError('Another change of an admin is in progress, retry');
      await new Promise((r) => setTimeout(r, LOCK_WAIT_MS));
    }
    try {
      const current = await mustGet(actorType, id);
      if (isActiveAdmin(current)) {
        const { accounts: admins } = await accounts.search('user', {
          role: 'admin',
          disabled: false,
          order: { field: 'created_at', desc: false },
          offset: 0,
          limit: Number.MAX_SAFE_INTEGER,
        });
        if (!admins.some((a) => a.id !== id)) throw new LastAdminError();
      }
      return await change(current);
    } finally {
      // Released only if still ours (it expires on its own when this instance dies holding it).
      if ((await store.get(keys.adminRoleLock()).catch(() => null)) === token) await store.delete(keys.adminRoleLock()).catch(() => {});
    }
  }

  return {
    get: mustGet,

    /** Change an account; what the change implies (sign-ins ended, keys stopped or restored) follows before it returns. */
    async update(actorType: ActorType, id: string, changes: AccountChanges): Promise<{ before: Account; after: Account }> {
      const removes = (changes.role !== undefined && changes.role !== 'admin') || changes.disabled === true;
      const { before, after } = await keepingAnAdmin(actorType, id, removes, async (current) => {
        const updated = await accounts.update(id, changes);
        if (!updated) throw new NotFoundError(`${actorType === 'user' ? 'User' : 'Customer'} with id: ${id} was not found`);
        return { before: current, after: updated };
      });
      // Sign-ins end before the keys are suspended: no live sign-in can make a key the suspension misses.
      // Repeated on a repeated disable, so one interrupted half way is completed by asking again.
      if (changes.disabled === true) {
        await signIns.endAll(id);
        await apiKeys.suspendCreatedBy(id, true);
      } else if (changes.disabled === false && before.disabled) {
        await apiKeys.suspendCreatedBy(id, false);
      }
      return { before, after };
    },

    /** Delete an account: its sign-ins end and its API keys are revoked (by `by`). */
    async delete(actorType: ActorType, id: string, by: string): Promise<Account> {
      // The account goes first, so nothing it holds can be renewed while the rest is ended.
      const account = await keepingAnAdmin(actorType, id, true, async (current) => {
        await accounts.delete(id);
        return current;
      });
      await signIns.endAll(id);
      await apiKeys.revokeCreatedBy(id, by);
      return account;
    },
  };
}
