import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCluster } from 'redis';
import { freePort } from './harness.ts';

export interface RedisClusterFixture {
  /** One node's URL (the client discovers the rest). */
  url: string;
  /** The nodes' ports (all masters; `url` names the first). */
  ports: number[];
  /** Kill one node's process (SIGKILL), as a crashed or lost master. */
  kill(index: number): void;
  /** Start a killed node again (same port and cluster identity, its data lost): it takes its slots back. */
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private three-master Redis Cluster on loopback (redis-server and redis-cli from the Redis
 * package): what several Portcullis instances run on when one Redis is not enough. Nothing else
 * uses it, so tests may do as they like with it; stop() removes it whole.
 */
export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  // The cluster bus port is given explicitly: its default, port + 10000, is past 65535 for a third
  // of the ephemeral range freePort() draws from.
  const busPorts = [await freePort(), await freePort(), await freePort()];
  const startNode = (i: number) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(ports[i]),
        '--cluster-port',
        String(busPorts[i]),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${ports[i]}.conf`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
  const nodes: ChildProcess[] = ports.map((_, i) => startNode(i));
  const stop = async () => {
    for (const node of nodes) node.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPing(port);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    const url = `redis://127.0.0.1:${ports[0]}`;
    await waitForClusterOk(ports);
    // A client must see every slot served before the tests start.
    const probe = createCluster({ rootNodes: [{ url }] });
    await probe.connect();
    await probe.close();
    const restart = async (index: number) => {
      nodes[index] = startNode(index);
      await waitForPing(ports[index]!);
    };
    return { url, ports, kill: (index) => void nodes[index]!.kill('SIGKILL'), restart, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForPing(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not start`);
}

async function waitForClusterOk(ports: number[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = ports.every((port) =>
      /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout),
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the Redis Cluster did not reach cluster_state:ok');
}
