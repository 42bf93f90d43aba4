/**
 * TCP hardening end to end (issue 17, defects 2 and 3) against a running kemi-proxy with
 * routes/route.lua, which answers OPTIONS to itself with 200: a request followed by garbage in one
 * segment is answered and the connection then closed; the per-source connection limit and the
 * header-completion timeout from the config file's `tcp` section hold without touching other peers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { REPO, startProxy, tempDir, waitFor, type ProxyHandle } from './harness.js';

let proxy: ProxyHandle;
const socks: Socket[] = [];
beforeAll(async () => {
  const cfg = join(tempDir(), 'kemi.json');
  writeFileSync(cfg, JSON.stringify({ tcp: { maxConnectionsPerSource: 3, headerTimeout: 0.5 } }));
  proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['tcp'], extraArgs: ['--config', cfg] });
});
afterAll(async () => {
  for (const s of socks) s.destroy();
  await proxy?.stop();
});

function options(n: number): string {
  return [
    'OPTIONS sip:kemi.test SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKlim${n}`,
    'Max-Forwards: 70',
    'From: <sip:probe@kemi.test>;tag=l1',
    'To: <sip:kemi.test>',
    `Call-ID: limits-${n}@kemi.test`,
    `CSeq: ${n} OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

interface Conn {
  sock: Socket;
  data: () => string;
  closed: () => boolean;
}
function open(): Promise<Conn> {
  return new Promise((res, rej) => {
    let data = '';
    let closed = false;
    const sock = connect(proxy.port, '127.0.0.1', () => res({ sock, data: () => data, closed: () => closed }));
    socks.push(sock);
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('close', () => (closed = true));
    sock.on('error', rej);
  });
}
const replies = (s: string): number => (s.match(/^SIP\/2\.0 200 /gm) ?? []).length;

describe('TCP limits end to end', () => {
  it('answers the OPTIONS before the garbage in the same segment, then closes', async () => {
    const c = await open();
    c.sock.write(options(1) + 'GARBAGE\r\n\r\n');
    await waitFor(() => c.closed(), 5000, () => `not closed; got ${c.data()}`);
    expect(c.data()).toMatch(/^SIP\/2\.0 200 Keepalive\r\n/);
    expect(proxy.output()).toMatch(/tcp framing from 127\.0\.0\.1/);
  });

  it('answers two pipelined requests before garbage, both', async () => {
    const c = await open();
    c.sock.write(options(2) + options(3) + 'GARBAGE\r\n\r\n');
    await waitFor(() => c.closed(), 5000, () => `not closed; got ${c.data()}`);
    expect(replies(c.data())).toBe(2);
  });

  it('refuses a fourth connection from one address (maxConnectionsPerSource 3); the others go on', async () => {
    const cs = [await open(), await open(), await open()];
    const extra = await open();
    await waitFor(() => extra.closed(), 3000, () => 'fourth connection not refused');
    cs.forEach((c, i) => c.sock.write(options(10 + i)));
    await waitFor(() => cs.every((c) => replies(c.data()) === 1), 3000, () => 'no answers on the admitted connections');
    for (const c of cs) c.sock.destroy();
  });

  it('closes a connection that dribbles headers past headerTimeout; a prompt one is answered', async () => {
    const slow = await open();
    const dribble = setInterval(() => slow.sock.write('X'), 100);
    try {
      await waitFor(() => slow.closed(), 3000, () => 'slow connection not closed');
    } finally {
      clearInterval(dribble);
    }
    const ok = await open();
    ok.sock.write(options(20));
    await waitFor(() => replies(ok.data()) === 1, 3000, () => 'no answer');
  });
});
