/**
 * A throwaway rtpengine daemon for tests (Debian's rtpengine-daemon, /usr/bin/rtpengine) in
 * userspace mode: no kernel table, no config file, its ng port and media ports on 127.0.0.1.
 * Started and stopped by pid, every wait bounded. `ng(dict)` sends one ng command straight to it
 * (for the test's own checks: query, list).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { bdecode, bencode, type BDecoded, type BValue } from '../../src/media/bencode.js';
import { stopChild } from './harness.js';

export const RTPENGINE_BIN = '/usr/bin/rtpengine';

export interface RtpengineHandle {
  readonly pid: number;
  readonly ngPort: number;
  output(): string;
  ng(dict: Record<string, BValue>, timeoutMs?: number): Promise<Map<string, BDecoded>>;
  stop(): Promise<void>;
}

/** One ng request over a fresh socket; rejects after timeoutMs. */
export function ngRequest(port: number, dict: Record<string, BValue>, timeoutMs = 1000): Promise<Map<string, BDecoded>> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const cookie = `t${Math.random().toString(36).slice(2, 10)}`;
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`rtpengine on ${port} did not answer ${String(dict['command'])}`));
    }, timeoutMs);
    s.on('message', (buf) => {
      const sp = buf.indexOf(0x20);
      if (buf.toString('latin1', 0, sp) !== cookie) return;
      clearTimeout(timer);
      s.close();
      const v = bdecode(buf.subarray(sp + 1));
      if (v instanceof Map) resolve(v);
      else reject(new Error('ng reply is not a dictionary'));
    });
    s.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]), port, '127.0.0.1');
  });
}

/** logLevel 7 makes the daemon log every command it gets ("Dump for 'offer' from ...: {...}"). */
export async function startRtpengine(ngPort: number, portMin: number, portMax: number, logLevel = 6): Promise<RtpengineHandle> {
  if (!existsSync(RTPENGINE_BIN)) throw new Error(`${RTPENGINE_BIN} missing: apt-get install rtpengine-daemon`);
  const args = [
    '--config-file=none', '--foreground', '--log-stderr', '--table=-1', '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${portMin}`, `--port-max=${portMax}`,
    `--log-level=${logLevel}`, '--delete-delay=0', '--num-threads=2',
  ];
  const child: ChildProcess = spawn(RTPENGINE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const handle: RtpengineHandle = {
    pid: child.pid!,
    ngPort,
    output: () => out,
    ng: (dict, timeoutMs) => ngRequest(ngPort, dict, timeoutMs),
    stop: () => stopChild(child),
  };
  // Ready when it answers a ping (bounded: 10 s).
  let ready = false;
  const end = Date.now() + 10_000;
  while (!ready && Date.now() < end && child.exitCode === null) {
    try {
      ready = (await ngRequest(ngPort, { command: 'ping' }, 300)).get('result') === 'pong';
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready) {
    await handle.stop();
    throw new Error(`rtpengine did not start:\n${out.slice(-3000)}`);
  }
  return handle;
}
