import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { dropPrefix, privatePrefix, REDIS_URL } from '../helpers/harness.ts';
import { spawnServerProcess } from '../helpers/server-process.ts';

/** One GET on a connection of its own (no keep-alive: each request is a new connection the supervisor hands to a worker). */
function fetchStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** The parent pid of a process, from /proc (Linux). */
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('WORKERS=2: two server processes share the port under a supervisor', () => {
  const prefix = privatePrefix('workers');
  after(() => dropPrefix(prefix));

  it('serves from two worker processes, replaces one that dies while the other keeps answering, and stops all on SIGTERM', async () => {
    const server = spawnServerProcess({ WORKERS: '2', REDIS_URL, REDIS_PREFIX: prefix });
    try {
      const listening = () => server.logs.filter((l) => l.msg === 'portcullis listening');
      const firstTwo = await until('two workers listening', () => (listening().length >= 2 ? listening().slice(0, 2) : undefined));
      const pids = firstTwo.map((l) => l.pid as number);
      assert.equal(new Set(pids).size, 2, 'two distinct processes');
      for (const pid of pids) assert.equal(parentOf(pid), server.child.pid, 'each worker is a child of the supervisor');
      // Both listen on the one port the supervisor shares out.
      assert.equal(firstTwo[0]!.url, firstTwo[1]!.url);
      const url = `${String(firstTwo[0]!.url).replace('localhost', '127.0.0.1')}/health`;
      for (let i = 0; i < 6; i++) assert.equal(await fetchStatus(url), 200);

      // One worker dies hard: the service keeps answering, and the supervisor starts another.
      process.kill(pids[0]!, 'SIGKILL');
      const died = await until('the death logged', () => server.logs.find((l) => l.msg === 'worker died: starting another'));
      assert.equal(died.pid, pids[0]);
      for (let i = 0; i < 6; i++) assert.equal(await fetchStatus(url), 200, 'the other worker answers meanwhile');
      const replacement = await until('a replacement listening', () => listening().find((l) => !pids.includes(l.pid)));
      assert.equal(parentOf(replacement.pid), server.child.pid);
      for (let i = 0; i < 6; i++) assert.equal(await fetchStatus(url), 200);

      // SIGTERM to the supervisor stops every worker and then itself, with exit 0.
      const workers = [pids[1]!, replacement.pid as number];
      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      assert.equal(code, 0, server.stderr());
      for (const pid of workers) assert.equal(alive(pid), false, `worker ${pid} stopped`);
      assert.equal(server.logs.filter((l) => l.msg === 'worker stopped').length, 2);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });

  it('refuses more than one worker without Redis (each would have its own store): exit 78', async () => {
    const server = spawnServerProcess({ WORKERS: '2' });
    const { code } = await server.exited;
    assert.equal(code, 78);
    assert.match(server.stderr(), /WORKERS: more than one worker needs REDIS_URL/);
  });
});
