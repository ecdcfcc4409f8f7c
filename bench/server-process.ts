/**
 * Servers measured from a process of their own, so the load generator does not share their event
 * loop. The parent starts the child with `startServerProcess`; the child prints its URLs as one
 * JSON line on stdout, then `serveUntilStopped`: it answers `{type: 'cpu'}` messages with its CPU
 * time (server CPU per request does not depend on how fast the load generator is) and cleans up on
 * SIGTERM, SIGINT, or when the parent goes away.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Start `script` (a path from the repository's root) and read the URLs it prints. */
export async function startServerProcess<Urls>(
  script: string,
  env: Record<string, string> = {},
): Promise<{ urls: Urls; cpu: () => Promise<number>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
  });
  return {
    urls: JSON.parse(line) as Urls,
    cpu: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => {
          const { usage } = m as { usage: NodeJS.CpuUsage };
          resolve(usage.user + usage.system);
        });
        child.send({ type: 'cpu' });
      }),
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** In the child: serve until told to stop (or orphaned), then run `stop` once and exit. */
export function serveUntilStopped(stop: () => Promise<void>): void {
  let stopping = false;
  const end = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void end());
  process.on('SIGINT', () => void end());
  process.on('message', (msg: unknown) => {
    if ((msg as { type?: string })?.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  });
  // The parent went away without a signal: clean up anyway.
  process.stdin.on('end', () => void end());
  process.stdin.resume();
}
