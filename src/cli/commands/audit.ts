import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'read and verify the audit trail (events:audit)',
  subcommands: ['tail', 'export', 'verify'],
  usage: `Usage:
  portcullis audit tail [--limit 20] [--type T] [--actor ID] [--subject ID]
  portcullis audit export [--type T] [--actor ID] [--subject ID] [--since ISO] [--until ISO]
  portcullis audit verify

tail prints the newest events as {audit_events, count}; export prints every matching event, one JSON
line each, oldest first; verify walks the hash chain and reports the first tampered, missing or
broken link (exit 1), or {ok: true, checked} on an intact stream.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        limit: { type: 'string' },
        type: { type: 'string' },
        actor: { type: 'string' },
        subject: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
      },
    });
    const date = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new UsageError(`--${flag} must be an ISO date`);
      return d;
    };
    const filters = {
      type: values.type,
      actorId: values.actor,
      subjectId: values.subject,
      since: date(values.since, 'since'),
      until: date(values.until, 'until'),
    };
    switch (sub) {
      case 'tail': {
        const limit = Number(values.limit ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
        const { events } = await (await services()).audit.list({ ...filters, limit });
        print({ audit_events: events, count: events.length });
        return 0;
      }
      case 'export': {
        const s = await services();
        let cursor: string | undefined;
        do {
          const page = await s.audit.list({ ...filters, cursor, limit: 500, order: 'asc' });
          for (const e of page.events) process.stdout.write(JSON.stringify(e) + '\n');
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return 0;
      }
      case 'verify': {
        const result = await (await services()).audit.verify();
        print(result);
        return result.ok ? 0 : 1;
      }
      default:
        throw new UsageError(sub ? `unknown audit command "${sub}"` : 'audit: a command is required');
    }
  },
};
