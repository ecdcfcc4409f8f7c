/**
 * Scenario "sign-in-storage" (P7): the keys and bytes (MEMORY USAGE) one /v1 sign-in keeps in Redis
 * while it lives and after logout, where only its revocation marker may remain, and whether Redis
 * is back to its baseline once every lifetime has passed (short TTLs: access 3 s, refresh 6 s).
 * The audit stream and the request quotas (not the sign-in's storage) are left out of the count.
 * Run alone: `node --import tsx bench/sign-in-storage.ts`.
 */
import { startBenchServer, withRedis } from './bench-server.ts';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'sign-in-storage';
export const description = 'keys and bytes of one sign-in before and after logout (only its revocation may remain), and back to baseline';

export interface SignInStorageResult {
  name: string;
  live: { keys: number; bytes: number };
  afterLogout: { keys: number; bytes: number; names: string[]; markerTtlMs: number; tokenLifeMs: number };
  backToBaseline: boolean;
  meetsGoal: boolean;
}

async function snapshot(prefix: string): Promise<Map<string, number>> {
  return withRedis(async (client) => {
    const found = new Map<string, number>();
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
      for (const key of batch) {
        const bare = key.slice(prefix.length);
        if (bare.startsWith('events:') || bare.startsWith('rl:')) continue;
        found.set(bare, Number(await client.memoryUsage(key)));
      }
    return found;
  });
}
const added = (before: Map<string, number>, now: Map<string, number>) => new Map([...now].filter(([k]) => !before.has(k)));
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

export async function run(): Promise<SignInStorageResult> {
  const server = await startBenchServer({
    ACCESS_TOKEN_TTL: '3',
    REFRESH_TOKEN_TTL: '6',
    ADMIN_TOKEN_TTL: '3',
    CUSTOMER_TOKEN_TTL: '3',
    OAUTH_ACCESS_TOKEN_TTL: '3',
  });
  try {
    const baseline = await snapshot(server.prefix);
    const first = await server.login();
    const refreshed = await fetch(`${server.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: first.refresh_token }),
    });
    const latest = (await refreshed.json()) as { token: string; expires_at: string };
    const live = added(baseline, await snapshot(server.prefix));
    const out = await fetch(`${server.url}/v1/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${first.token}` },
      body: '{}',
    });
    if (out.status !== 204) throw new Error(`logout: ${out.status}`);
    const left = added(baseline, await snapshot(server.prefix));
    const names = [...left.keys()];
    const markerTtlMs = names.length === 1 ? await withRedis((c) => c.pTTL(`${server.prefix}${names[0]}`)) : -1;
    const tokenLifeMs = new Date(latest.expires_at).getTime() - Date.now();
    // Every lifetime (the marker's: the access token's plus 5 s of clock slack) has passed: nothing of the sign-in remains.
    await new Promise((r) => setTimeout(r, Math.max(markerTtlMs, 0) + 1500));
    const finally_ = added(baseline, await snapshot(server.prefix));
    const backToBaseline = finally_.size === 0;
    const onlyMarker =
      names.length === 1 && names[0]!.startsWith('rev:{') && markerTtlMs >= tokenLifeMs && markerTtlMs <= tokenLifeMs + 7000;
    return {
      name,
      live: { keys: live.size, bytes: total(live) },
      afterLogout: { keys: left.size, bytes: total(left), names, markerTtlMs, tokenLifeMs },
      backToBaseline,
      meetsGoal: onlyMarker && backToBaseline,
    };
  } finally {
    await server.stop();
  }
}

export function format(r: SignInStorageResult): string {
  return [
    `${r.name}: ${description}`,
    `  live sign-in (after one rotation): ${r.live.keys} keys, ${r.live.bytes} bytes`,
    `  after logout: ${r.afterLogout.keys} key(s) ${JSON.stringify(r.afterLogout.names)}, ${r.afterLogout.bytes} bytes; marker expires in ${r.afterLogout.markerTtlMs} ms, the latest token in ${r.afterLogout.tokenLifeMs} ms`,
    `  back to baseline after every lifetime: ${r.backToBaseline ? 'yes' : 'NO'}; ${r.meetsGoal ? 'OK' : 'GOAL NOT MET'}`,
  ].join('\n');
}

await runAloneIfMain(
  import.meta.url,
  () => run(),
  format,
  (r) => r.meetsGoal,
);
