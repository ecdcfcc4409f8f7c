/**
 * The servers the verify-throughput scenario measures, in a child process of their own (so the
 * load generator does not share their event loop): a bare Koa hello-world, Portcullis on the
 * embedded store and, when Redis answers, Portcullis on Redis under a private prefix. Each listens
 * on its own port. Prints `{"bare": url, "memory": url, "redis": url | null, "apiKeys": {...}}` on one stdout line,
 * then serves until SIGTERM, when it closes everything and deletes its Redis keys.
 */
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import { createClient } from 'redis';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { listen, type RunningServer } from '../src/server.ts';
import { createServices } from '../src/services.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store/port.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { serveUntilStopped } from './server-process.ts';

// The parent (verify-throughput.ts) chooses the account it logs in with.
const BENCH_USER = {
  email: process.env.BENCH_USER_EMAIL ?? 'bench@example.com',
  password: process.env.BENCH_USER_PASSWORD ?? 'bench password 1234',
};
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `pcbench:${randomBytes(5).toString('hex')}:`;

async function redisReachable(): Promise<boolean> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 1000, reconnectStrategy: false } });
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

async function dropPrefix(): Promise<void> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (batch.length) await client.del(batch);
  } finally {
    await client.close();
  }
}

/** A secret API key of the bench user on each server (P2: verify with an API key). */
const apiKeys: { memory?: string; redis?: string } = {};

async function startPortcullis(store: Store): Promise<RunningServer> {
  const running = await listen(null, 0, '127.0.0.1');
  const config = await loadConfig({
    NODE_ENV: 'development',
    PUBLIC_URL: running.url.replace('localhost', '127.0.0.1'),
    LOG_LEVEL: 'silent',
    DEV_SECRETS_FILE: '.portcullis/bench-secrets.json',
    // Verification must be measured, not refused by the per-subject quota (which is still spent on every request).
    RATE_LIMIT_JWT: '100000000/h',
    RATE_LIMIT_API_KEY: '100000000/h',
    ...(store.kind === 'redis' ? { REDIS_URL: redisUrl, REDIS_PREFIX: prefix } : {}),
  });
  const services = await createServices(config, store, createLogger('silent'));
  const user = await services.accounts.create({
    actorType: 'user',
    email: BENCH_USER.email,
    password: BENCH_USER.password,
    role: 'developer',
  });
  apiKeys[store.kind === 'redis' ? 'redis' : 'memory'] = (
    await services.apiKeys.create({ type: 'secret', title: 'bench', createdBy: user.id })
  ).token;
  running.attach(await createApp(services));
  return running;
}

const bareApp = new Koa();
bareApp.use((ctx) => {
  ctx.body = 'Hello World';
});
const bare = await listen(bareApp, 0, '127.0.0.1');
const memoryStore = createMemoryStore();
const memory = await startPortcullis(memoryStore);
let redisStore: Store | null = null;
let redis: RunningServer | null = null;
if (await redisReachable()) {
  redisStore = await createRedisStore({ url: redisUrl, prefix });
  redis = await startPortcullis(redisStore);
}

const local = (r: RunningServer) => r.url.replace('localhost', '127.0.0.1');
process.stdout.write(JSON.stringify({ bare: local(bare), memory: local(memory), redis: redis ? local(redis) : null, apiKeys }) + '\n');

serveUntilStopped(async () => {
  await Promise.all([bare.close(500), memory.close(500), redis?.close(500)]);
  await memoryStore.close();
  if (redisStore) {
    await redisStore.close();
    await dropPrefix();
  }
});
