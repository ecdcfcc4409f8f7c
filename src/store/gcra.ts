import type { RateLimitResult } from './port.ts';

/**
 * Generic cell rate algorithm on a stored "theoretical arrival time" (TAT), shared by the
 * memory store and (as Lua) the Redis store so both answer identically.
 * Returns the new TAT to store, or null when the request is refused (nothing to write).
 */
export function gcra(
  storedTat: number | null,
  now: number,
  limit: number,
  periodMs: number,
  cost: number,
): { result: RateLimitResult; newTat: number | null } {
  const interval = periodMs / limit;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + interval * cost;
  const allowAt = newTat - periodMs;
  if (now < allowAt) {
    return {
      result: { allowed: false, remaining: 0, retryAfterMs: Math.ceil(allowAt - now), resetMs: Math.ceil(tat - now) },
      newTat: null,
    };
  }
  return {
    result: {
      allowed: true,
      remaining: Math.max(0, Math.floor((periodMs - (newTat - now)) / interval)),
      retryAfterMs: 0,
      resetMs: Math.ceil(newTat - now),
    },
    newTat: cost > 0 ? newTat : null,
  };
}
