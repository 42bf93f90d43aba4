/**
 * The e2e harness's ports: never one the kernel hands to a socket bound to port 0 (its ephemeral
 * range), never the same one twice in a process, and free for both UDP and TCP when handed out.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { freePort } from './harness.js';

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, even when each is not bound yet', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    const low = ephemeralLow();
    for (const p of ports) expect(p < low && p >= 1024, `port ${p}`).toBe(true);
  });

  it('skips a port something already holds', async () => {
    // Hold the next few candidates over UDP and TCP: none of them may come back.
    const probe = await freePort();
    const held: { close(): void }[] = [];
    const heldPorts = new Set<number>();
    for (let p = probe + 1; p < probe + 4; p++) {
      const u = createSocket('udp4');
      const ok = await new Promise<boolean>((r) => { u.once('error', () => r(false)); u.bind(p, '127.0.0.1', () => r(true)); });
      if (ok) { held.push(u); heldPorts.add(p); }
      const t = createServer();
      const okT = await new Promise<boolean>((r) => { t.once('error', () => r(false)); t.listen(p + 3, '127.0.0.1', () => r(true)); });
      if (okT) { held.push(t); heldPorts.add(p + 3); }
    }
    try {
      for (let i = 0; i < 8; i++) expect(heldPorts.has(await freePort())).toBe(false);
    } finally {
      for (const h of held) h.close();
    }
  });
});
