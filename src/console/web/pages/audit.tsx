import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type AuditEvent } from '../api.ts';
import { ErrorNote, Field, Loading, messageOf, Page, Table, when } from '../ui.tsx';

const TAIL_MS = 4000;

interface Filters {
  type: string;
  actor_id: string;
  subject_id: string;
  since: string;
  until: string;
}
const EMPTY: Filters = { type: '', actor_id: '', subject_id: '', since: '', until: '' };

/** datetime-local (the browser's time zone) -> ISO 8601 with offset, as the API wants. */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
const params = (f: Filters) => ({ type: f.type, actor_id: f.actor_id, subject_id: f.subject_id, since: iso(f.since), until: iso(f.until) });

/** The audit trail: filters, "Load more" (cursor), a live tail while the page is open, NDJSON export. */
export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const seen = useRef(new Set<string>());

  useEffect(() => {
    let alive = true;
    setEvents(null);
    seen.current = new Set();
    api<{ audit_events: AuditEvent[]; next_cursor: string | null }>(
      'GET',
      `/admin/audit-events${query({ ...params(filters), limit: 50 })}`,
    ).then(
      (page) => {
        if (!alive) return;
        page.audit_events.forEach((e) => seen.current.add(e.id));
        setEvents(page.audit_events);
        setCursor(page.next_cursor);
        setError(null);
      },
      (e) => alive && setError(messageOf(e)),
    );
    return () => {
      alive = false;
    };
  }, [filters]);

  // The live tail: the newest page again, every few seconds; events not seen yet go on top.
  useEffect(() => {
    if (!live || filters.until) return;
    const timer = setInterval(async () => {
      try {
        const page = await api<{ audit_events: AuditEvent[] }>('GET', `/admin/audit-events${query({ ...params(filters), limit: 50 })}`);
        const fresh = page.audit_events.filter((e) => !seen.current.has(e.id));
        if (!fresh.length) return;
        fresh.forEach((e) => seen.current.add(e.id));
        setEvents((old) => [...fresh, ...(old ?? [])]);
      } catch (e) {
        setError(messageOf(e));
      }
    }, TAIL_MS);
    return () => clearInterval(timer);
  }, [live, filters]);

  async function more() {
    if (!cursor) return;
    try {
      const page = await api<{ audit_events: AuditEvent[]; next_cursor: string | null }>(
        'GET',
        `/admin/audit-events${query({ ...params(filters), cursor, limit: 50 })}`,
      );
      const older = page.audit_events.filter((e) => !seen.current.has(e.id));
      older.forEach((e) => seen.current.add(e.id));
      setEvents((old) => [...(old ?? []), ...older]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(messageOf(e));
    }
  }

  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <Page
      title="Audit log"
      actions={
        <a class="button" href={`/admin/audit-events/export${query(params(filters))}`} download="audit-events.ndjson">
          Export NDJSON
        </a>
      }
    >
      <form
        class="filters"
        role="search"
        aria-label="Audit events"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <Field label="Type" value={draft.type} onInput={set('type')} placeholder="api_key.created" />
        <Field label="Actor ID" value={draft.actor_id} onInput={set('actor_id')} />
        <Field label="Subject ID" value={draft.subject_id} onInput={set('subject_id')} />
        <Field label="Since" type="datetime-local" value={draft.since} onInput={set('since')} />
        <Field label="Until" type="datetime-local" value={draft.until} onInput={set('until')} />
        <button type="submit">Apply filters</button>
      </form>
      <div class="check">
        <input type="checkbox" id="live-tail" checked={live} onChange={(e) => setLive((e.target as HTMLInputElement).checked)} />
        <label for="live-tail">Live: show new events as they happen</label>
      </div>
      {error && <ErrorNote message={error} />}
      {!events ? (
        <Loading />
      ) : events.length === 0 ? (
        <p>No events match.</p>
      ) : (
        <Table label="Audit events" head={['Time', 'Type', 'Outcome', 'Actor', 'Subject', 'Address']}>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{when(e.time)}</td>
              <td class="mono">{e.type}</td>
              <td>
                <span class={`badge ${e.outcome === 'success' ? 'ok' : 'off'}`}>{e.outcome}</span>
              </td>
              <td class="mono">
                {e.actor.type}
                {e.actor.id ? `: ${e.actor.id}` : ''}
              </td>
              <td class="mono">{e.subject ? `${e.subject.type}: ${e.subject.id}` : '—'}</td>
              <td>{e.ip || '—'}</td>
            </tr>
          ))}
        </Table>
      )}
      {cursor && (
        <p>
          <button type="button" onClick={more}>
            Load more
          </button>
        </p>
      )}
    </Page>
  );
}
