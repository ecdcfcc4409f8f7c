import { userInfo } from 'node:os';
import type { AuditActor } from '../audit/audit.ts';

/**
 * Who the audit trail says made a change from the shell: the CLI, run by this OS user. The CLI
 * holds the store itself, so no credential names a person; the OS account is the best witness
 * there is (empty when the system has none for this uid, e.g. some containers).
 */
export function cliActor(): AuditActor {
  let id = '';
  try {
    id = userInfo().username;
  } catch {
    // No passwd entry for this uid.
  }
  return { type: 'cli', id };
}
