import type { ApiKeys } from '../api-keys/api-keys.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';

const DAY_MS = 86_400_000;
const PAGE = 500;
/** At most this many audit events are read to count the last 24 h (20 reads of 500): beyond, the counts are a floor. */
const MAX_EVENTS = 10_000;

export interface Overview {
  accounts: { users: number; customers: number };
  api_keys: { active: number };
  oauth_clients: number;
  last_24h: { sign_ins: number; failed_logins: number; events_read: number; complete: boolean };
  quota_refusals: { count: number; scope: 'all_instances_last_24h' };
  redis: { kind: 'redis' | 'memory'; status: 'up' | 'down'; latency_ms: number | null };
}

/**
 * What the console's overview shows, from what is already kept. Its cost per call: two `ZCARD`s for
 * accounts and one for clients; every API key record (as the keys list does: the index holds no
 * revocation state); the last 24 h of the audit stream, read newest first in pages of 500 and capped
 * at 10,000 events (beyond, `complete: false` and the counts are a floor); a `PING`. Quota refusals
 * come from the refusal tally, every instance's in one hash read (they are not audit events: a flood
 * would flood the trail).
 */
export function createOverview(deps: { store: Store; apiKeys: Pick<ApiKeys, 'list'>; quotaRefusals: () => Promise<number> }) {
  const { store, apiKeys } = deps;
  const stream = keys.eventStream('audit');

  async function lastDay(now: number) {
    let signIns = 0;
    let failed = 0;
    let read = 0;
    let end = '+';
    for (;;) {
      const page = await store.streamRange(stream, { start: String(now - DAY_MS), end, count: PAGE, reverse: true });
      for (const e of page) {
        if (e.fields.type === 'auth.login.succeeded') signIns++;
        else if (e.fields.type === 'auth.login.failed') failed++;
      }
      read += page.length;
      if (page.length < PAGE) return { sign_ins: signIns, failed_logins: failed, events_read: read, complete: true };
      if (read >= MAX_EVENTS) return { sign_ins: signIns, failed_logins: failed, events_read: read, complete: false };
      end = `(${page.at(-1)!.id}`;
    }
  }

  async function redis(): Promise<Overview['redis']> {
    const started = performance.now();
    try {
      await store.ping();
      return { kind: store.kind, status: 'up', latency_ms: Math.round((performance.now() - started) * 10) / 10 };
    } catch {
      return { kind: store.kind, status: 'down', latency_ms: null };
    }
  }

  return {
    async get(): Promise<Overview> {
      const health = await redis();
      if (health.status === 'down')
        return {
          accounts: { users: 0, customers: 0 },
          api_keys: { active: 0 },
          oauth_clients: 0,
          last_24h: { sign_ins: 0, failed_logins: 0, events_read: 0, complete: false },
          quota_refusals: { count: 0, scope: 'all_instances_last_24h' },
          redis: health,
        };
      const [users, customers, clients, active, day, refusals] = await Promise.all([
        store.indexCount(keys.accountIndex('user')),
        store.indexCount(keys.accountIndex('customer')),
        store.indexCount(keys.oauthClientIndex()),
        apiKeys.list({ revoked: false, order: { field: 'created_at', desc: true }, offset: 0, limit: 1 }),
        lastDay(Date.now()),
        deps.quotaRefusals(),
      ]);
      return {
        accounts: { users, customers },
        api_keys: { active: active.count },
        oauth_clients: clients,
        last_24h: day,
        quota_refusals: { count: refusals, scope: 'all_instances_last_24h' },
        redis: health,
      };
    },
  };
}
