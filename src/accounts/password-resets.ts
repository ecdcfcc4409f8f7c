import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import { InvalidResetTokenError } from '../errors.ts';
import type { SignIns } from './sign-ins.ts';
import { normalizeEmail, type Accounts, type ActorType } from './accounts.ts';
import { assertPasswordPolicy } from './password-policy.ts';

const RESET_TTL_SECONDS = 15 * 60;
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

interface ResetRecord {
  account_id: string;
  actor_type: ActorType;
  email: string;
  /** The stamp of the password this token replaces: once the password changes, the token is dead. */
  password_stamp: string;
  /** Where the reset page sends the user afterwards: the sign-in they started from (a same-origin /oauth/ path). */
  return_to?: string;
}

/** Only a path of our own OAuth pages: never another origin (`//host`, `/\\host`), never a script. */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  return /^\/oauth\/[A-Za-z0-9._~/-]*$/.test(value) && !value.includes('//') && !value.includes('..') ? value : undefined;
}

/**
 * Single-use, 15-minute password-reset tokens. Only the token's hash is stored; the clear token
 * leaves only in the `auth.password_reset` event (the stream `events:auth` and NOTIFY_WEBHOOK_URL),
 * for the service that emails it. It is never logged. A token is bound to the password it
 * replaces, so the first reset (or any password change) ends every other token of the account.
 */
export function createPasswordResets(deps: {
  store: Store;
  accounts: Accounts;
  signIns: SignIns;
  logger: Logger;
  /** NOTIFY_WEBHOOK_URL's sender (src/notify/webhook.ts): the reset token reaches the mailer there. */
  notify?: (name: string, data: Record<string, unknown>) => void;
  /** The emailed link for a token (RESET_URL_TEMPLATE); the event carries it as `url`. */
  resetUrl?: (token: string) => string;
}) {
  const { store, accounts, signIns, logger } = deps;
  async function request(actorType: ActorType, identifier: string, returnTo?: string): Promise<void> {
    const account = await accounts.findByEmail(actorType, identifier);
    if (!account) return;
    const stamp = await accounts.passwordStamp(account.id);
    if (!stamp) return;
    const token = randomBytes(32).toString('base64url');
    const back = safeReturnPath(returnTo);
    const record: ResetRecord = {
      account_id: account.id,
      actor_type: actorType,
      email: account.email,
      password_stamp: stamp,
      ...(back ? { return_to: back } : {}),
    };
    await store.put(keys.passwordReset(hash(token)), JSON.stringify(record), { ttlSeconds: RESET_TTL_SECONDS });
    const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000).toISOString();
    const event = {
      event: 'auth.password_reset',
      entity_id: account.email,
      actor_type: actorType,
      provider: 'emailpass',
      token,
      ...(deps.resetUrl ? { url: deps.resetUrl(token) } : {}),
      expires_at: expiresAt,
    };
    await store.publish(keys.eventStream('auth'), event);
    logger.info({ event: 'auth.password_reset', accountId: account.id }, 'password reset requested');
    const { event: name, ...data } = event;
    deps.notify?.(name, data);
  }

  const parse = (raw: string | null): ResetRecord | null => {
    const record = raw ? (JSON.parse(raw) as Partial<ResetRecord>) : null;
    return record?.account_id && record.password_stamp ? (record as ResetRecord) : null;
  };

  return {
    /**
     * Start a reset if the account exists; silently nothing otherwise (no account enumeration).
     * Runs after the answer is sent: the request takes the same time whether the account exists
     * or not. Failures are logged (without the token), never answered.
     */
    requestInBackground(actorType: ActorType, identifier: string, returnTo?: string): void {
      void request(actorType, identifier, returnTo).catch((err: Error) =>
        logger.warn({ event: 'auth.password_reset', error: err.name, message: err.message }, 'password reset request failed'),
      );
    },

    /** What a live token is for (without spending it): the reset page's account kind and where it returns. */
    async peek(token: string): Promise<{ actorType: ActorType; returnTo?: string } | null> {
      if (!token || token.length > 256) return null;
      const record = parse(await store.get(keys.passwordReset(hash(token))));
      return record ? { actorType: record.actor_type, returnTo: safeReturnPath(record.return_to) } : null;
    },

    /**
     * Set a new password with a reset token of `actorType` (and of `email`, when given): a weak
     * password is refused without using the token up (the user picks another and retries); then
     * the token is spent, and every sign-in of the account ends. InvalidResetTokenError otherwise.
     */
    async complete(input: {
      token: string;
      actorType: ActorType;
      email?: string;
      password: string;
    }): Promise<{ accountId: string; signInsEnded: number; returnTo?: string }> {
      const { token } = input;
      if (!token || token.length > 256) throw new InvalidResetTokenError();
      const opened = parse(await store.get(keys.passwordReset(hash(token))));
      if (!opened || opened.actor_type !== input.actorType) throw new InvalidResetTokenError();
      if (input.email && normalizeEmail(input.email) !== opened.email) throw new InvalidResetTokenError();
      assertPasswordPolicy(input.password);
      // A token works once.
      const reset = parse(await store.consume(keys.passwordReset(hash(token))));
      if (!reset) throw new InvalidResetTokenError();
      // Only while the password is still the one the token was issued against: the first reset
      // ends every other outstanding token of the account.
      if (!(await accounts.replacePassword(reset.account_id, input.password, reset.password_stamp))) throw new InvalidResetTokenError();
      // Whoever knew the old password (or holds a token or cookie from it) is signed out everywhere.
      const ended = await signIns.endAll(reset.account_id);
      logger.info(
        { event: 'auth.password_updated', accountId: reset.account_id, signInsEnded: ended },
        'password updated with a reset token',
      );
      return { accountId: reset.account_id, signInsEnded: ended, returnTo: safeReturnPath(reset.return_to) };
    },
  };
}
