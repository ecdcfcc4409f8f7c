import { createHash, randomBytes } from 'node:crypto';
import type { Services } from '../../services.ts';
import { keys } from '../../store/keys.ts';
import type { ActorType } from '../../accounts/accounts.ts';

const RESET_TTL_SECONDS = 15 * 60;
const WEBHOOK_TIMEOUT_MS = 5000;
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

interface ResetRecord {
  account_id: string;
  actor_type: ActorType;
  email: string;
  /** The stamp of the password this token replaces: once the password changes, the token is dead. */
  password_stamp: string;
}

/**
 * Single-use, 15-minute password-reset tokens. Only the token's hash is stored; the clear token
 * leaves only in the `auth.password_reset` event (the stream `events:auth` and NOTIFY_WEBHOOK_URL),
 * for the service that emails it. It is never logged. A token is bound to the password it
 * replaces, so the first reset (or any password change) ends every other token of the account.
 */
export function createPasswordResets(s: Services) {
  async function request(actorType: ActorType, identifier: string): Promise<void> {
    const account = await s.accounts.findByEmail(actorType, identifier);
    if (!account) return;
    const stamp = await s.accounts.passwordStamp(account.id);
    if (!stamp) return;
    const token = randomBytes(32).toString('base64url');
    const record: ResetRecord = { account_id: account.id, actor_type: actorType, email: account.email, password_stamp: stamp };
    await s.store.put(keys.passwordReset(hash(token)), JSON.stringify(record), { ttlSeconds: RESET_TTL_SECONDS });
    const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000).toISOString();
    const event = { event: 'auth.password_reset', entity_id: account.email, actor_type: actorType, provider: 'emailpass', token, expires_at: expiresAt };
    await s.store.publish(keys.eventStream('auth'), event);
    s.logger.info({ event: 'auth.password_reset', accountId: account.id }, 'password reset requested');
    if (s.config.notifyWebhookUrl) void notify(s, event);
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
    requestInBackground(actorType: ActorType, identifier: string): void {
      void request(actorType, identifier).catch((err: Error) => s.logger.warn({ event: 'auth.password_reset', error: err.name, message: err.message }, 'password reset request failed'));
    },

    /** The record a reset token opens, without using it up (to check the request before spending the token). */
    async peek(token: string): Promise<ResetRecord | null> {
      if (!token || token.length > 256) return null;
      return parse(await s.store.get(keys.passwordReset(hash(token))));
    },

    /** The account a reset token opens, consuming it: a token works once. */
    async consume(token: string): Promise<ResetRecord | null> {
      if (!token || token.length > 256) return null;
      return parse(await s.store.consume(keys.passwordReset(hash(token))));
    },
  };
}

async function notify(s: Services, event: Record<string, string>): Promise<void> {
  const { event: name, ...data } = event;
  try {
    const res = await fetch(s.config.notifyWebhookUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: name, data }),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    if (!res.ok) s.logger.warn({ event: name, status: res.status }, 'notify webhook refused the event');
  } catch (err) {
    s.logger.warn({ event: name, error: (err as Error).name }, 'notify webhook unreachable');
  }
}
