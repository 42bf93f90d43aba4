/**
 * A throwaway redis-server for tests: its own port on 127.0.0.1, no persistence, stopped by pid.
 * `pause()` / `resume()` stop and restart it on the same port (the "Redis went away" tests).
 * startRedisCluster(): a small Redis Cluster, for the `redis+cluster://` backend.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, stopChild, tempDir, waitFor } from './harness.js';

export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stops the server; the port stays reserved for resume(). */
  pause(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  resume(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server hangs (commands time out) and comes back with its data. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

async function launch(port: number, dir: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => /Ready to accept connections/.test(out) || child.exitCode !== null, 10_000, () => `redis-server did not start:\n${out}`);
  if (child.exitCode !== null) throw new Error(`redis-server exited:\n${out}`);
  return child;
}

export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const dir = tempDir('kemi-redis-');
  let child: ChildProcess | null = await launch(port, dir);
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get pid() {
      return child?.pid ?? -1;
    },
    pause: async () => {
      if (child) await stopChild(child);
      child = null;
    },
    resume: async () => {
      if (!child) child = await launch(port, dir);
    },
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    stop: async () => {
      child?.kill('SIGCONT');
      if (child) await stopChild(child);
      child = null;
    },
  };
}

export interface RedisClusterHandle {
  readonly ports: number[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`, what --state takes. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway Redis Cluster of `masters` nodes (no replicas) on 127.0.0.1, slots spread by
 * `redis-cli --cluster create`; every node is stopped by its pid.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const dir = tempDir('kemi-redis-cluster-');
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopChild(c)));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      children.push(await launch(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000']));
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8', timeout: 20_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    await waitFor(() => ports.every((p) => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout)), 15_000, () => 'Redis Cluster never reached cluster_state:ok');
  } catch (e) {
    await stop();
    throw e;
  }
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
}
