/**
 * Scenario "login-flood": does a flood of password logins starve token verification?
 *
 * Starts Portcullis in a child process (its own event loop and libuv pool, as in production),
 * measures /v1/auth/verify latency at a fixed request rate while idle, then again while a flood of
 * failed logins (unknown accounts, many client addresses: every one costs a real argon2id hash)
 * hammers /v1/auth/login. Hashing runs in threads at the lowest CPU priority (src/accounts/passwords.ts),
 * so verification gets a core whenever it needs one and its p99 should stay within 2x of idle.
 * Each phase also reports the load generator's own lag (how late it sent), to tell the server's
 * delay from the measuring client's.
 *
 * Run alone: `node --import tsx bench/login-flood.ts` (JSON on stdout), or from bench/run.ts via run().
 * Uses Redis at BENCH_REDIS_URL/REDIS_URL (default redis://127.0.0.1:6379) under a private prefix it
 * deletes afterwards, or the embedded store when Redis is unreachable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from 'redis';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'login-flood';
export const description = '/v1/auth/verify p99 idle vs during a flood of failed logins (must stay within 2x)';

export interface LoginFloodOptions {
  /** Seconds per measurement phase. */
  seconds?: number;
  /** Verify requests per second during both measurements. */
  verifyRate?: number;
  /** Concurrent login connections in the flood. */
  floodConnections?: number;
  /** Idle/flood measurement pairs; the median of each side is reported. */
  rounds?: number;
}

export interface LoginFloodResult {
  name: string;
  verify: { idle: Percentiles; flood: Percentiles };
  ratioP99: number;
  withinBudget: boolean;
  rounds: number;
  flood: { requests: number; perSecond: number; statuses: Record<string, number> };
  store: 'redis' | 'memory';
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  /**
   * The load generator's own lag: how late (ms) it sent its requests past their due time, p99. When
   * this is large, the latencies include the measuring client's delay, not only the server's.
   */
  clientLagP99: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function redisReachable(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    await client.close();
    return true;
  } catch {
    return false;
  }
}

async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (batch.length) await client.del(batch);
  } finally {
    await client.close();
  }
}

async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not start');
}

/**
 * Verify requests at a fixed rate (open loop: each is sent at its own time, whether or not earlier
 * ones have answered, so a stall shows as latency instead of fewer requests: a request waiting for
 * one of the 4 keep-alive connections counts its wait), timed in microseconds from the moment it is
 * issued to its last byte. (autocannon's latencies are whole milliseconds, too coarse for an idle
 * p99 around 1 ms.)
 */
async function measureVerify(url: string, token: string, seconds: number, rate: number): Promise<Percentiles> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const { hostname, port } = new URL(url);
  const latencies: number[] = [];
  const lags: number[] = [];
  let non2xx = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      const req = request({ agent, hostname, port, path: '/v1/auth/verify', headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - sent);
          if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
          resolve();
        });
      });
      req.on('error', () => {
        non2xx++;
        resolve();
      });
      req.end();
    });
  const start = performance.now();
  const total = Math.round(seconds * rate);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lags.push(performance.now() - due);
    inFlight.push(one());
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 100) / 100;
  lags.sort((a, b) => a - b);
  const clientLagP99 = Math.round((lags[Math.min(lags.length - 1, Math.floor(0.99 * lags.length))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), requests: latencies.length, non2xx, clientLagP99 };
}

/** The median run's percentiles (by p99), with the requests summed over the runs. */
function median(runs: Percentiles[]): Percentiles {
  const all = [...runs].sort((x, y) => x.p99 - y.p99);
  const mid = all[Math.floor(all.length / 2)]!;
  return { ...mid, requests: all.reduce((n, p) => n + p.requests, 0), non2xx: all.reduce((n, p) => n + p.non2xx, 0) };
}

/**
 * Failed logins for unknown accounts from ever-changing addresses: each costs a full argon2id
 * hash (the decoy) and none is stopped early by the back-off: what a distributed flood costs.
 */
function startFlood(url: string, connections: number, statuses: Record<string, number>): { stop(): Promise<autocannon.Result> } {
  let n = 0;
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    const options: autocannon.Options = {
      url: `${url}/v1/auth/login`,
      connections,
      duration: 3600,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            n++;
            return {
              ...req,
              headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
              body: JSON.stringify({ username: `nobody${n}@example.com`, password: `guess-${n}` }),
            };
          },
        },
      ],
    };
    const started = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
    instance = started;
    started.on('response', (_client, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
  return {
    stop() {
      instance?.stop();
      return done;
    },
  };
}

/** Logins still queued behind the hasher finish before the next idle measurement. */
async function waitUntilIdle(url: string, token: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    await fetch(`${url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    if (performance.now() - started < 5) {
      await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function run(opts: LoginFloodOptions = {}): Promise<LoginFloodResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 4);
  const verifyRate = opts.verifyRate ?? 200;
  const floodConnections = opts.floodConnections ?? 64;
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const useRedis = await redisReachable(redisUrl);
  const prefix = `pcbench:${randomBytes(5).toString('hex')}:`;
  const password = randomBytes(12).toString('base64url');
  const { url, child } = await startServer({
    ...(useRedis ? { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } : {}),
    NODE_ENV: 'development',
    DEV_SECRETS_FILE: '.portcullis/bench-secrets.json',
    TRUST_PROXY: '1',
    BOOTSTRAP_ADMIN_EMAIL: 'bench@example.com',
    BOOTSTRAP_ADMIN_PASSWORD: password,
    // Verification must be measured, not refused: a quota far above what the bench sends.
    RATE_LIMIT_JWT: '100000000/h',
  });
  try {
    const login = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench@example.com', password }),
    });
    const { token } = (await login.json()) as { token: string };
    if (!token) throw new Error(`login failed: ${login.status}`);

    await measureVerify(url, token, 2, verifyRate); // warm up (JIT, connections, key import)

    // Idle and flood phases alternate, and each side's p99 is the median over the rounds: other
    // load on the host drifts during a run, and alternating keeps it from favouring one side.
    const idleRuns: Percentiles[] = [];
    const floodRuns: Percentiles[] = [];
    const statuses: Record<string, number> = {};
    let attempts = 0;
    let floodSeconds = 0;
    for (let round = 0; round < rounds; round++) {
      idleRuns.push(await measureVerify(url, token, seconds, verifyRate));
      const flood = startFlood(url, floodConnections, statuses);
      await new Promise((r) => setTimeout(r, 1500)); // let the flood fill the hasher's queue
      floodRuns.push(await measureVerify(url, token, seconds, verifyRate));
      const done = await flood.stop();
      attempts += done.requests.total;
      floodSeconds += done.duration;
      await waitUntilIdle(url, token);
    }
    const idle = median(idleRuns);
    const during = median(floodRuns);

    const result: LoginFloodResult = {
      name,
      verify: { idle, flood: during },
      ratioP99: Math.round((during.p99 / idle.p99) * 100) / 100,
      withinBudget: during.p99 <= 2 * idle.p99,
      rounds,
      flood: { requests: attempts, perSecond: Math.round(attempts / Math.max(floodSeconds, 1)), statuses },
      store: useRedis ? 'redis' : 'memory',
    };
    return result;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    if (useRedis) await dropPrefix(redisUrl, prefix);
  }
}

export function format(r: LoginFloodResult): string {
  const ms = (v: number) => v.toFixed(2).padStart(7);
  const row = (label: string, p: Percentiles) =>
    `  ${label.padEnd(12)} p50 ${ms(p.p50)} ms  p90 ${ms(p.p90)} ms  p99 ${ms(p.p99)} ms  max ${ms(p.max)} ms  client lag p99 ${ms(p.clientLagP99)} ms  (${p.requests} requests, ${p.non2xx} non-2xx)`;
  return [
    `${r.name}: ${description} [${r.store} store]`,
    row('verify idle', r.verify.idle),
    row('verify flood', r.verify.flood),
    `  p99 ratio ${r.ratioP99}x (budget 2x, median of ${r.rounds} alternating rounds): ${r.withinBudget ? 'OK' : 'OVER BUDGET'}`,
    `  flood: ${r.flood.requests} login attempts (~${r.flood.perSecond}/s), statuses ${JSON.stringify(r.flood.statuses)}`,
  ].join('\n');
}

await runAloneIfMain(
  import.meta.url,
  () => run(),
  format,
  (r) => r.withinBudget,
);
