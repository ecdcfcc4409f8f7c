import { gcra } from './gcra.ts';
import type { RateLimitResult, Store } from './port.ts';

type Entry =
  | { type: 'string'; value: string; expiresAt?: number }
  | { type: 'hash'; value: Map<string, string>; expiresAt?: number }
  | { type: 'index'; value: Map<string, number>; expiresAt?: number };

/**
 * The embedded store: everything in this process, for running with no infrastructure.
 * Same contract as the Redis store (one test suite runs against both). Expired entries are
 * dropped lazily on access and by a periodic sweep, so memory stays bounded.
 */
export function createMemoryStore(opts: { sweepIntervalMs?: number } = {}): Store {
  const data = new Map<string, Entry>();
  let streamSeq = 0;
  let streamMs = 0;
  // Stream ids as Redis makes them (`<ms>-<seq>`), never going back even if the clock does.
  const nextStreamId = () => {
    streamMs = Math.max(streamMs, Date.now());
    return `${streamMs}-${streamSeq++}`;
  };

  const live = (key: string): Entry | undefined => {
    const e = data.get(key);
    if (e && e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return e;
  };
  // Whole seconds, at least one, as the Redis store sends them (EX): both expire alike.
  const expiry = (ttlSeconds?: number) => (ttlSeconds === undefined ? undefined : Date.now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
  // As the Redis scripts do: a TTL sets an expiry where there is none and only ever lengthens one.
  const extendExpiry = (e: Entry, ttlSeconds?: number) => {
    if (ttlSeconds === undefined) return;
    const wanted = expiry(ttlSeconds)!;
    if (e.expiresAt === undefined || e.expiresAt < wanted) e.expiresAt = wanted;
  };
  const stringOf = (key: string) => {
    const e = live(key);
    return e?.type === 'string' ? e : undefined;
  };
  const hashOf = (key: string, create: boolean) => {
    let e = live(key);
    if (!e && create) {
      e = { type: 'hash', value: new Map() };
      data.set(key, e);
    }
    return e?.type === 'hash' ? e : undefined;
  };
  const indexOf = (key: string, create: boolean) => {
    let e = live(key);
    if (!e && create) {
      e = { type: 'index', value: new Map() };
      data.set(key, e);
    }
    return e?.type === 'index' ? e : undefined;
  };
  const sortedMembers = (e: { value: Map<string, number> }) =>
    [...e.value.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const sweep = setInterval(() => {
    for (const key of data.keys()) live(key);
  }, opts.sweepIntervalMs ?? 60_000);
  sweep.unref();

  return {
    kind: 'memory',
    async get(key) {
      return stringOf(key)?.value ?? null;
    },
    async getMany(keys) {
      return keys.map((k) => stringOf(k)?.value ?? null);
    },
    async put(key, value, o = {}) {
      if (o.ifAbsent && live(key)) return false;
      data.set(key, { type: 'string', value, expiresAt: expiry(o.ttlSeconds) });
      return true;
    },
    async delete(...keys) {
      let n = 0;
      for (const k of keys) if (live(k) && data.delete(k)) n++;
      return n;
    },
    async consume(key) {
      const e = stringOf(key);
      if (!e) return null;
      data.delete(key);
      return e.value;
    },
    async compareAndSwap(key, expected, next, ttlSeconds) {
      const e = stringOf(key);
      if (!e || e.value !== expected) return false;
      data.set(key, { type: 'string', value: next, expiresAt: ttlSeconds === undefined ? e.expiresAt : expiry(ttlSeconds) });
      return true;
    },
    async compareAndDelete(key, expected) {
      const e = stringOf(key);
      if (!e || e.value !== expected) return false;
      data.delete(key);
      return true;
    },
    async ttl(key) {
      const e = live(key);
      if (!e) return -2;
      if (e.expiresAt === undefined) return -1;
      return Math.ceil((e.expiresAt - Date.now()) / 1000);
    },
    async expire(key, ttlSeconds, o = {}) {
      const e = live(key);
      if (!e) return;
      if (o.onlyLonger) extendExpiry(e, ttlSeconds);
      else e.expiresAt = expiry(ttlSeconds);
    },
    async hashGet(key, fields) {
      const e = hashOf(key, false);
      return fields.map((f) => e?.value.get(f) ?? null);
    },
    async hashGetAll(key) {
      return Object.fromEntries(hashOf(key, false)?.value ?? []);
    },
    async hashSet(key, entries, o = {}) {
      // Like HSET with no field: nothing is created (an empty hash would outlive its TTL rules).
      if (Object.keys(entries).length === 0) return;
      const e = hashOf(key, true)!;
      for (const [f, v] of Object.entries(entries)) e.value.set(f, v);
      extendExpiry(e, o.ttlSeconds);
    },
    async hashIncrement(key, field, by, o = {}) {
      const e = hashOf(key, true)!;
      const total = Number(e.value.get(field) ?? 0) + Math.trunc(by);
      e.value.set(field, String(total));
      extendExpiry(e, o.ttlSeconds);
      return total;
    },
    async hashDelete(key, fields) {
      const e = hashOf(key, false);
      if (!e) return;
      for (const f of fields) e.value.delete(f);
      if (e.value.size === 0) data.delete(key);
    },
    async indexAdd(key, member, score) {
      indexOf(key, true)!.value.set(member, score);
    },
    async indexRemove(key, members) {
      const e = indexOf(key, false);
      if (!e) return;
      for (const m of members) e.value.delete(m);
      if (e.value.size === 0) data.delete(key);
    },
    async indexRange(key, { offset, limit, reverse }) {
      const e = indexOf(key, false);
      if (!e) return [];
      const sorted = sortedMembers(e).map(([m]) => m);
      if (reverse) sorted.reverse();
      return sorted.slice(offset, offset + limit);
    },
    async indexRangeByScore(key, min, max) {
      const e = indexOf(key, false);
      if (!e) return [];
      return sortedMembers(e)
        .filter(([, s]) => s >= min && s <= max)
        .map(([m]) => m);
    },
    async indexRemoveByScore(key, min, max) {
      const e = indexOf(key, false);
      if (!e) return 0;
      let removed = 0;
      for (const [m, s] of e.value) if (s >= min && s <= max && e.value.delete(m)) removed++;
      if (e.value.size === 0) data.delete(key);
      return removed;
    },
    async indexCount(key) {
      return indexOf(key, false)?.value.size ?? 0;
    },
    async indexScore(key, member) {
      return indexOf(key, false)?.value.get(member) ?? null;
    },
    async rateLimit(key, limit, periodMs, cost = 1): Promise<RateLimitResult> {
      const now = Date.now();
      const stored = stringOf(key);
      const { result, newTat } = gcra(stored ? Number(stored.value) : null, now, limit, periodMs, cost);
      if (newTat !== null) data.set(key, { type: 'string', value: String(newTat), expiresAt: Math.ceil(newTat) });
      return result;
    },
    async publish(stream, fields, maxLen = 10_000) {
      // An in-process stream is only visible here; kept as a capped list so it stays bounded.
      const id = nextStreamId();
      const e = hashOf(stream, true)!;
      e.value.set(id, JSON.stringify(fields));
      while (e.value.size > maxLen) e.value.delete(e.value.keys().next().value as string);
      return id;
    },
    async appendChained(stream, build, o) {
      const e = hashOf(stream, true)!;
      const lastId = [...e.value.keys()].at(-1);
      const last = lastId === undefined ? undefined : (JSON.parse(e.value.get(lastId)!) as Record<string, string>);
      const fields = build(last ? { hash: last.hash ?? '', seq: Number(last.seq ?? 0) } : null);
      const id = nextStreamId();
      e.value.set(id, JSON.stringify(fields));
      while (e.value.size > o.maxLen) e.value.delete(e.value.keys().next().value as string);
      if (o.retentionMs !== undefined) {
        const oldest = Date.now() - o.retentionMs;
        for (const key of e.value.keys()) if (key !== id && streamIdMs(key) < oldest) e.value.delete(key);
        e.expiresAt = Date.now() + Math.max(1, o.retentionMs);
      }
      return id;
    },
    async streamRange(stream, { start = '-', end = '+', count, reverse }) {
      const entries = [...(hashOf(stream, false)?.value ?? [])]
        .filter(([id]) => afterStart(id, start) && beforeEnd(id, end))
        .map(([id, json]) => ({ id, fields: JSON.parse(json) as Record<string, string> }));
      if (reverse) entries.reverse();
      return entries.slice(0, Math.max(0, count));
    },
    async ping() {},
    async ready() {
      return true;
    },
    async close() {
      clearInterval(sweep);
      data.clear();
    },
  };
}

const streamIdMs = (id: string) => Number(id.split('-')[0]);
/** Order of two stream ids (`<ms>-<seq>`; a bare `<ms>` is its first id). */
function compareStreamIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-').map(Number);
  const [bm, bs = '0'] = b.split('-').map(Number);
  return am !== bm ? am! - bm! : Number(as) - Number(bs);
}
/** Whether `id` is within a range's start (`-`, `<ms>`, `<ms>-<seq>`, or exclusive `(<id>`), as XRANGE reads it. */
function afterStart(id: string, start: string): boolean {
  if (start === '-') return true;
  return start.startsWith('(') ? compareStreamIds(id, start.slice(1)) > 0 : compareStreamIds(id, start) >= 0;
}
/** Likewise for its end; a bare `<ms>` end includes every id of that millisecond. */
function beforeEnd(id: string, end: string): boolean {
  if (end === '+') return true;
  if (end.startsWith('(')) return compareStreamIds(id, end.slice(1)) < 0;
  return compareStreamIds(id, end.includes('-') ? end : `${end}-${Number.MAX_SAFE_INTEGER}`) <= 0;
}
