/**
 * The servers the client-credentials scenario (P3) measures, in a child process of their own: a
 * bare oidc-provider (its in-memory adapter, one client, RS256 JWT access tokens for one resource:
 * the same token Portcullis issues), Portcullis on the embedded store and, when Redis answers,
 * Portcullis on Redis under a private prefix. Each has the client `bench-machine` with the secret
 * the parent passes. Prints `{"bare": tokenUrl, "memory": tokenUrl, "redis": tokenUrl | null}` on
 * one stdout line, then serves until SIGTERM, when it closes everything and deletes its Redis keys.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { listen, type RunningServer } from '../src/server.ts';
import { createServices } from '../src/services.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store/port.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { dropPrefix, REDIS_URL } from './bench-server.ts';
import { serveUntilStopped } from './server-process.ts';

const CLIENT_ID = 'bench-machine';
const secret = process.env.BENCH_CLIENT_SECRET ?? randomBytes(24).toString('base64url');
const prefix = `pcbench:${randomBytes(5).toString('hex')}:`;
const local = (r: RunningServer) => r.url.replace('localhost', '127.0.0.1');

async function startBareProvider(): Promise<RunningServer> {
  const running = await listen(null, 0, '127.0.0.1');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const audience = `${local(running)}/api`;
  const provider = new Provider(local(running), {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'read',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }] },
    scopes: ['read'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          audience,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  running.attach(provider);
  return running;
}

async function startPortcullis(store: Store): Promise<RunningServer> {
  const running = await listen(null, 0, '127.0.0.1');
  const config = await loadConfig({
    NODE_ENV: 'development',
    PUBLIC_URL: local(running),
    LOG_LEVEL: 'silent',
    DEV_SECRETS_FILE: '.portcullis/bench-secrets.json',
    ...(store.kind === 'redis' ? { REDIS_URL, REDIS_PREFIX: prefix } : {}),
  });
  const services = await createServices(config, store, createLogger('silent'));
  await services.oauthClients.create({ clientId: CLIENT_ID, clientSecret: secret, grantTypes: ['client_credentials'], scopes: ['read'] });
  running.attach(await createApp(services));
  return running;
}

async function redisReachable(): Promise<boolean> {
  try {
    const store = await createRedisStore({ url: REDIS_URL, prefix });
    await store.close();
    return true;
  } catch {
    return false;
  }
}

const bare = await startBareProvider();
const memoryStore = createMemoryStore();
const memory = await startPortcullis(memoryStore);
let redisStore: Store | null = null;
let redis: RunningServer | null = null;
if (await redisReachable()) {
  redisStore = await createRedisStore({ url: REDIS_URL, prefix });
  redis = await startPortcullis(redisStore);
}

process.stdout.write(
  JSON.stringify({
    bare: `${local(bare)}/token`,
    memory: `${local(memory)}/oauth/token`,
    redis: redis ? `${local(redis)}/oauth/token` : null,
  }) + '\n',
);

serveUntilStopped(async () => {
  await Promise.all([bare.close(500), memory.close(500), redis?.close(500)]);
  await memoryStore.close();
  if (redisStore) {
    await redisStore.close();
    await dropPrefix(prefix);
  }
});
