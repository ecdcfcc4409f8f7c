import { randomBytes } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { createClient } from 'redis';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { listen } from '../../src/server.ts';
import { createServices, type ServiceOverrides, type Services } from '../../src/services.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/port.ts';
import { createRedisStore } from '../../src/store/redis.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test (or person) uses: tests only ever delete their own keys. */
export function privatePrefix(label = 'test'): string {
  return `pctest:${label}:${randomBytes(6).toString('hex')}:`;
}

/** Delete every key under `prefix` (tests only: SCAN is fine here, never on a request path). */
export async function dropPrefix(prefix: string): Promise<void> {
  if (!prefix.startsWith('pctest:')) throw new Error(`refusing to delete outside the test namespace: ${prefix}`);
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (batch.length) await client.del(batch);
    }
  } finally {
    await client.close();
  }
}

export async function openTestStore(
  kind: 'redis' | 'memory',
  prefix: string,
  opts: { url?: string; commandTimeoutMs?: number; cluster?: boolean } = {},
): Promise<Store> {
  return kind === 'memory'
    ? createMemoryStore()
    : createRedisStore({ url: opts.url ?? REDIS_URL, prefix, commandTimeoutMs: opts.commandTimeoutMs, cluster: opts.cluster });
}

export interface TestServer {
  /** The issuer (PUBLIC_URL): where clients reach the server unless `env.PUBLIC_URL` overrides it. */
  url: string;
  /** Where this instance really listens (differs from `url` when instances share a PUBLIC_URL). */
  origin: string;
  config: Config;
  services: Services;
  store: Store;
  prefix: string;
  close(): Promise<void>;
}

/**
 * Start the whole app on a random port with its own store: real Redis under a private prefix
 * (default) or the embedded store. `env` overrides configuration as the environment would.
 * Pass `prefix` to make two instances share one Redis namespace.
 */
export async function startTestServer(
  opts: {
    env?: Record<string, string>;
    store?: 'redis' | 'memory';
    prefix?: string;
    /** Where the app's JSON log lines go (e.g. a stream a test reads); set LOG_LEVEL in `env` to see them. */
    logDestination?: DestinationStream;
    /** Another Redis than the shared test one (a private redis-server the test controls); its keys are not dropped. */
    redisUrl?: string;
    /** Replacements beyond the configuration (the login back-off's clock). */
    overrides?: ServiceOverrides;
  } = {},
): Promise<TestServer> {
  const prefix = opts.prefix ?? privatePrefix();
  const kind = opts.store ?? 'redis';
  // Listen first: the issuer must be the URL clients really use (OIDC discovery checks it).
  const running = await listen(null, 0, '127.0.0.1');
  const config = await loadConfig({
    PUBLIC_URL: running.url.replace('localhost', '127.0.0.1'),
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DEV_SECRETS_FILE: '.portcullis/test-secrets.json',
    ...(kind === 'redis' ? { REDIS_URL: opts.redisUrl ?? REDIS_URL, REDIS_PREFIX: prefix } : {}),
    ...opts.env,
  }).catch(async (err: unknown) => {
    await running.close(0); // a refused configuration leaves nothing listening
    throw err;
  });
  const logger = createLogger(config.logLevel, opts.logDestination);
  const store = await openTestStore(kind, prefix, {
    url: config.redisUrl,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    cluster: config.redisCluster,
  });
  let services: Services;
  try {
    services = await createServices(config, store, logger, opts.overrides);
    running.attach(await createApp(services));
  } catch (err) {
    // A start that fails (a test of a refused configuration) leaves nothing listening or connected.
    await running.close(0);
    await store.close();
    throw err;
  }
  return {
    url: config.publicUrl,
    origin: running.url.replace('localhost', '127.0.0.1'),
    config,
    services,
    store,
    prefix,
    async close() {
      await running.close(1000);
      services.signingKeys.stop();
      await services.refusalTally.flush();
      await store.close();
      if (kind === 'redis' && !opts.prefix && !opts.redisUrl) await dropPrefix(prefix);
    },
  };
}

/** fetch + JSON, for tests that speak HTTP as a client would. */
export async function http(url: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, { ...init, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** A TCP port nothing listens on right now (for a process the test starts itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Why tests that start their own redis-server (a private, frozen or clustered Redis) cannot run
 * here, or false when they can: they need the redis-server and redis-cli binaries (Debian's
 * redis-server package; .ci/run installs it). Said loudly, once per file, when they are missing.
 */
let redisBinariesCheck: string | false | undefined;
export function redisBinariesMissing(): string | false {
  if (redisBinariesCheck !== undefined) return redisBinariesCheck;
  const missing = ['redis-server', 'redis-cli'].filter((bin) => spawnSync(bin, ['--version']).error);
  redisBinariesCheck = missing.length ? `${missing.join(' and ')} not installed (apt-get install -y redis-server)` : false;
  if (redisBinariesCheck)
    console.error(`\n${'!'.repeat(78)}\n!! SKIPPING tests that start their own Redis: ${redisBinariesCheck}\n${'!'.repeat(78)}\n`);
  return redisBinariesCheck;
}

/** The `portcullis` CLI against a test server's Redis namespace: its exit code and output (a non-zero exit is an answer, not a throw). */
export async function runCli(
  prefix: string,
  args: string[],
  /** `input`: what stdin holds; `env`: configuration on top of the test's. */
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    DEV_SECRETS_FILE: '.portcullis/test-secrets.json',
    LOG_LEVEL: 'silent',
    ...opts.env,
  };
  try {
    const running = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env });
    // stdin is a pipe, never a terminal: what `input` holds (a password for --password-stdin), then its end.
    running.child.stdin?.end(opts.input ?? '');
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
