/**
 * A throwaway redis-server for tests: its own port on 127.0.0.1, no persistence, stopped by pid.
 * `pause()` / `resume()` stop and restart it on the same port (the "Redis went away" tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
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
