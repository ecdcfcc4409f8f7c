import type { Audit, AuditRequest } from '../audit/audit.ts';
import type { ActorType } from './accounts.ts';
import type { createPasswordResets } from './password-resets.ts';

/**
 * A password-reset request from anyone, through the API or the reset page alike: admitted by the
 * reset quotas (past them it is dropped silently: the answer never says whether it counted), sent
 * in the background so a known and an unknown account take the same time, and recorded in the audit
 * trail without the typed email (its pseudonym, as for failed logins). Dropped requests are recorded
 * at most once a minute per address, so a flood cannot grow the stream.
 */
export function createResetRequests(deps: {
  admit: (ip: string, actorType: ActorType, email: string) => Promise<boolean>;
  resets: Pick<ReturnType<typeof createPasswordResets>, 'requestInBackground'>;
  audit: Audit;
}) {
  const { admit, resets, audit } = deps;
  return {
    async request(input: { ip: string; actorType: ActorType; email: string; returnTo?: string; request: AuditRequest }): Promise<void> {
      const email = input.email.trim();
      const admitted = !!email && (await admit(input.ip, input.actorType, email));
      if (admitted) resets.requestInBackground(input.actorType, email, input.returnTo);
      const entry = {
        request: input.request,
        outcome: admitted ? ('success' as const) : ('failure' as const),
        data: {
          actor_type: input.actorType,
          ...(email ? { email_hash: audit.pseudonym(`${input.actorType}:${email.toLowerCase()}`) } : {}),
          ...(admitted ? {} : { reason: email ? 'throttled' : 'no_email' }),
        },
      };
      if (admitted) await audit.record('auth.password_reset.requested', entry);
      else await audit.recordAtMostEvery('auth.password_reset.requested', `refused:${input.ip}`, 60, entry);
    },
  };
}
