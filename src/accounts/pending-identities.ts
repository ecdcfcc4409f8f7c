import { newId } from '../ids.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { ActorType } from './accounts.ts';

/** An identity registered (step one) but not yet linked to an actor (step two). */
export interface PendingIdentity {
  id: string;
  actor_type: ActorType;
  email: string;
  password_hash: string;
  /** Set by step two; lets /auth/token/refresh turn the registration token into an actor token. */
  actor_id?: string;
  /** Set when the registration token was exchanged for an actor token: it is exchanged once. */
  exchanged?: true;
}

/**
 * An anonymous registration's state (the password hash waiting for step two) lives an hour:
 * enough to finish signing up, not a day of storage per request.
 */
const PENDING_TTL_SECONDS = 3600;

/** Two-step registration state: kept only as long as the registration token lives. */
export function createPendingIdentities(deps: { store: Store }) {
  const { store } = deps;
  return {
    async create(input: Omit<PendingIdentity, 'id' | 'actor_id'>): Promise<PendingIdentity> {
      const identity: PendingIdentity = { id: `authid_${newId()}`, ...input };
      await store.put(keys.authIdentity(identity.id), JSON.stringify(identity), { ttlSeconds: PENDING_TTL_SECONDS });
      return identity;
    },
    async get(id: string): Promise<PendingIdentity | null> {
      const raw = await store.get(keys.authIdentity(id));
      return raw ? (JSON.parse(raw) as PendingIdentity) : null;
    },
    /** Mark the registration token exchanged: of two concurrent exchanges, one wins. */
    async markExchanged(identity: PendingIdentity): Promise<boolean> {
      return store.compareAndSwap(
        keys.authIdentity(identity.id),
        JSON.stringify(identity),
        JSON.stringify({ ...identity, exchanged: true }),
      );
    },
    /** Link once: of two concurrent step-twos, one wins. */
    async link(identity: PendingIdentity, actorId: string): Promise<boolean> {
      return store.compareAndSwap(
        keys.authIdentity(identity.id),
        JSON.stringify(identity),
        JSON.stringify({ ...identity, actor_id: actorId }),
      );
    },
  };
}
