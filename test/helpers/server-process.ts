import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The real server process (`npm start`: node --import tsx src/main.ts), with its JSON log read as it comes. */
export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Where it listens (from its "portcullis listening" line). */
  url: string;
  /** JSON log lines so far. */
  logs: Record<string, any>[];
  stdout(): string;
  stderr(): string;
  /** Its exit code, and when it exited (performance.now()). */
  exited: Promise<{ code: number | null; at: number }>;
  waitForLog(predicate: (line: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

/** An environment without the caller's Portcullis settings, listening on a free port of 127.0.0.1. */
function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of [
    'REDIS_URL',
    'REDIS_PREFIX',
    'REDIS_CLUSTER',
    'NODE_ENV',
    'PORT',
    'PUBLIC_URL',
    'JWKS',
    'JWKS_FILE',
    'COOKIE_SECRET',
    'API_KEY_PEPPER',
    'BOOTSTRAP_ADMIN_EMAIL',
    'BOOTSTRAP_ADMIN_PASSWORD',
  ])
    delete clean[name];
  return { ...clean, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DEV_SECRETS_FILE: '.portcullis/test-secrets.json', ...env };
}

/** Start the server process without waiting for it (a bad configuration never listens). */
export function spawnServerProcess(env: Record<string, string>): Omit<ServerProcess, 'url'> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: baseEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logs: Record<string, any>[] = [];
  const waiters: { predicate: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    const lines = out.split('\n');
    for (const raw of lines.slice(logs.length, -1)) {
      const line = JSON.parse(raw);
      logs.push(line);
      for (const w of [...waiters]) {
        if (!w.predicate(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );
  const waitForLog = (predicate: (l: Record<string, any>) => boolean) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      waiters.push({ predicate, resolve });
      void exited.then(({ code }) => reject(new Error(`server exited (${code}) before the expected log line; stderr: ${err}`)));
    });
  return { child, logs, stdout: () => out, stderr: () => err, exited, waitForLog };
}

/** Start the server process and wait until it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const p = spawnServerProcess(env);
  const listening = await p.waitForLog((l) => l.msg === 'portcullis listening');
  return { ...p, url: listening.url.replace('localhost', '127.0.0.1') };
}
