import { fileURLToPath } from 'node:url';

/**
 * `node --import tsx bench/<scenario>.ts` runs that scenario alone: its report on stderr, its
 * result as JSON on stdout, exit code 1 when `passed` says the goal was missed. Does nothing when
 * the module was imported (by `npm run bench`).
 */
export async function runAloneIfMain<R>(moduleUrl: string, run: () => Promise<R>, format: (r: R) => string, passed?: (r: R) => boolean) {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== process.argv[1]) return;
  const result = await run();
  process.stderr.write(`${format(result)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (passed) process.exitCode = passed(result) ? 0 : 1;
}
