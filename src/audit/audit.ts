import { createHash, createHmac } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { Principal } from '../principal/principal.ts';
import { keys } from '../store/keys.ts';
import type { ChainTip, Store, StreamEntry } from '../store/port.ts';

/**
 * Who did it. An API key acts for its creator (`on_behalf_of`); no credential at all is `anonymous`;
 * an operator's `portcullis` command is `cli` (its id: the OS user that ran it).
 */
export interface AuditActor {
  type: 'user' | 'customer' | 'api_key' | 'oauth_client' | 'cli' | 'anonymous';
  id: string;
  on_behalf_of?: string;
}

/** What it is about, e.g. `{type: 'api_key', id: 'apk_…'}`. */
export interface AuditSubject {
  type: string;
  id: string;
}

/** Where the request came from; the HTTP side builds it (`auditRequest(ctx)`), domain code passes it on. */
export interface AuditRequest {
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AuditEntry {
  /** A Principal (the request's credential) or an explicit actor; omitted = anonymous. */
  actor?: AuditActor | Pick<Principal, 'kind' | 'id' | 'method' | 'keyId'>;
  subject?: AuditSubject;
  outcome?: 'success' | 'failure';
  request?: AuditRequest;
  /** Details: ids, names, reason classes. Never a secret, password, token or key. */
  data?: Record<string, string | number | boolean | string[] | undefined>;
}

/** An event as stored and served: every field a string, `data` as JSON. */
export type AuditEvent = Record<string, string> & { id: string; type: string; hash: string; prev_hash: string; seq: string };

/** The cap on the stream's length, whatever the retention (about; Redis trims whole nodes). */
const AUDIT_STREAM_MAX_LEN = 1_000_000;
const VERIFY_PAGE = 1000;

const ANONYMOUS: AuditActor = { type: 'anonymous', id: '' };

function actorOf(actor: AuditEntry['actor']): AuditActor {
  if (!actor) return ANONYMOUS;
  if ('type' in actor) return actor;
  if (actor.method === 'api_key' && actor.keyId) return { type: 'api_key', id: actor.keyId, on_behalf_of: actor.id };
  if (actor.kind === 'client') return { type: 'oauth_client', id: actor.id };
  if (actor.kind === 'customer') return { type: 'customer', id: actor.id };
  return { type: 'user', id: actor.id };
}

/** The event's fields in key order, without its own hash: what its hash (and its successor's `prev_hash`) is taken over. */
export function canonicalJson(fields: Record<string, string>): string {
  const { hash: _hash, ...rest } = fields;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The audit trail: every security-relevant event, as a log line and an entry in the `events:audit`
 * stream. Each entry carries `prev_hash`, the SHA-256 of the entry before it, and `seq`, so an edited,
 * removed or inserted entry breaks the chain (`verify`). The store appends atomically against the
 * current last entry, so any number of instances extend one chain. A store failure loses the
 * stream entry, not the change (the log line is written first).
 */
export function createAudit(deps: {
  store: Store;
  logger: Logger;
  retentionMs: number;
  notify?: (name: string, data: Record<string, unknown>) => void;
  /** The key of `pseudonym` (a server secret: API_KEY_PEPPER). */
  pseudonymKey?: string;
}) {
  const { store, logger, retentionMs, notify } = deps;
  const pseudonymKey = deps.pseudonymKey ?? '';
  const stream = keys.eventStream('audit');

  function fieldsOf(type: string, entry: AuditEntry): Record<string, string> {
    const actor = actorOf(entry.actor);
    const data = Object.fromEntries(Object.entries(entry.data ?? {}).filter(([, v]) => v !== undefined));
    return {
      v: '1',
      time: new Date().toISOString(),
      type,
      outcome: entry.outcome ?? 'success',
      actor_type: actor.type,
      actor_id: actor.id,
      ...(actor.on_behalf_of ? { actor_on_behalf_of: actor.on_behalf_of } : {}),
      subject_type: entry.subject?.type ?? '',
      subject_id: entry.subject?.id ?? '',
      ip: entry.request?.ip ?? '',
      user_agent: (entry.request?.userAgent ?? '').slice(0, 512),
      request_id: entry.request?.requestId ?? '',
      data: JSON.stringify(data),
    };
  }

  /**
   * A copy of an event about an account in that account's own capped stream, so "recent activity"
   * is one short read rather than a filter over the whole trail (a view: the chain stays the record).
   */
  async function indexForAccounts(id: string, fields: Record<string, string>): Promise<void> {
    const accounts = new Set<string>();
    if ((fields['actor_type'] === 'user' || fields['actor_type'] === 'customer') && fields['actor_id']) accounts.add(fields['actor_id']);
    if ((fields['subject_type'] === 'user' || fields['subject_type'] === 'customer') && fields['subject_id'])
      accounts.add(fields['subject_id']);
    await Promise.all(
      [...accounts].map(async (accountId) => {
        const key = keys.accountEvents(accountId);
        // One round trip: the store runs them in this order, so the expiry finds the stream.
        await Promise.all([
          store.publish(key, { ...fields, audit_id: id }, ACCOUNT_EVENTS_KEPT),
          store.expire(key, Math.max(1, Math.ceil(retentionMs / 1000))),
        ]);
      }),
    );
  }

  const chained = (fields: Record<string, string>) => (tip: ChainTip | null) => {
    const linked = { ...fields, seq: String((tip?.seq ?? 0) + 1), prev_hash: tip?.hash ?? '' };
    return { ...linked, hash: sha256(canonicalJson(linked)) };
  };

  async function record(type: string, entry: AuditEntry = {}): Promise<void> {
    const fields = fieldsOf(type, entry);
    logger.info({ audit: fields }, type);
    let id: string;
    try {
      id = await store.appendChained(stream, chained(fields), { maxLen: AUDIT_STREAM_MAX_LEN, retentionMs });
      notify?.(type, { id, ...fields });
    } catch (err) {
      logger.warn({ err, event: type }, 'audit event not recorded in the stream');
      return;
    }
    await indexForAccounts(id, fields).catch((err: unknown) =>
      logger.warn({ err, event: type }, 'audit event not indexed for its account'),
    );
  }

  return {
    record,

    /**
     * Record an event at most once per `seconds` for one `key` (e.g. refusals from one address):
     * what anyone can repeat at will must not grow the stream at their pace. Later ones in the window
     * are dropped (metrics count them); a store failure drops this one too.
     */
    async recordAtMostEvery(type: string, key: string, seconds: number, entry: AuditEntry = {}): Promise<void> {
      const marker = keys.auditOnce(sha256(`${type}\n${key}`).slice(0, 32));
      const first = await store.put(marker, '1', { ttlSeconds: seconds, ifAbsent: true }).catch(() => false);
      if (first) await record(type, entry);
    },

    /**
     * A stable stand-in for personal data typed by someone unknown (the email of a failed login):
     * the same input gives the same value, and it cannot be reversed by hashing guesses without the key.
     */
    pseudonym(text: string): string {
      return createHmac('sha256', pseudonymKey).update(`audit-pseudonym:${text}`).digest('hex').slice(0, 32);
    },

    /**
     * The latest events an account did or that are about it (actor or subject), newest first: one
     * read of the account's own short copy of the trail, however busy the whole trail is.
     */
    async recentForAccount(accountId: string, limit: number): Promise<AuditEvent[]> {
      const entries = await store.streamRange(keys.accountEvents(accountId), {
        count: Math.min(limit, ACCOUNT_EVENTS_KEPT),
        reverse: true,
      });
      // What the trail itself no longer keeps (past AUDIT_RETENTION) is not shown from the copy either.
      const oldest = new Date(Date.now() - retentionMs).toISOString();
      return entries
        .map((e) => ({ ...e.fields, id: e.fields['audit_id'] ?? e.id }) as AuditEvent)
        .filter((e) => (e['time'] ?? '') >= oldest);
    },

    /** Events newest first (or oldest first), from `cursor` (exclusive), filtered. */
    async list(q: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
      const events: AuditEvent[] = [];
      const reverse = q.order !== 'asc';
      let start = q.since ? String(q.since.getTime()) : '-';
      let end = q.until ? String(q.until.getTime()) : '+';
      if (q.cursor) {
        if (reverse) end = `(${q.cursor}`;
        else start = `(${q.cursor}`;
      }
      // Filters are applied to bounded pages of the stream, never a scan of keys; a page that
      // filters everything out only moves the cursor on.
      for (let pages = 0; pages < MAX_PAGES_PER_LIST && events.length < q.limit; pages++) {
        const page = await store.streamRange(stream, { start, end, count: LIST_PAGE, reverse });
        for (const e of page) {
          const event = toEvent(e);
          if (matches(event, q)) events.push(event);
          if (events.length === q.limit) return { events, nextCursor: event.id };
        }
        if (page.length < LIST_PAGE) return { events, nextCursor: null };
        const last = page.at(-1)!.id;
        if (reverse) end = `(${last}`;
        else start = `(${last}`;
      }
      return { events, nextCursor: reverse ? end.slice(1) : start.slice(1) };
    },

    /**
     * Walk the whole stream, oldest first: each entry's hash must match its content, its `prev_hash`
     * the hash of the entry before, its `seq` one more. The first entry may follow one that retention
     * trimmed (its predecessor is reported, not counted as broken).
     */
    async verify(): Promise<VerifyResult> {
      let previous: AuditEvent | null = null;
      let checked = 0;
      let first: AuditEvent | null = null;
      let start = '-';
      for (;;) {
        const page = await store.streamRange(stream, { start, count: VERIFY_PAGE });
        for (const e of page) {
          const event = toEvent(e);
          checked++;
          const { id: _id, ...stored } = event;
          if (sha256(canonicalJson(stored)) !== event.hash)
            return { ok: false, checked, broken: { id: event.id, seq: event.seq, reason: 'tampered' } };
          if (previous) {
            if (event.prev_hash !== previous.hash) {
              const reason = Number(event.seq) > Number(previous.seq) + 1 ? 'missing' : 'broken_link';
              return { ok: false, checked, broken: { id: event.id, seq: event.seq, reason, after: previous.id } };
            }
          } else first = event;
          previous = event;
        }
        if (page.length < VERIFY_PAGE) break;
        start = `(${page.at(-1)!.id}`;
      }
      return {
        ok: true,
        checked,
        ...(first ? { first: { id: first.id, seq: first.seq, trimmed_before: first.prev_hash !== '' } } : {}),
      };
    },
  };
}

export interface AuditQuery {
  type?: string;
  actorId?: string;
  subjectId?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit: number;
  order?: 'asc' | 'desc';
}

export type VerifyResult =
  | { ok: true; checked: number; first?: { id: string; seq: string; trimmed_before: boolean } }
  | { ok: false; checked: number; broken: { id: string; seq: string; reason: 'tampered' | 'missing' | 'broken_link'; after?: string } };

const LIST_PAGE = 500;
/** How many of its latest events each account's copy keeps (about: Redis trims whole nodes). */
const ACCOUNT_EVENTS_KEPT = 100;
/** How many pages one list request reads at most before it answers with what it found and a cursor. */
const MAX_PAGES_PER_LIST = 20;

const toEvent = (e: StreamEntry) => ({ id: e.id, ...e.fields }) as AuditEvent;
const matches = (e: AuditEvent, q: AuditQuery) =>
  (!q.type || e.type === q.type || (q.type.endsWith('.*') && e.type.startsWith(q.type.slice(0, -1)))) &&
  (!q.actorId || e.actor_id === q.actorId || e.actor_on_behalf_of === q.actorId) &&
  (!q.subjectId || e.subject_id === q.subjectId);

export type Audit = ReturnType<typeof createAudit>;
