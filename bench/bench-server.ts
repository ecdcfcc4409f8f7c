/**
 * What the newer scenarios share: Portcullis in a child process (`src/main.ts`, as in production)
 * on Redis under a private prefix deleted afterwards, an account to log in with, and percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

export async function withRedis<T>(work: (client: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

export const dropPrefix = (prefix: string) =>
  withRedis(async (client) => {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (batch.length) await client.del(batch);
  });

export interface BenchServer {
  url: string;
  prefix: string;
  child: ChildProcess;
  admin: { email: string; password: string };
  /** A fresh /v1 login of `email` (default the admin). */
  login(email?: string, password?: string): Promise<{ token: string; refresh_token: string }>;
  stop(): Promise<void>;
}

/** Start Portcullis on Redis (a private prefix) with `env`, and wait until it answers /health. */
export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const prefix = `pcbench:${randomBytes(5).toString('hex')}:`;
  const admin = { email: 'bench@example.com', password: randomBytes(12).toString('base64url') };
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=prof") profiles the server under the load.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DEV_SECRETS_FILE: '.portcullis/bench-secrets.json',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      BOOTSTRAP_ADMIN_EMAIL: admin.email,
      BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      // Throughput is measured, not refused by the per-subject quotas.
      RATE_LIMIT_JWT: '100000000/h',
      RATE_LIMIT_API_KEY: '100000000/h',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await dropPrefix(prefix);
  };
  const login = async (email = admin.email, password = admin.password) => {
    const res = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: email, password }),
    });
    const body = (await res.json()) as { token: string; refresh_token: string };
    if (!body.token) throw new Error(`bench login failed: ${res.status}`);
    return body;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) {
        // The bootstrap admin is created once Redis answers: wait until it can log in.
        for (let j = 0; ; j++) {
          try {
            await login();
            break;
          } catch (err) {
            if (j > 100) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        return { url, prefix, child, admin, login, stop };
      }
    } catch {
      /* not listening yet */
    }
    if (i > 1200) {
      await stop();
      throw new Error('the server did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}
