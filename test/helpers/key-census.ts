import assert from 'node:assert/strict';
import type { createClient } from 'redis';

/** A key's size (MEMORY USAGE, bytes) and remaining life (ms). */
export interface KeyFacts {
  bytes: number;
  pttl: number;
}
export type Census = Map<string, KeyFacts>;

/** What verification tolerates past `exp` (jwt.ts): a revocation is kept that much longer. */
export const CLOCK_SLACK_SECONDS = 5;

/**
 * Every key under `prefix` (named without it), but the audit trail (`events:`) and request quotas
 * (`rl:`, GCRA cells that empty by themselves within their period): they are not a sign-in's storage.
 */
export async function census(redis: ReturnType<typeof createClient>, prefix: string): Promise<Census> {
  const found: Census = new Map();
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of batch) {
      const name = key.slice(prefix.length);
      if (name.startsWith('events:') || name.startsWith('rl:')) continue;
      found.set(name, { bytes: Number(await redis.memoryUsage(key)), pttl: await redis.pTTL(key) });
    }
  }
  return found;
}

/** The keys of `now` that `before` did not have. */
export const added = (before: Map<string, unknown>, now: Census): Census => new Map([...now].filter(([k]) => !before.has(k)));
export const bytesOf = (m: Census) => [...m.values()].reduce((sum, v) => sum + v.bytes, 0);

/**
 * The one key left of an ended sign-in is its revocation, kept at least until `latestExp` (s, the
 * latest token it issued) and no more than the clock slack (and a moment of test time) past it.
 */
export function assertOnlyRevocationLeft(left: Census, sid: string, latestExp: number): void {
  assert.deepEqual([...left.keys()], [`rev:{${sid}}`], 'only the revocation marker remains');
  assertMarkerLife(left.get(`rev:{${sid}}`)!.pttl, latestExp);
}

/** A revocation's remaining life (ms) covers the token expiring at `latestExp` (s), and ends with it. */
export function assertMarkerLife(lifeMs: number, latestExp: number): void {
  const tokenLifeMs = latestExp * 1000 - Date.now();
  assert.ok(lifeMs >= tokenLifeMs, `the marker (${lifeMs} ms) outlives the latest token (${tokenLifeMs} ms)`);
  assert.ok(
    lifeMs <= tokenLifeMs + (CLOCK_SLACK_SECONDS + 2) * 1000,
    `the marker (${lifeMs} ms) ends with the latest token (${tokenLifeMs} ms)`,
  );
}
