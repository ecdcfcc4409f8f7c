import { Readable } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import type { AuditEvent, AuditQuery } from '../../audit/audit.ts';
import { requireRole } from '../../http/guards.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { medusaErr } from '../medusa-shapes.ts';

const SECURITY = ['bearer', 'basic', 'session'];
const STREAM_ID = /^\d{1,15}-\d{1,15}$/;

const auditEventSchema = z
  .object({
    id: z.string(),
    seq: z.string(),
    time: z.string(),
    type: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: z.object({ type: z.string(), id: z.string(), on_behalf_of: z.string().optional() }),
    subject: z.object({ type: z.string(), id: z.string() }).nullable(),
    ip: z.string(),
    user_agent: z.string(),
    request_id: z.string(),
    data: z.record(z.string(), z.unknown()),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent', description: 'A security-relevant event; never a secret' });

const filters = {
  type: z.string().max(100).optional(),
  actor_id: z.string().max(200).optional(),
  subject_id: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
};

function queryOf(q: { type?: string; actor_id?: string; subject_id?: string; since?: string; until?: string }): Omit<AuditQuery, 'limit'> {
  return {
    type: q.type,
    actorId: q.actor_id,
    subjectId: q.subject_id,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
  };
}

function view(e: AuditEvent): z.infer<typeof auditEventSchema> {
  return {
    id: e.id,
    seq: e.seq,
    time: e.time ?? '',
    type: e.type,
    outcome: e.outcome === 'failure' ? 'failure' : 'success',
    actor: {
      type: e.actor_type ?? 'anonymous',
      id: e.actor_id ?? '',
      ...(e.actor_on_behalf_of ? { on_behalf_of: e.actor_on_behalf_of } : {}),
    },
    subject: e.subject_type ? { type: e.subject_type, id: e.subject_id ?? '' } : null,
    ip: e.ip ?? '',
    user_agent: e.user_agent ?? '',
    request_id: e.request_id ?? '',
    data: parseData(e.data),
    prev_hash: e.prev_hash,
    hash: e.hash,
  };
}
function parseData(raw: string | undefined): Record<string, unknown> {
  try {
    const v = JSON.parse(raw ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The audit trail, for admins: a filtered page (newest first, cursor = the last id seen) and an NDJSON export (oldest first). */
export function createAdminAuditEventsRouter(s: Services): Router {
  const router = new Router();
  const ops = s.operations;

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/audit-events',
      tags: ['admin'],
      summary: 'List audit events, newest first (admin only)',
      security: SECURITY,
      query: z.strictObject({
        ...filters,
        cursor: z.string().regex(STREAM_ID).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      responses: {
        200: {
          description: 'A page; `next_cursor` is null at the end',
          schema: z.object({ audit_events: z.array(auditEventSchema), next_cursor: z.string().nullable(), limit: z.number() }),
        },
        403: medusaErr('forbidden'),
      },
    },
    requireRole('admin'),
    async (ctx, { query }) => {
      const page = await s.audit.list({ ...queryOf(query), cursor: query.cursor, limit: query.limit });
      ctx.body = { audit_events: page.events.map(view), next_cursor: page.nextCursor, limit: query.limit };
    },
  );

  defineRoute(
    router,
    ops,
    {
      method: 'get',
      path: '/admin/audit-events/export',
      tags: ['admin'],
      summary: 'Export audit events as NDJSON, oldest first (admin only)',
      security: SECURITY,
      query: z.strictObject(filters),
      responses: {
        200: { description: 'One AuditEvent per line (application/x-ndjson)', schema: z.string() },
        403: medusaErr('forbidden'),
      },
    },
    requireRole('admin'),
    async (ctx, { query }) => {
      const base = queryOf(query);
      async function* lines() {
        let cursor: string | undefined;
        for (;;) {
          const page = await s.audit.list({ ...base, cursor, limit: 500, order: 'asc' });
          for (const e of page.events) yield JSON.stringify(view(e)) + '\n';
          if (!page.nextCursor) return;
          cursor = page.nextCursor;
        }
      }
      ctx.type = 'application/x-ndjson';
      ctx.body = Readable.from(lines());
    },
  );

  return router;
}
