import type { Context } from 'koa';
import type { AuditRequest } from '../audit/audit.ts';

/** What the audit trail records of a request: its client address (as TRUST_PROXY reads it), user agent and request id. */
export function auditRequest(ctx: Context): AuditRequest {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined };
}
