/**
 * Scenario "client-credentials" (P3): token requests/s of Portcullis's `client_credentials` grant
 * against a bare oidc-provider with its in-memory adapter issuing the same token (an RS256 JWT for
 * one resource), in the same run. Goal: Portcullis at least 0.8 of the bare provider on the embedded
 * store, the comparison with the same kind of storage; on Redis the ratio is shown beside it.
 *
 * What Portcullis adds per token: its HTTP layer (request id, security headers, body limits, the
 * JSON error shapes), the client secret's keyed hash instead of a clear comparison, the scope and
 * role rules, the token's claims and a lineage record of the client (so rotating its secret ends
 * its tokens). Run alone: `node --import tsx bench/client-credentials.ts`.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { decodeJwt } from 'jose';
import { startServerProcess } from './server-process.ts';
import { measure, type Measurement } from './verify-throughput.ts';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'client-credentials';
export const description = 'client_credentials tokens/s, Portcullis vs a bare oidc-provider issuing the same JWT (goal: ratio >= 0.8)';
export const GOAL = 0.8;

export interface ClientCredentialsResult {
  name: string;
  connections: number;
  seconds: number;
  bare: Measurement;
  portcullis: (Measurement & { store: 'memory' | 'redis'; ratio: number; cpuRatio: number })[];
  /** The embedded store's ratio meets the goal, and no request failed. */
  meetsGoal: boolean;
  cores: number;
}

/** One token from `tokenUrl`, checked to be the JWT the scenario means to measure. */
async function oneToken(tokenUrl: string, headers: Record<string, string>, body: string): Promise<void> {
  const res = await fetch(tokenUrl, { method: 'POST', headers, body });
  const answer = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !answer.access_token) throw new Error(`${tokenUrl}: ${res.status} ${JSON.stringify(answer)}`);
  const claims = decodeJwt(answer.access_token);
  if (claims.client_id !== 'bench-machine' || claims.scope !== 'read')
    throw new Error(`${tokenUrl}: unexpected claims ${JSON.stringify(claims)}`);
}

export async function run(): Promise<ClientCredentialsResult> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
  const secret = randomBytes(24).toString('base64url');
  const { urls, cpu, stop } = await startServerProcess<{ bare: string; memory: string; redis: string | null }>(
    'bench/client-credentials-servers.ts',
    { BENCH_CLIENT_SECRET: secret },
  );
  try {
    const headers = {
      authorization: `Basic ${Buffer.from(`bench-machine:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const request = { method: 'POST' as const, body: 'grant_type=client_credentials&scope=read' };
    const targets = [{ store: 'memory' as const, url: urls.memory }, ...(urls.redis ? [{ store: 'redis' as const, url: urls.redis }] : [])];
    for (const url of [urls.bare, ...targets.map((t) => t.url)]) {
      await oneToken(url, headers, request.body);
      await measure('warm-up', url, headers, 1, connections, cpu, false, request);
    }
    const bare = await measure('bare provider', urls.bare, headers, seconds, connections, cpu, false, request);
    const portcullis = [];
    for (const t of targets) {
      const m = await measure(`portcullis (${t.store})`, t.url, headers, seconds, connections, cpu, t.store === 'redis', request);
      portcullis.push({
        ...m,
        store: t.store,
        ratio: Math.round((m.requestsPerSecond / Math.max(bare.requestsPerSecond, 1)) * 100) / 100,
        cpuRatio: Math.round((bare.cpuMicrosPerRequest / Math.max(m.cpuMicrosPerRequest, 1)) * 100) / 100,
      });
    }
    const embedded = portcullis.find((p) => p.store === 'memory')!;
    const clean = [bare, ...portcullis].every((m) => m.non2xx === 0 && m.errors === 0);
    return { name, connections, seconds, bare, portcullis, meetsGoal: clean && embedded.ratio >= GOAL, cores: availableParallelism() };
  } finally {
    await stop();
  }
}

export function format(r: ClientCredentialsResult): string {
  const row = (m: Measurement) =>
    `  ${m.target.padEnd(22)} ${String(m.requestsPerSecond).padStart(6)} tokens/s  p50 ${String(m.p50).padStart(3)} ms  p99 ${String(m.p99).padStart(3)} ms  ${String(m.cpuMicrosPerRequest).padStart(5)} µs CPU/token${m.redisCpuMicrosPerRequest === undefined ? '' : ` (+${m.redisCpuMicrosPerRequest} µs in Redis)`}  (${m.requests} requests, ${m.non2xx} non-2xx, ${m.errors} errors)`;
  return [
    `${r.name}: ${description} [${r.connections} connections, ${r.seconds} s each; ${r.cores} cores]`,
    row(r.bare),
    ...r.portcullis.map(
      (p) =>
        `${row(p)}\n  ${''.padEnd(22)} ratio ${p.ratio.toFixed(2)}${p.store === 'memory' ? ` (goal >= ${GOAL})` : ' (shown)'}; server CPU per token bare/portcullis ${p.cpuRatio.toFixed(2)}`,
    ),
    `  ${r.meetsGoal ? 'OK' : 'BELOW GOAL'}`,
  ].join('\n');
}

await runAloneIfMain(
  import.meta.url,
  () => run(),
  format,
  (r) => r.meetsGoal,
);
