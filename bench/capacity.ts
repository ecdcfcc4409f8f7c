/**
 * Scenario "capacity": the measurements docs/capacity.md is computed from, on real records.
 * - Redis memory (MEMORY USAGE ... SAMPLES 0, summed over every key of a private prefix) per user,
 *   per customer, per API key, per live /v1 sign-in and per audit event: the growth over N of each,
 *   divided by N (so what an index entry adds to an existing index counts too).
 * - The Redis commands each request type sends (MONITOR, filtered to the prefix; a script counts once).
 * - With BENCH_SIGNINS (default 100 000) more sign-ins in Redis, cloned from a real one, whether
 *   /v1/auth/verify's requests/s holds (ratio after / before; goal >= 0.9).
 * Run alone: `node --import tsx bench/capacity.ts` (JSON on stdout).
 */
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import { createClient } from 'redis';
import { createAccounts } from '../src/accounts/accounts.ts';
import { createPasswordHasher } from '../src/accounts/passwords.ts';
import { keys } from '../src/store/keys.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { REDIS_URL, startBenchServer, withRedis, type BenchServer } from './bench-server.ts';
import { runAloneIfMain } from './run-alone.ts';

export const name = 'capacity';
export const description =
  'Redis bytes per record kind, commands and round trips per request kind, and verify throughput with 100k sign-ins stored (goal: ratio >= 0.9)';
export const GOAL = 0.9;

export interface CapacityResult {
  name: string;
  redisVersion: string;
  bytes: Record<string, number>;
  commands: Record<string, string[]>;
  /** Round trips to Redis per request kind (the commands of one round trip travel together). */
  roundTrips: Record<string, number>;
  fill: { signIns: number; beforeRps: number; afterRps: number; ratio: number; bytesAdded: number; seconds: number };
  meetsGoal: boolean;
}

/** Every key of the prefix (but the audit stream and the quotas, counted apart) and its exact size. */
async function bytesUnder(prefix: string, only?: (bare: string) => boolean): Promise<number> {
  return withRedis(async (client) => {
    let total = 0;
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
      for (const key of batch) {
        const bare = key.slice(prefix.length);
        if (only ? !only(bare) : bare.startsWith('events:') || bare.startsWith('rl:')) continue;
        total += Number(await client.memoryUsage(key, { SAMPLES: 0 }));
      }
    return total;
  });
}

async function perRecord(
  prefix: string,
  count: number,
  make: (i: number) => Promise<unknown>,
  only?: (bare: string) => boolean,
): Promise<number> {
  const before = await bytesUnder(prefix, only);
  for (let i = 0; i < count; i++) await make(i);
  return Math.round((await bytesUnder(prefix, only)) - before) / count;
}

/** The commands (names) `request` makes Redis run on `prefix`. */
/**
 * The commands one request sends to Redis under `prefix` (MONITOR; a script counts as one), and
 * its round trips: Redis's `total_reads_processed` across the request (commands a client sends
 * together arrive in one read), less our own INFO and any signing-key version poll that fell
 * inside (MONITOR shows both, with their order).
 */
async function commandsOf(prefix: string, request: () => Promise<unknown>): Promise<{ commands: string[]; roundTrips: number }> {
  const lines: string[] = [];
  const monitor = createClient({ url: REDIS_URL });
  const stats = createClient({ url: REDIS_URL });
  await Promise.all([monitor.connect(), stats.connect()]);
  await monitor.monitor((line: string) => void lines.push(line));
  const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await stats.info('stats'))?.[1] ?? NaN);
  const marker = `${prefix}marker:${Math.random()}`;
  let roundTrips: number;
  try {
    const before = await reads();
    await request();
    const after = await reads();
    await withRedis((c) => c.get(marker));
    const until = Date.now() + 5000;
    while (!lines.some((l) => l.includes(marker)) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const infos = lines.flatMap((l, i) => (/"info" "stats"/i.test(l) ? [i] : []));
    const polls = lines.slice(infos[0], infos[1]).filter((l) => l.includes(`${prefix}${keys.signingKeysVersion()}`)).length;
    roundTrips = after - before - 1 - polls;
  } finally {
    await Promise.all([monitor.close(), stats.close()]);
  }
  const commands = lines
    .filter(
      (l) => l.includes(prefix) && !l.includes(marker) && !/\[\d+ lua\]/.test(l) && !l.includes(`${prefix}${keys.signingKeysVersion()}`),
    )
    .map((l) => /"([a-zA-Z]+)"/.exec(l)![1]!.toLowerCase());
  return { commands, roundTrips };
}

const json = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function verifyRps(server: BenchServer, token: string, seconds: number): Promise<number> {
  const r = await autocannon({
    url: `${server.url}/v1/auth/verify`,
    headers: { authorization: `Bearer ${token}` },
    connections: 20,
    duration: seconds,
  });
  if (r.non2xx) throw new Error(`verify answered ${r.non2xx} non-2xx`);
  return Math.round(r.requests.average);
}

/** `count` sign-ins like the one of `familyId` (its family, token, token index, sign-in entry and record), with new ids. */
async function fill(prefix: string, familyId: string, accountId: string, count: number): Promise<void> {
  await withRedis(async (client) => {
    const source = new Map<string, string>();
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
      for (const key of batch) if (key.includes(familyId) || key.includes(`signin:${accountId}:`)) source.set(key, key);
    const family = await client.get(`${prefix}rtf:{${familyId}}`);
    const tokenKey = [...source.keys()].find((k) => k.includes(':t:'))!;
    const token = await client.get(tokenKey);
    const recordKey = [...source.keys()].find((k) => k.includes(`signin:${accountId}:`))!;
    const record = await client.get(recordKey);
    const ttl = 3600;
    for (let start = 0; start < count; start += 1000) {
      const multi = client.multi();
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const k = fillKeys(prefix, i, count);
        multi.set(k.family, family!, { EX: ttl });
        multi.set(k.token, token!, { EX: ttl });
        multi.zAdd(k.tokens, { score: Date.now(), value: k.hash });
        multi.expire(k.tokens, ttl);
        multi.zAdd(k.signIns, { score: Date.now() + ttl * 1000, value: `family:${k.fam}` });
        multi.expire(k.signIns, ttl);
        multi.set(k.record, record!, { EX: ttl });
      }
      await multi.execAsPipeline();
    }
  });
}

/** The keys of the `i`th of `count` filled sign-ins (two per account). */
function fillKeys(prefix: string, i: number, count: number) {
  const fam = `01FILL${String(i).padStart(20, '0')}`;
  const acct = `user_01FILL${String(i % (count / 2)).padStart(20, '0')}`;
  const hash = `${String(i).padStart(8, '0')}${'x'.repeat(35)}`;
  return {
    fam,
    hash,
    family: `${prefix}rtf:{${fam}}`,
    token: `${prefix}rtf:{${fam}}:t:${hash}`,
    tokens: `${prefix}rtf:{${fam}}:tokens`,
    signIns: `${prefix}signins:${acct}`,
    record: `${prefix}signin:${acct}:si_${String(i).padStart(24, '0')}`,
  };
}

/** Delete what `fill` wrote (by name: no scan). */
async function unfill(prefix: string, count: number): Promise<void> {
  await withRedis(async (client) => {
    for (let start = 0; start < count; start += 1000) {
      const names = new Set<string>();
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        const k = fillKeys(prefix, i, count);
        for (const key of [k.family, k.token, k.tokens, k.signIns, k.record]) names.add(key);
      }
      await client.unlink([...names]);
    }
  });
}

export async function run(opts: { seconds?: number; signIns?: number } = {}): Promise<CapacityResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const signIns = opts.signIns ?? Number(process.env.BENCH_SIGNINS ?? 100_000);
  const server = await startBenchServer();
  const store = await createRedisStore({ url: REDIS_URL, prefix: server.prefix });
  const { prefix } = server;
  try {
    const redisVersion = await withRedis(async (c) => /redis_version:(\S+)/.exec(await c.info('server'))?.[1] ?? '?');
    const hasher = createPasswordHasher();
    const accounts = createAccounts({ store, passwords: hasher });
    const passwordHash = await hasher.hash('capacity password 1');
    const bytes: Record<string, number> = {};
    bytes['user'] = await perRecord(prefix, 200, (i) =>
      accounts.create({
        actorType: 'user',
        email: `cap-user${i}@example.com`,
        passwordHash,
        firstName: 'Ada',
        lastName: 'Lovelace',
        role: 'member',
      }),
    );
    bytes['customer'] = await perRecord(prefix, 200, (i) =>
      accounts.create({
        actorType: 'customer',
        email: `cap-customer${i}@example.com`,
        passwordHash,
        firstName: 'Grace',
        lastName: 'Hopper',
      }),
    );
    const admin = await server.login();
    const auth = { authorization: `Bearer ${admin.token}` };
    bytes['api key (secret)'] = await perRecord(prefix, 50, async (i) => {
      const res = await json(`${server.url}/admin/api-keys`, { title: `capacity ${i}`, type: 'secret' }, auth);
      if (!res.ok) throw new Error(`api key: ${res.status} ${await res.text()}`);
    });
    const auditBefore = await withRedis((c) => c.xLen(`${prefix}events:audit`));
    const auditBytesBefore = await bytesUnder(prefix, (k) => k === 'events:audit');
    // A live /v1 sign-in as it is after a rotation (its family, two token records and their index, its entry and record).
    bytes['live /v1 sign-in (one rotation)'] = await perRecord(prefix, 20, async () => {
      const pair = await server.login();
      const res = await json(`${server.url}/v1/auth/refresh`, { refresh_token: pair.refresh_token });
      if (!res.ok) throw new Error(`refresh: ${res.status}`);
    });
    // Each rotation adds a token record (kept for reuse detection while the family lives) and an index entry.
    {
      let pair = await server.login();
      const before = await bytesUnder(prefix);
      for (let i = 0; i < 20; i++)
        pair = (await (await json(`${server.url}/v1/auth/refresh`, { refresh_token: pair.refresh_token })).json()) as typeof pair;
      bytes['each further rotation'] = Math.round(((await bytesUnder(prefix)) - before) / 20);
    }
    const auditAfter = await withRedis((c) => c.xLen(`${prefix}events:audit`));
    bytes['audit event'] = Math.round(
      ((await bytesUnder(prefix, (k) => k === 'events:audit')) - auditBytesBefore) / Math.max(1, auditAfter - auditBefore),
    );

    // Commands per request kind (after a warm-up of each, as in steady state).
    const apiKey = (await (await json(`${server.url}/admin/api-keys`, { title: 'verify', type: 'secret' }, auth)).json()) as {
      api_key: { token: string };
    };
    const verify = (credential: string) => fetch(`${server.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${credential}` } });
    await verify(admin.token);
    await verify(apiKey.api_key.token);
    const commands: Record<string, string[]> = {};
    const roundTrips: Record<string, number> = {};
    const measure = async (kind: string, request: () => Promise<unknown>) => {
      ({ commands: commands[kind], roundTrips: roundTrips[kind] } = await commandsOf(prefix, request));
    };
    await measure('verify (JWT, repeated)', () => verify(admin.token));
    await measure('verify (secret API key, repeated)', () => verify(apiKey.api_key.token));
    let pair = { token: '', refresh_token: '' };
    await measure('login (/v1, correct password)', async () => (pair = await server.login()));
    await measure('refresh (/v1)', async () => {
      pair = (await (await json(`${server.url}/v1/auth/refresh`, { refresh_token: pair.refresh_token })).json()) as typeof pair;
    });
    await measure('logout (/v1)', () => json(`${server.url}/v1/auth/logout`, {}, { authorization: `Bearer ${pair.token}` }));
    await measure('failed login (unknown account)', () =>
      json(`${server.url}/v1/auth/login`, { username: 'nobody@example.com', password: 'not a password' }),
    );

    // Verify throughput with the data size: without and with `signIns` more sign-ins, twice in
    // turn (without, with, without, with), so a machine whose speed drifts meanwhile (a shared
    // host) weighs on both sides alike.
    const probe = await server.login();
    await verifyRps(server, probe.token, 2); // warm-up
    const familyId = JSON.parse(Buffer.from(probe.token.split('.')[1]!, 'base64url').toString()).sid as string;
    const accountId = JSON.parse(Buffer.from(probe.token.split('.')[1]!, 'base64url').toString()).sub as string;
    const usedMemory = () => withRedis(async (c) => Number(/used_memory:(\d+)/.exec(await c.info('memory'))?.[1]));
    let beforeTotal = 0;
    let afterTotal = 0;
    let bytesAdded = 0;
    let fillSeconds = 0;
    for (let round = 0; round < 2; round++) {
      beforeTotal += await verifyRps(server, probe.token, seconds);
      const filledFrom = Date.now();
      const bytesBefore = await usedMemory();
      await fill(prefix, familyId, accountId, signIns);
      bytesAdded = (await usedMemory()) - bytesBefore;
      fillSeconds = Math.round((Date.now() - filledFrom) / 100) / 10;
      // Redis rehashes its key space incrementally after a large growth: let it settle, as a live deployment would be.
      await new Promise((r) => setTimeout(r, 3000));
      await verifyRps(server, probe.token, 1);
      afterTotal += await verifyRps(server, probe.token, seconds);
      if (round === 0) {
        await unfill(prefix, signIns);
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    const beforeRps = Math.round(beforeTotal / 2);
    const afterRps = Math.round(afterTotal / 2);
    const ratio = Math.round((afterRps / Math.max(beforeRps, 1)) * 100) / 100;
    return {
      name,
      redisVersion,
      bytes,
      commands,
      roundTrips,
      fill: { signIns, beforeRps, afterRps, ratio, bytesAdded, seconds: fillSeconds },
      meetsGoal: ratio >= GOAL,
    };
  } finally {
    await store.close();
    await server.stop();
  }
}

export function format(r: CapacityResult): string {
  const count = (list: string[]) => `${list.length} (${[...list].sort().join(' ')})`;
  return [
    `${r.name}: ${description} [Redis ${r.redisVersion}, ${availableParallelism()} cores]`,
    ...Object.entries(r.bytes).map(([k, v]) => `  bytes per ${k.padEnd(34)} ${String(Math.round(v)).padStart(6)}`),
    ...Object.entries(r.commands).map(([k, v]) => `  commands of ${k.padEnd(34)} ${count(v)}, in ${r.roundTrips[k]} round trip(s)`),
    `  ${r.fill.signIns} more sign-ins (${Math.round(r.fill.bytesAdded / 1024 / 1024)} MiB, written in ${r.fill.seconds} s): verify ${r.fill.beforeRps} -> ${r.fill.afterRps} req/s (mean of 2 alternating rounds), ratio ${r.fill.ratio.toFixed(2)} (goal >= ${GOAL}): ${r.meetsGoal ? 'OK' : 'BELOW GOAL'}`,
  ].join('\n');
}

await runAloneIfMain(
  import.meta.url,
  () => run(),
  format,
  (r) => r.meetsGoal,
);
