import { createHash } from 'node:crypto';
import { newId } from '../ids.ts';
import type { Role } from '../config.ts';
import { AppError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { PasswordHasher } from './passwords.ts';
import { assertPasswordPolicy } from './password-policy.ts';

/** Who signs in with a password: a back-office user or a shop customer. */
export type ActorType = 'user' | 'customer';

export interface Account {
  id: string;
  actor_type: ActorType;
  email: string;
  first_name: string | null;
  last_name: string | null;
  /** Back-office users only. */
  role?: Role;
  /** A disabled account cannot sign in, renew a sign-in, or act through its API keys. */
  disabled?: boolean;
  metadata?: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

/** What an administrator may change on an account. */
export type AccountChanges = Partial<Pick<Account, 'first_name' | 'last_name' | 'role' | 'disabled' | 'metadata'>>;

/** How an administrator looks for accounts: filters over the (small) account index, then one page. */
export interface AccountSearch {
  q?: string;
  role?: Role;
  disabled?: boolean;
  order: { field: 'created_at' | 'updated_at' | 'email'; desc: boolean };
  offset: number;
  limit: number;
}

interface StoredAccount extends Account {
  password_hash?: string;
}

export class DuplicateEmailError extends AppError {
  constructor(actorType: ActorType) {
    super(409, 'duplicate_email', `A ${actorType} with this email already exists`);
  }
}

const ID_PREFIX: Record<ActorType, string> = { user: 'user_', customer: 'cus_' };
export const normalizeEmail = (email: string) => email.trim().toLowerCase();
/** Names a stored password without revealing anything of it: changes whenever the password does. */
const stampOf = (stored: StoredAccount) =>
  createHash('sha256')
    .update(stored.password_hash ?? '')
    .digest('base64url')
    .slice(0, 22);

function publicView(stored: StoredAccount): Account {
  const { password_hash: _omit, ...account } = stored;
  return account;
}

/** Users (back office) and customers, keyed by id, unique by case-insensitive email per actor type. */
export function createAccounts(deps: { store: Store; passwords: PasswordHasher }) {
  const { store, passwords } = deps;

  async function load(id: string): Promise<StoredAccount | null> {
    const raw = await store.get(keys.account(id));
    return raw ? (JSON.parse(raw) as StoredAccount) : null;
  }

  async function findStoredByEmail(actorType: ActorType, email: string): Promise<StoredAccount | null> {
    const id = await store.get(keys.accountEmail(actorType, normalizeEmail(email)));
    return id ? load(id) : null;
  }

  return {
    async create(input: {
      actorType: ActorType;
      email: string;
      password?: string;
      passwordHash?: string;
      firstName?: string | null;
      lastName?: string | null;
      role?: Role;
    }): Promise<Account> {
      const email = normalizeEmail(input.email);
      const id = ID_PREFIX[input.actorType] + newId();
      // passwordHash: a hash made earlier (a two-step registration, whose route applied the policy),
      // so the clear password is never kept.
      if (input.password !== undefined) assertPasswordPolicy(input.password);
      const passwordHash = input.passwordHash ?? (input.password === undefined ? undefined : await passwords.hash(input.password));
      // The email key is claimed first and atomically: two concurrent sign-ups, one account.
      if (!(await store.put(keys.accountEmail(input.actorType, email), id, { ifAbsent: true })))
        throw new DuplicateEmailError(input.actorType);
      const now = new Date().toISOString();
      const record: StoredAccount = {
        id,
        actor_type: input.actorType,
        email,
        first_name: input.firstName ?? null,
        last_name: input.lastName ?? null,
        ...(input.actorType === 'user' ? { role: input.role ?? 'member' } : {}),
        created_at: now,
        updated_at: now,
        ...(passwordHash ? { password_hash: passwordHash } : {}),
      };
      try {
        await store.put(keys.account(id), JSON.stringify(record));
        await store.indexAdd(keys.accountIndex(input.actorType), id, Date.parse(now));
      } catch (err) {
        await store.delete(keys.accountEmail(input.actorType, email)).catch(() => {});
        throw err;
      }
      return publicView(record);
    },

    async get(id: string): Promise<Account | null> {
      const stored = await load(id);
      return stored ? publicView(stored) : null;
    },

    /**
     * The account if it may still act: null when it is gone or disabled. Every renewal of a sign-in
     * (refresh, a session's use, token to session, an API key's creator) asks here.
     */
    async active(id: string): Promise<Account | null> {
      const stored = await load(id);
      return stored && !stored.disabled ? publicView(stored) : null;
    },

    async findByEmail(actorType: ActorType, email: string): Promise<Account | null> {
      const stored = await findStoredByEmail(actorType, email);
      return stored ? publicView(stored) : null;
    },

    /** The account if the password matches; null otherwise, in the same time whether or not the email exists. */
    async authenticate(actorType: ActorType, email: string, password: string): Promise<Account | null> {
      const stored = await findStoredByEmail(actorType, email);
      const ok = await passwords.verify(stored?.password_hash, password);
      // A disabled account answers as a wrong password does: its state is not told to whoever knows the email.
      return ok && stored && !stored.disabled ? publicView(stored) : null;
    },

    async update(id: string, changes: AccountChanges & { password?: string }): Promise<Account | null> {
      if (changes.password !== undefined) assertPasswordPolicy(changes.password);
      const { password, ...fields } = changes;
      const passwordHash = password === undefined ? undefined : await passwords.hash(password);
      for (let attempt = 0; attempt < 5; attempt++) {
        const raw = await store.get(keys.account(id));
        if (!raw) return null;
        const stored = JSON.parse(raw) as StoredAccount;
        const next: StoredAccount = { ...stored, ...fields, updated_at: new Date().toISOString() };
        if (passwordHash !== undefined) next.password_hash = passwordHash;
        // Compare-and-swap: a concurrent change (a password reset, a role) is read again, not overwritten.
        if (await store.compareAndSwap(keys.account(id), raw, JSON.stringify(next))) return publicView(next);
      }
      return null;
    },

    /** Remove the account, its email claim and its listing entry; the removed account, or null. */
    async delete(id: string): Promise<Account | null> {
      const stored = await load(id);
      if (!stored) return null;
      await store.delete(keys.account(id));
      await store.indexRemove(keys.accountIndex(stored.actor_type), [id]);
      await store.delete(keys.accountEmail(stored.actor_type, stored.email));
      return publicView(stored);
    },

    async search(actorType: ActorType, f: AccountSearch): Promise<{ accounts: Account[]; count: number }> {
      const total = await store.indexCount(keys.accountIndex(actorType));
      const ids = await store.indexRange(keys.accountIndex(actorType), { offset: 0, limit: total });
      const q = f.q?.trim().toLowerCase();
      const matches = (await Promise.all(ids.map((id) => load(id))))
        .filter((a): a is StoredAccount => a !== null)
        .filter(
          (a) =>
            (!q || [a.email, a.first_name, a.last_name].some((v) => v?.toLowerCase().includes(q))) &&
            (f.role === undefined || (a.role ?? 'member') === f.role) &&
            (f.disabled === undefined || Boolean(a.disabled) === f.disabled),
        );
      const { field, desc } = f.order;
      matches.sort((a, b) => (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0) * (desc ? -1 : 1));
      return { accounts: matches.slice(f.offset, f.offset + f.limit).map(publicView), count: matches.length };
    },

    /** The stamp of the account's current password (see `replacePassword`); null for no account. */
    async passwordStamp(id: string): Promise<string | null> {
      const stored = await load(id);
      return stored ? stampOf(stored) : null;
    },

    /**
     * Set a new password only if the current one is still the one stamped `expectedStamp`
     * (compare-and-swap on the record): what a password-reset token was issued against. Null when
     * the password changed since (so every reset token of the old password dies with it) or the
     * account is gone; of two concurrent replacements, one wins.
     */
    async replacePassword(id: string, password: string, expectedStamp: string): Promise<Account | null> {
      assertPasswordPolicy(password);
      const passwordHash = await passwords.hash(password);
      for (let attempt = 0; attempt < 5; attempt++) {
        const raw = await store.get(keys.account(id));
        if (!raw) return null;
        const stored = JSON.parse(raw) as StoredAccount;
        if (stampOf(stored) !== expectedStamp) return null;
        const next: StoredAccount = { ...stored, password_hash: passwordHash, updated_at: new Date().toISOString() };
        // Another change of the record (a name) between the read and the write: read again.
        if (await store.compareAndSwap(keys.account(id), raw, JSON.stringify(next))) return publicView(next);
      }
      return null;
    },

    async list(actorType: ActorType, page: { offset: number; limit: number }): Promise<{ accounts: Account[]; count: number }> {
      const [ids, count] = await Promise.all([
        store.indexRange(keys.accountIndex(actorType), { ...page }),
        store.indexCount(keys.accountIndex(actorType)),
      ]);
      const loaded = await Promise.all(ids.map((id) => load(id)));
      return { accounts: loaded.filter((a): a is StoredAccount => a !== null).map(publicView), count };
    },
  };
}
export type Accounts = ReturnType<typeof createAccounts>;
