import type { Client } from 'oidc-provider';
import type { ActorType } from '../accounts/accounts.ts';

/** The kind of account an id names (account ids carry their kind: `user_...`, `cus_...`). */
export const actorTypeOfAccount = (accountId: string): ActorType => (accountId.startsWith('user_') ? 'user' : 'customer');

/** Who signs in through a client: back-office users for `--login-actor user`, customers otherwise. */
export const loginActorOf = (client: Client | undefined): ActorType => (client?.metadata().login_actor === 'user' ? 'user' : 'customer');
