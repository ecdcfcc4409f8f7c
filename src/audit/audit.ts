import type { Logger } from '../logger.ts';
import type { Principal } from '../principal/principal.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';

/** Who did it: the principal of the request (an API key acts for its creator, and is named too). */
type AuditActor = Pick<Principal, 'id' | 'method' | 'keyId'>;

/**
 * The audit trail: who changed what, as a line in the log and an entry in the `events:audit` stream.
 * Fields are flat strings (a stream entry's shape): the event, what it is about (`subject`), who
 * did it, when, and the change (`data`). Never a secret: callers pass ids, not tokens. A store
 * failure loses the stream entry, not the change (the log line is written first).
 */
export function createAudit(deps: { store: Store; logger: Logger }) {
  const { store, logger } = deps;
  return {
    async record(
      event: string,
      entry: { actor: AuditActor; subject: Record<string, string>; data?: Record<string, string> },
    ): Promise<void> {
      const { actor } = entry;
      const fields = {
        event,
        ...entry.subject,
        actor_id: actor.id,
        auth_method: actor.method,
        ...(actor.keyId ? { via_key_id: actor.keyId } : {}),
        at: new Date().toISOString(),
        ...entry.data,
      };
      logger.info(fields, event);
      await store
        .publish(keys.eventStream('audit'), fields)
        .catch((err: unknown) => logger.warn({ err, event }, 'audit event not published'));
    },
  };
}
