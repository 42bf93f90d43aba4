/**
 * Real Kamailio 5.6 running a KEMI Lua script (cfgengine "lua"), for differential tests and
 * benchmarks: the same script, the same SIPp scenarios, compared with kemi-proxy. Stopped by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO, stopChild, tempDir, waitFor } from './harness.js';

export interface KamailioHandle {
  readonly pid: number;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

const APP_LUA = '/usr/lib/x86_64-linux-gnu/kamailio/modules/app_lua.so';

/** Where kamailio is, or null when it (or kamailio-lua-modules) is not installed. */
export function kamailioBinary(): string | null {
  for (const p of ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio']) {
    if (spawnSync('test', ['-x', p]).status === 0 && spawnSync('test', ['-f', APP_LUA]).status === 0) return p;
  }
  return null;
}

/** `modules`: extra `loadmodule`/`modparam` lines, placed before app_lua is loaded. */
export async function startKamailio(script: string, opts: { children?: number; port?: number; modules?: string } = {}): Promise<KamailioHandle> {
  const port = opts.port ?? (await freePort());
  return startKamailioCfg((dir) => readFileSync(join(REPO, 'bench/kamailio/kamailio.cfg.tpl'), 'utf8')
    .replaceAll('@PORT@', String(port))
    .replaceAll('@SCRIPT@', script)
    .replaceAll('@CHILDREN@', String(opts.children ?? 2))
    .replaceAll('@RUNDIR@', dir)
    .replace('loadmodule "app_lua.so"', `${opts.modules ?? ''}\nloadmodule "app_lua.so"`), port);
}

/** Starts Kamailio on a config built for its own run directory (`cfg(dir)`), listening on `port`. */
export async function startKamailioCfg(cfg: (dir: string) => string, port: number): Promise<KamailioHandle> {
  const bin = kamailioBinary();
  if (!bin) throw new Error('kamailio with kamailio-lua-modules is not installed: apt-get install kamailio kamailio-lua-modules');
  const dir = tempDir('kemi-kam-');
  writeFileSync(join(dir, 'kamailio.cfg'), cfg(dir));
  const child: ChildProcess = spawn(bin, ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '256', '-M', '32', '-Y', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const handle: KamailioHandle = { pid: child.pid!, port, output: () => out, stop: () => stopChild(child) };
  try {
    await waitFor(() => /Aliases|listening on/.test(out) || child.exitCode !== null, 10_000, () => `kamailio did not start:\n${out}`);
  } catch (e) {
    await handle.stop();
    throw e;
  }
  if (child.exitCode !== null) throw new Error(`kamailio exited with ${child.exitCode}:\n${out}`);
  // Its children start after the listening line.
  await new Promise((r) => setTimeout(r, 800));
  return handle;
}
