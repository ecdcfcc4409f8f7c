/**
 * Scenario "login-throughput" (P5): correct password logins per second through /v1/auth/login,
 * against raw argon2id verifications per second with the same parameters on every core, measured
 * in the same run (worker threads here, one per core, doing nothing but verifySync). Goal: >= 0.8.
 *
 * The server (src/main.ts on Redis, a private prefix) has several accounts, so the per-account
 * limit of attempts in flight (the login throttle) is not what is measured. Run alone:
 * `node --import tsx bench/login-throughput.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Algorithm, hashSync } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { startBenchServer, withRedis } from './bench-server.ts';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'login-throughput';
export const description = 'correct /v1/auth/login per second vs raw argon2id verifications per second on all cores (goal: ratio >= 0.8)';
export const GOAL = 0.8;
const ACCOUNTS = 8;
const PARAMS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface LoginThroughputResult {
  name: string;
  cores: number;
  seconds: number;
  rawPerSecond: number;
  loginsPerSecond: number;
  ratio: number;
  meetsGoal: boolean;
  statuses: Record<string, number>;
  p99: number;
  /**
   * Where the CPU time of one login went, in milliseconds (Linux only: /proc): the server's event
   * loop, its other threads (the hashing threads, and V8's), Redis, and this process (the load
   * generator), all on the same cores. Raw argon2id needs 1000 × cores / rawPerSecond of them.
   */
  cpuPerLogin: { serverMainThread: number; serverOtherThreads: number; redis: number; loadGenerator: number } | null;
}

/** CPU milliseconds so far of `pid`'s main thread and of all its other threads (/proc, clock ticks of 10 ms). */
function threadCpuMs(pid: number): { main: number; others: number } | null {
  if (!existsSync(`/proc/${pid}/task`)) return null;
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    // Fields after the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    if (tid === String(pid)) main += ms;
    else others += ms;
  }
  return { main, others };
}

/** The Redis server's CPU milliseconds so far (INFO cpu). */
const redisCpuMs = () =>
  withRedis(async (c) => {
    const info = await c.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  });

/** argon2id verifications per second with one thread per core, for `seconds`. */
async function rawVerificationsPerSecond(seconds: number): Promise<number> {
  const stored = hashSync('raw argon2 baseline', PARAMS);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const argon2 = require(workerData.module);
    let n = 0;
    const until = Date.now() + workerData.ms;
    while (Date.now() < until) { argon2.verifySync(workerData.stored, 'raw argon2 baseline'); n++; }
    parentPort.postMessage(n);`;
  const module = (await import('node:module')).createRequire(import.meta.url).resolve('@node-rs/argon2');
  const counts = await Promise.all(
    Array.from(
      { length: availableParallelism() },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(source, { eval: true, workerData: { module, stored, ms: seconds * 1000 } });
          w.once('message', (n: number) => {
            resolve(n);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  return Math.round((counts.reduce((a, b) => a + b, 0) / seconds) * 10) / 10;
}

export async function run(opts: { seconds?: number } = {}): Promise<LoginThroughputResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const server = await startBenchServer();
  try {
    const { token } = await server.login();
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
      email: `login${i}@example.com`,
      password: `bench login password ${i}`,
    }));
    for (const a of accounts) {
      const res = await fetch(`${server.url}/admin/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ email: a.email, password: a.password, role: 'member' }),
      });
      if (!res.ok) throw new Error(`creating ${a.email}: ${res.status} ${await res.text()}`);
    }
    let n = 0;
    const statuses: Record<string, number> = {};
    const load = (duration: number) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: `${server.url}/v1/auth/login`,
            // Enough logins in flight to keep every hashing thread busy, a few waiting.
            connections: availableParallelism() * 3,
            duration,
            requests: [
              {
                method: 'POST',
                setupRequest: (req) => {
                  const a = accounts[n++ % accounts.length]!;
                  return {
                    ...req,
                    headers: { 'content-type': 'application/json' },
                    body: JSON.stringify({ username: a.email, password: a.password }),
                  };
                },
              },
            ],
          },
          (err, result) => (err ? reject(err) : resolve(result)),
        );
        instance.on('response', (_c, status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
        });
      });
    await load(1); // warm-up: the hashing threads start, JIT
    for (const k of Object.keys(statuses)) delete statuses[k];
    const serverBefore = threadCpuMs(server.child.pid!);
    const redisBefore = await redisCpuMs();
    const selfBefore = process.cpuUsage();
    const r = await load(seconds);
    const serverAfter = threadCpuMs(server.child.pid!);
    const redisAfter = await redisCpuMs();
    const self = process.cpuUsage(selfBefore);
    const answered = Math.max(1, r.requests.total);
    const perLogin = (ms: number) => Math.round((ms / answered) * 100) / 100;
    const cpuPerLogin =
      serverBefore && serverAfter
        ? {
            serverMainThread: perLogin(serverAfter.main - serverBefore.main),
            serverOtherThreads: perLogin(serverAfter.others - serverBefore.others),
            redis: perLogin(redisAfter - redisBefore),
            loadGenerator: perLogin((self.user + self.system) / 1000),
          }
        : null;
    const loginsPerSecond = Math.round(((statuses['200'] ?? 0) / seconds) * 10) / 10;
    const rawPerSecond = await rawVerificationsPerSecond(seconds);
    const ratio = Math.round((loginsPerSecond / rawPerSecond) * 100) / 100;
    return {
      name,
      cores: availableParallelism(),
      seconds,
      rawPerSecond,
      loginsPerSecond,
      ratio,
      meetsGoal: ratio >= GOAL,
      statuses,
      p99: r.latency.p99,
      cpuPerLogin,
    };
  } finally {
    await server.stop();
  }
}

export function format(r: LoginThroughputResult): string {
  return [
    `${r.name}: ${description} [${r.cores} cores, ${r.seconds} s]`,
    `  correct logins ${r.loginsPerSecond}/s (p99 ${r.p99} ms, statuses ${JSON.stringify(r.statuses)}); raw argon2id verifications ${r.rawPerSecond}/s`,
    `  ratio ${r.ratio.toFixed(2)} (goal >= ${GOAL}): ${r.meetsGoal ? 'OK' : 'BELOW GOAL'}`,
    ...(r.cpuPerLogin
      ? [
          `  CPU per login: server event loop ${r.cpuPerLogin.serverMainThread} ms, server's other threads (hashing, V8) ${r.cpuPerLogin.serverOtherThreads} ms, Redis ${r.cpuPerLogin.redis} ms, load generator ${r.cpuPerLogin.loadGenerator} ms; one raw argon2id ${(Math.round((1000 * r.cores * 100) / r.rawPerSecond) / 100).toFixed(2)} ms`,
        ]
      : []),
  ].join('\n');
}

await runAloneIfMain(
  import.meta.url,
  () => run(),
  format,
  (r) => r.meetsGoal,
);
