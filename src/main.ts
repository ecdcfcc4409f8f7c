import cluster from 'node:cluster';
import { createApp } from './app.ts';
import { bootstrapAdminWhenReady } from './bootstrap.ts';
import { ConfigError, isSecureOrigin, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { listen } from './server.ts';
import { createServices } from './services.ts';
import { openStore } from './store/open.ts';
import { superviseWorkers } from './workers.ts';

/** How long start-up waits for Redis before serving without it (503s until it is reachable). */
const STORE_CONNECT_WAIT_MS = 5000;

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) exitOnConfigError(err);
    throw err;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    // Configuration was checked (and development secrets written) once, before any worker starts.
    superviseWorkers({ workers: config.workers, logger: createLogger(config.logLevel) });
    return;
  }
  // A worker's lines say which process wrote them.
  const logger = cluster.isWorker
    ? createLogger(config.logLevel).child({ worker: cluster.worker?.id, pid: process.pid })
    : createLogger(config.logLevel);
  if (config.env === 'production' && !isSecureOrigin(config.publicUrl)) {
    // Token verification works over http; cookies (login and consent pages, cookie sessions) do not.
    logger.warn(
      { publicUrl: config.publicUrl },
      'PUBLIC_URL is not https: browsers drop the Secure cookies production sets, so sign-in pages and cookie sessions will not work (terminate TLS at your proxy and give its https address)',
    );
  }
  if (config.devSecretsFile)
    logger.warn(
      { file: config.devSecretsFile },
      'development keys and secrets in use (set JWKS, COOKIE_SECRET and API_KEY_PEPPER in production)',
    );
  // Redis may come up after us (or be down for a while): start anyway, answer 503 and /ready 503
  // until it is reachable, then serve. The orchestrator's readiness probe holds traffic meanwhile.
  const store = await openStore(config, logger, { connectWaitMs: STORE_CONNECT_WAIT_MS });
  const services = await createServices(config, store, logger);
  await bootstrapAdminWhenReady(services, {
    background: (err) => logger.error({ err: { message: err.message } }, 'bootstrap admin failed'),
  });
  const app = await createApp(services);
  const running = await listen(app, config.port, config.host);
  logger.info({ url: running.url, issuer: config.issuer, store: store.kind }, 'portcullis listening');
  // What an operator checks after a start: which keys sign, and whether production's checks held
  // (configuration refuses unsafe production settings, so a production start means they passed).
  await services.audit.record('system.started', {
    data: {
      signing_keys: services.keystore.publicJwks.keys.map((k) => `${k.kid ?? ''} ${k.alg ?? ''}`.trim()),
      production: config.env === 'production',
      development_secrets: !!config.devSecretsFile,
      public_url_https: isSecureOrigin(config.publicUrl),
      store: store.kind,
    },
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await running.close();
    services.signingKeys.stop();
    await services.refusalTally.flush();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A worker whose supervisor is gone (killed) stops too, instead of serving on unsupervised.
  if (cluster.isWorker) process.on('disconnect', () => void stop('supervisor gone'));
}

/** A configuration error: one plain line on stderr (not a JSON log line) and exit 78, EX_CONFIG. */
function exitOnConfigError(err: ConfigError): never {
  process.stderr.write(`portcullis: ${err.message}\n`);
  process.exit(78);
}

main().catch((err) => {
  if (err instanceof ConfigError) exitOnConfigError(err);
  process.stderr.write(`portcullis: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
