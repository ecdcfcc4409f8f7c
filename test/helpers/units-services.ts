import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices, type Services } from '../../src/services.ts';
import { createMemoryStore } from '../../src/store/memory.ts';

/**
 * The domain libraries wired exactly as the server wires them, on the memory store, without a
 * server: for unit tests of behaviour that lives in the wiring (which sign-in ends how).
 */
export async function memoryServices(env: Record<string, string> = {}): Promise<Services> {
  const config = await loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DEV_SECRETS_FILE: '.portcullis/test-secrets.json', ...env });
  return createServices(config, createMemoryStore(), createLogger('silent'));
}
