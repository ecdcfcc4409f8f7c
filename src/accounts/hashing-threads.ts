import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ServiceUnavailableError } from '../errors.ts';

/**
 * What each hashing thread runs: argon2 synchronously (the thread is its own, so blocking it blocks
 * nothing else), after lowering its own CPU priority. On Linux a thread is a task with its own nice
 * value, and setpriority(pid 0) from a thread applies to that thread only: the event loop keeps its
 * priority. Plain JavaScript evaluated as-is, so it runs whatever loaded the server (tsx from the
 * command line, the CLI's registered loader, a test), with the argon2 module resolved by the parent.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { setPriority } = require('node:os');
try { setPriority(0, workerData.nice); } catch {}
const argon2 = require(workerData.argon2);
parentPort.on('message', ({ op, a, b, params }) => {
  const started = performance.now();
  try {
    const value = op === 'hash' ? argon2.hashSync(a, params) : argon2.verifySync(a, b);
    parentPort.postMessage({ value, ms: performance.now() - started });
  } catch (err) {
    parentPort.postMessage({ failed: op === 'verify' ? false : String(err && err.message) });
  }
});`;

const ARGON2_MODULE = createRequire(import.meta.url).resolve('@node-rs/argon2');

export interface HashingThreadsOptions {
  /** Threads hashing at once (each one argon2 at a time). */
  threads: number;
  /** Logins waiting for a thread, at most; past it, 503. */
  maxQueued: number;
  /** How long a login (a verification) may wait for a thread: one that would wait longer is refused (503 with Retry-After) rather than kept. */
  maxWaitMs: number;
  /** The threads' nice value (Linux: 19 is the lowest priority). */
  nice: number;
  /** Threads end after this long without work (and start again on the next login). */
  idleMs?: number;
}

type Job = {
  op: 'hash' | 'verify';
  a: string;
  b?: string;
  params?: object;
  queuedAt: number;
  /** How long it may wait for a thread (Infinity: as long as it takes). */
  maxWaitMs: number;
  done: (err: Error | null, v?: unknown) => void;
};
type Thread = { worker: Worker; job: Job | null };

const busy = (retryAfterSeconds: number) => {
  const err = new ServiceUnavailableError('Too many logins in progress, retry shortly');
  err.headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return err;
};

/**
 * A pool of hashing threads with an admission queue bounded by length and by time. A login is
 * refused at once when the queue is full, or when, at the pace hashes are taking, it would wait
 * longer than `maxWaitMs`; a login still waiting at its deadline is refused then. Either way the
 * client gets 503 with Retry-After instead of a response that comes too late to matter.
 */
export function createHashingThreads(opts: HashingThreadsOptions) {
  const idleMs = opts.idleMs ?? 30_000;
  const threads: Thread[] = [];
  const queue: Job[] = [];
  /** How long one hash takes here, smoothed (null until one has run). */
  let hashMs: number | null = null;
  let idleTimer: NodeJS.Timeout | undefined;

  function spawn(): Thread {
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { argon2: ARGON2_MODULE, nice: opts.nice } });
    // The threads never keep the process alive: a login in progress has its request open anyway.
    worker.unref();
    const thread: Thread = { worker, job: null };
    worker.on('message', (msg: { value?: unknown; failed?: unknown; ms?: number }) => {
      const job = thread.job;
      thread.job = null;
      // The pace is the hash's own time, as the thread measured it (not the thread's start-up).
      if (msg.ms !== undefined) hashMs = hashMs === null ? msg.ms : hashMs * 0.8 + msg.ms * 0.2;
      if (job) {
        if (msg.failed === undefined) job.done(null, msg.value);
        else if (msg.failed === false) job.done(null, false);
        else job.done(new Error(`password hashing failed: ${String(msg.failed)}`));
      }
      next(thread);
    });
    const lost = (err: Error) => {
      threads.splice(threads.indexOf(thread), 1);
      thread.job?.done(err);
      thread.job = null;
      if (queue.length) next(spawn());
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      if (threads.includes(thread)) lost(new Error(`a password hashing thread exited (${code})`));
    });
    threads.push(thread);
    return thread;
  }

  /** Give `thread` the next job still within its deadline; refuse those past it. */
  function next(thread: Thread): void {
    const now = performance.now();
    let job = queue.shift();
    while (job && now - job.queuedAt > job.maxWaitMs) {
      job.done(busy(((hashMs ?? 100) * (queue.length + 1)) / opts.threads / 1000));
      job = queue.shift();
    }
    if (job) dispatch(thread, job);
    else if (threads.every((t) => !t.job)) armIdle();
  }

  function dispatch(thread: Thread, job: Job): void {
    thread.job = job;
    thread.worker.postMessage({ op: job.op, a: job.a, b: job.b, params: job.params });
  }

  function armIdle(): void {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (queue.length || threads.some((t) => t.job)) return;
      for (const t of threads.splice(0)) void t.worker.terminate();
    }, idleMs);
    idleTimer.unref();
  }

  function submit(op: Job['op'], a: string, b?: string, params?: object): Promise<unknown> {
    // Only a login is refused for time: setting a password (an admin creating accounts, a reset) waits its turn.
    const maxWaitMs = op === 'verify' ? opts.maxWaitMs : Infinity;
    return new Promise((resolve, reject) => {
      const job: Job = { op, a, b, params, queuedAt: performance.now(), maxWaitMs, done: (err, v) => (err ? reject(err) : resolve(v)) };
      clearTimeout(idleTimer);
      while (threads.length < opts.threads) spawn();
      const free = threads.find((t) => !t.job);
      if (free && !queue.length) return dispatch(free, job);
      if (queue.length >= opts.maxQueued) return reject(busy(1));
      // Admission by time: at the pace hashes take now, when would this one start?
      const expectedWaitMs = hashMs === null ? 0 : Math.ceil((queue.length + 1) / opts.threads) * hashMs;
      if (expectedWaitMs > maxWaitMs) return reject(busy(expectedWaitMs / 1000));
      queue.push(job);
    });
  }

  return {
    hash: (password: string, params: object) => submit('hash', password, undefined, params) as Promise<string>,
    verify: (stored: string, password: string) => submit('verify', stored, password) as Promise<boolean>,
    stats: () => ({ active: threads.filter((t) => t.job).length, queued: queue.length, maxConcurrent: opts.threads }),
  };
}
