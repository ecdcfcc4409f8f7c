/**
 * `npm run bench [-- name ...] [-- --json]`: runs the scenarios of bench/scenarios.ts (all, or the
 * ones named), one after another so they do not compete for the CPU, and prints each result.
 * BENCH_SECONDS shortens or lengthens each measurement. Exit code 1 when a scenario misses its goal.
 */
import { availableParallelism } from 'node:os';
import { withRedis } from './bench-server.ts';
import { scenarios, type Figure } from './scenarios.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !scenarios.some((s) => s.name === w));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const selected = wanted.length ? scenarios.filter((s) => wanted.includes(s.name)) : scenarios;

const started = Date.now();
const results: Record<string, unknown> = {};
const figures: Figure[] = [];
let allPassed = true;
for (const scenario of selected) {
  process.stdout.write(`\n== ${scenario.name}: ${scenario.description}\n`);
  const t = Date.now();
  try {
    const result = await scenario.run();
    results[scenario.name] = result;
    process.stdout.write(`${scenario.format(result)}\n  (${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
    if (scenario.passed && !scenario.passed(result)) allPassed = false;
    figures.push(...(scenario.figures?.(result) ?? []));
  } catch (err) {
    allPassed = false;
    process.stdout.write(`  FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}
const redisVersion = await withRedis(async (c) => /redis_version:(\S+)/.exec(await c.info('server'))?.[1] ?? '?').catch(
  () => 'unreachable',
);
process.stdout.write(`\nSummary: ${availableParallelism()} cores, node ${process.version}, Redis ${redisVersion}\n`);
process.stdout.write('| id | figure | value | goal | |\n|---|---|---|---|---|\n');
for (const f of figures)
  process.stdout.write(`| ${f.id} | ${f.what} | ${f.value} | ${f.goal ?? ''} | ${f.ok === undefined ? '' : f.ok ? 'OK' : 'NOT MET'} |\n`);
process.stdout.write(
  `\n${allPassed ? 'All goals met' : 'Some goals NOT met'} (${((Date.now() - started) / 1000).toFixed(1)} s, node ${process.version}, ${process.platform}/${process.arch})\n`,
);
if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
process.exitCode = allPassed ? 0 : 1;
