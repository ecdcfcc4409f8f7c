import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { freePort } from './harness.ts';

/**
 * A private redis-server (on a free port, or `port` to restart one), answering: a test may freeze
 * (SIGSTOP), kill or restart it without disturbing the shared test Redis. Needs the redis-server binary (redisBinariesMissing).
 */
export async function startPrivateRedis(
  opts: { port?: number; args?: string[] } = {},
): Promise<{ redis: ChildProcess; url: string; port: number }> {
  const port = opts.port ?? (await freePort());
  // No persistence unless `args` asks for it (later arguments win).
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(opts.args ?? [])],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = createClient({ url, socket: { reconnectStrategy: false } });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.close();
      return { redis, url, port };
    } catch {
      if (i > 100) throw new Error('the private redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
