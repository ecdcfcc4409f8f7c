import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.ts';
import { SHUTDOWN_GRACE_MS } from './server.ts';

/** A worker that ran this long before dying is replaced at once: it was not crashing at start. */
const STABLE_MS = 60_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
/** After a stop's grace period, workers still running get this long to exit before SIGKILL. */
const KILL_AFTER_MS = SHUTDOWN_GRACE_MS + 5_000;

/**
 * Delay before replacing a worker that died after `ranMs`: none when it had been running stably,
 * else doubling with each quick death in a row (0.5 s, 1 s, 2 s … 30 s), so a worker that cannot
 * start (Redis refused, a bad deploy) does not make the supervisor spin.
 */
export function restartDelay(ranMs: number, quickDeathsInARow: number): number {
  if (ranMs >= STABLE_MS) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(16, quickDeathsInARow));
}

/**
 * The supervisor of WORKERS server processes (Node's cluster: they share the listening port, the
 * primary hands each new connection to the next worker). It serves nothing itself and opens no
 * store: each worker is a whole server with its own caches and Redis connection. A worker that
 * dies is replaced; SIGTERM or SIGINT stops every worker gracefully (each finishes its requests in
 * flight) and then the supervisor, with exit 0.
 */
export function superviseWorkers(opts: { workers: number; logger: Logger }): void {
  const { logger } = opts;
  const started = new Map<Worker, number>();
  let quickDeaths = 0;
  let stopping = false;

  const fork = () => {
    const worker = cluster.fork();
    started.set(worker, Date.now());
    logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker started');
  };

  cluster.on('exit', (worker, code, signal) => {
    const ranMs = Date.now() - (started.get(worker) ?? Date.now());
    started.delete(worker);
    if (stopping) {
      logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker stopped');
      if (started.size === 0) {
        logger.info('stopped');
        process.exit(0);
      }
      return;
    }
    quickDeaths = ranMs >= STABLE_MS ? 0 : quickDeaths + 1;
    const restartInMs = restartDelay(ranMs, quickDeaths - 1);
    logger.error({ worker: worker.id, pid: worker.process.pid, code, signal, ranMs, restartInMs }, 'worker died: starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, restartInMs);
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: started.size }, 'shutting down: stopping the workers');
    if (started.size === 0) process.exit(0);
    for (const worker of started.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of started.keys()) worker.process.kill('SIGKILL');
    }, KILL_AFTER_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  logger.info({ workers: opts.workers, pid: process.pid }, 'portcullis supervisor starting workers');
  for (let i = 0; i < opts.workers; i++) fork();
}
