import { createApp } from './app.ts';
import { bootstrapAdmin } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { listen } from './server.ts';
import { createServices } from './services.ts';
import { openStore } from './store/open.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.devSecretsFile) logger.warn({ file: config.devSecretsFile }, 'development keys and secrets in use (set JWKS, COOKIE_SECRET and API_KEY_PEPPER in production)');
  const store = await openStore(config, logger);
  const services = await createServices(config, store, logger);
  await bootstrapAdmin(services);
  const app = await createApp(services);
  const running = await listen(app, config.port, config.host);
  logger.info({ url: running.url, issuer: config.issuer, store: store.kind }, 'portcullis listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await running.close();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`portcullis: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
