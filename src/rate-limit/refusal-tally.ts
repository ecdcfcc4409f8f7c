import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';

const HOUR_MS = 3_600_000;
/** The overview's "last 24 h": the current hour and the 24 before it, so at least a whole day. */
const HOURS_KEPT = 24;

/**
 * Quota refusals (429s) of every instance over the last day, for the console's overview. Each
 * instance counts in memory and adds its count to an hourly field of one shared hash at most once
 * per `flushMs`: a flood of refusals costs the store one write per instance per interval, not one
 * per refusal. Fields older than a day are dropped when an instance first writes in a new hour and
 * when the tally is read, and the hash expires a day after its last write.
 */
export function createRefusalTally(deps: { store: Store; flushMs?: number; now?: () => number }) {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const flushMs = deps.flushMs ?? 5_000;
  const key = keys.quotaRefusalTally();
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let prunedHour = -1;

  const hourOf = (ms: number) => Math.floor(ms / HOUR_MS);

  async function prune(hour: number, fields: Record<string, string>): Promise<number> {
    let total = 0;
    const stale: string[] = [];
    for (const [field, count] of Object.entries(fields)) {
      if (Number(field) >= hour - HOURS_KEPT) total += Number(count);
      else stale.push(field);
    }
    if (stale.length) await store.hashDelete(key, stale);
    prunedHour = hour;
    return total;
  }

  /** Adds this instance's count to the current hour's field; the hour written, or undefined when nothing was. */
  async function write(): Promise<number | undefined> {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return undefined;
    const count = pending;
    pending = 0;
    const hour = hourOf(now());
    try {
      await store.hashIncrement(key, String(hour), count, { ttlSeconds: (HOURS_KEPT + 1) * 3600 });
      return hour;
    } catch {
      // The store is down: the count waits for the next refusal's flush instead of being lost.
      pending += count;
      return undefined;
    }
  }

  /** Writes the count, and in a new hour drops the fields older than a day (a failed clean-up is tried at the next flush). */
  async function flush(): Promise<void> {
    const hour = await write();
    if (hour === undefined || hour === prunedHour) return;
    try {
      await prune(hour, await store.hashGetAll(key));
    } catch {
      // The count is written; only the clean-up waits.
    }
  }

  return {
    /** One refusal, counted now and written within flushMs. */
    note(): void {
      pending++;
      if (!timer) {
        timer = setTimeout(() => void flush(), flushMs);
        timer.unref();
      }
    },
    /** Refusals in the last day on every instance (this one's unwritten count included). */
    async lastDay(): Promise<number> {
      await write();
      return (await prune(hourOf(now()), await store.hashGetAll(key))) + pending;
    },
    /** Writes what is counted (at a graceful stop). */
    flush,
  };
}
