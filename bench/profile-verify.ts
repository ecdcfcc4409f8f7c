/**
 * Where does /v1/auth/verify spend its time? Starts bench/verify-servers.ts under --cpu-prof,
 * loads one target (memory by default, or `redis`, or `bare`) for a few seconds, and prints the
 * top functions by self time and the time per source area (ours by folder, Koa, jose, redis, Node).
 * `node --import tsx bench/profile-verify.ts [memory|redis|bare]`
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const target = (process.argv[2] ?? 'memory') as 'memory' | 'redis' | 'bare';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pc-prof-'));
const user = { email: 'bench@example.com', password: randomBytes(12).toString('base64url') };
const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', 'bench/verify-servers.ts'], {
  cwd: ROOT,
  env: { ...process.env, BENCH_USER_EMAIL: user.email, BENCH_USER_PASSWORD: user.password },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const urls = JSON.parse(await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', r)));
const base: string = urls[target];
let url = base;
const headers: Record<string, string> = {};
if (target !== 'bare') {
  const res = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.email, password: user.password }),
  });
  headers.authorization = `Bearer ${((await res.json()) as { token: string }).token}`;
  url = `${base}/v1/auth/verify`;
}
const result = await autocannon({ url, headers, connections: 20, duration: Number(process.env.BENCH_SECONDS ?? 6) });
process.stdout.write(`${target}: ${Math.round(result.requests.average)} req/s, non-2xx ${result.non2xx}\n`);
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
await exited;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};
// Only the samples of the load (it ends just before the SIGTERM that ends the profile): module
// loading and start-up would otherwise dominate.
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const windowStart = profile.endTime - (seconds - 0.5) * 1e6;
const windowEnd = profile.endTime - 0.3e6;
const self = new Map<number, number>();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= windowStart && at <= windowEnd) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const requestsInWindow = (result.requests.total * (seconds - 0.8)) / seconds;
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const area = (u: string) => {
  if (!u) return '(native/idle/gc)';
  if (u.includes('/node_modules/'))
    return (
      'npm:' +
      u
        .split('/node_modules/')
        .pop()!
        .split('/')
        .slice(0, u.includes('/@') ? 2 : 1)
        .join('/')
    );
  if (u.startsWith('node:')) return u;
  if (u.includes('/src/')) return 'src/' + u.split('/src/').pop();
  return u;
};
const byFn = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${area(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  const a = area(n.callFrame.url)
    .replace(/^(src\/[^/]+)\/.*$/, '$1')
    .replace(/^(npm:[^/]+(\/[^/]+)?).*$/, '$1');
  byArea.set(a, (byArea.get(a) ?? 0) + t);
}
const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
process.stdout.write(
  `busy ${(((total - idle) / total) * 100).toFixed(0)}% of the window: ~${((total - idle) / requestsInWindow).toFixed(0)} µs of server CPU per request\n`,
);
const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write('\nself time by area:\n');
for (const [a, t] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 25)) process.stdout.write(`  ${pct(t)}  ${a}\n`);
process.stdout.write('\ntop functions by self time:\n');
for (const [f, t] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, 30)) process.stdout.write(`  ${pct(t)}  ${f}\n`);

// Inclusive time (a function and what it calls, synchronous part) of the frames worth knowing:
// our own code by function, Koa's pipeline and Node's HTTP write.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!.callFrame;
    const a = area(f.url);
    if (
      !a.startsWith('src/') &&
      !/^npm:(jose|koa|@koa\/router|@redis\/client|pino)$/.test(a.replace(/\/.*$/, (m) => (a.startsWith('npm:@') ? m : '')))
    )
      continue;
    const key = `${f.functionName || '(anonymous)'} ${a}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
process.stdout.write('\ninclusive time (ours, jose, koa, router, redis client):\n');
for (const [f, t] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, 45))
  process.stdout.write(`  ${pct(t)}  ${(t / requestsInWindow).toFixed(0).padStart(4)} µs/req  ${f}\n`);
