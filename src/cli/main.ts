import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createServices, type Services } from '../services.ts';
import { openStore, redactUrl } from '../store/open.ts';
import type { Store } from '../store/port.ts';
import { isUsageError, UsageError } from './errors.ts';
import { allCommands, commandNames, lookup, register, type Command } from './registry.ts';
import { didYouMean } from './suggest.ts';
import { packageVersion } from './version.ts';
import { grantCommand } from './commands/grant.ts';
import { customerCommand } from './commands/customer.ts';
import { jwksCommand } from './commands/jwks.ts';
import { userCommand } from './commands/user.ts';
import { apiKeyCommand } from './commands/api-key.ts';
import { clientCommand } from './commands/client.ts';
import { auditCommand } from './commands/audit.ts';
import { keysCommand } from './commands/keys.ts';

// The commands: one line each.
register(userCommand);
register(customerCommand);
register(jwksCommand);
register(apiKeyCommand);
register(clientCommand);
register(auditCommand);
register(grantCommand);
register(keysCommand);

/** Not a usage error, but the CLI cannot work in this setup (e.g. no REDIS_URL). */
class CliError extends Error {}

const EMBEDDED_STORE_MESSAGE = `REDIS_URL is not set. Without it the server uses its embedded store, which lives inside the server
process: a separate CLI process cannot reach it. Point the CLI at the same Redis as the server, e.g.
  REDIS_URL=redis://127.0.0.1:6379 npm run cli -- user create --email a@example.com
(or create the first admin with BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD when starting the server).`;

const STORE_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function help(): string {
  const width = Math.max(...allCommands().map((c) => c.name.length));
  return `portcullis: the Portcullis command line (works against the store at REDIS_URL)

Usage: portcullis <command> ... [--help]
       portcullis --version

Commands:
${allCommands()
  .map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Configuration comes from the environment, as for the server (REDIS_URL, REDIS_PREFIX, ...).
Output is JSON on stdout; errors go to stderr (exit 2 for usage errors, 78 for configuration errors, 1 otherwise).
Passwords are asked for on the terminal, or read from stdin with --password-stdin; never put them on the command line.
Changes are recorded in the audit trail with actor {type: cli, id: <OS user>}.`;
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(help() + '\n');
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(packageVersion() + '\n');
    return 0;
  }
  const command: Command | undefined = lookup(name);
  if (!command) {
    const hint = didYouMean(name, commandNames());
    process.stderr.write(`portcullis: unknown command "${name}"${hint ? `. ${hint}` : ''}\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  const sub = rest[0];
  if (command.subcommands && !(sub !== undefined && command.subcommands.includes(sub))) {
    const problem = sub === undefined ? 'a command is required' : `unknown ${name} command "${sub}"`;
    const hint = sub === undefined ? '' : didYouMean(sub, command.subcommands);
    process.stderr.write(`portcullis ${name}: ${problem}${hint ? `. ${hint}` : ''}\n\n${command.usage}\n`);
    return 2;
  }

  let store: Store | undefined;
  let opened: Promise<Services> | undefined;
  const services = () =>
    (opened ??= (async () => {
      const config = await loadConfig(process.env);
      if (!config.redisUrl) throw new CliError(EMBEDDED_STORE_MESSAGE);
      // Logs (e.g. Redis connection errors) go to stderr: stdout is for the JSON result only.
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
      // The Redis client retries a refused connection forever; a command line should say so and stop.
      store = await withTimeout(
        openStore(config, logger),
        STORE_TIMEOUT_MS,
        () => new CliError(`cannot reach Redis at ${redactUrl(config.redisUrl!)} (is it running? is REDIS_URL right?)`),
      );
      return createServices(config, store, logger);
    })());
  try {
    return await command.run({ argv: rest, print: (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n'), services });
  } catch (err) {
    if (isUsageError(err)) {
      process.stderr.write(`portcullis ${name}: ${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    throw err;
  } finally {
    await store?.close().catch(() => {});
  }
}

// process.exit, not exitCode: a Redis client still retrying an unreachable server would keep the
// process alive. stdout and stderr are synchronous for files and pipes on Linux, so nothing is lost.
run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      process.exit(78); // EX_CONFIG, as the server
    }
    const e = err as { message?: string; code?: unknown };
    const code = typeof e?.code === 'string' && !e.code.startsWith('ERR_') ? ` (${e.code})` : '';
    process.stderr.write(`portcullis: ${e?.message ?? String(err)}${code}\n`);
    process.exit(1);
  },
);

export { UsageError };
