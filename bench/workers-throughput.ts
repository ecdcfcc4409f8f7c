/**
 * Scenario "workers-throughput": /v1/auth/verify requests per second with WORKERS=1 and WORKERS=2
 * (Redis, the same token, the same autocannon load), and their ratio. No goal: on a machine whose
 * cores the load generator and Redis share, a second worker can only use what they leave. Run
 * alone: `node --import tsx bench/workers-throughput.ts`.
 */
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { startBenchServer } from './bench-server.ts';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'workers-throughput';
export const description = '/v1/auth/verify requests/s with WORKERS=1 and WORKERS=2 (Redis)';

export interface WorkersThroughputResult {
  name: string;
  cores: number;
  seconds: number;
  connections: number;
  runs: { workers: number; requestsPerSecond: number; p99: number; non2xx: number }[];
  ratio: number;
}

export async function run(opts: { seconds?: number; connections?: number } = {}): Promise<WorkersThroughputResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const connections = opts.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 20);
  const runs: WorkersThroughputResult['runs'] = [];
  for (const workers of [1, 2]) {
    const server = await startBenchServer({ WORKERS: String(workers) });
    try {
      const { token } = await server.login();
      const load = (duration: number) =>
        autocannon({ url: `${server.url}/v1/auth/verify`, headers: { authorization: `Bearer ${token}` }, connections, duration });
      await load(2); // warm-up: every worker's JIT and token cache
      const r = await load(seconds);
      runs.push({ workers, requestsPerSecond: Math.round(r.requests.average), p99: r.latency.p99, non2xx: r.non2xx });
    } finally {
      await server.stop();
    }
  }
  const ratio = Math.round((runs[1]!.requestsPerSecond / Math.max(runs[0]!.requestsPerSecond, 1)) * 100) / 100;
  return { name, cores: availableParallelism(), seconds, connections, runs, ratio };
}

export function format(r: WorkersThroughputResult): string {
  return [
    `${r.name}: ${description} [${r.cores} cores, ${r.connections} connections, ${r.seconds} s each]`,
    ...r.runs.map(
      (x) => `  WORKERS=${x.workers}  ${String(x.requestsPerSecond).padStart(7)} req/s  p99 ${x.p99} ms  (${x.non2xx} non-2xx)`,
    ),
    `  ratio 2 workers / 1 worker: ${r.ratio.toFixed(2)}`,
  ].join('\n');
}

await runAloneIfMain(import.meta.url, () => run(), format);
