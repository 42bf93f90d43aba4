/**
 * Stream limits (issue 17, defects 2 and 3) on loopback through TransportManager: garbage after a
 * valid message, global and per-source connection limits, the header-completion and idle timers,
 * each counted; and the `tcp` config section's checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import type { ReceiveInfo } from '../../src/transport/types.js';
import { TransportManager } from '../../src/transport/manager.js';
import { checkTcpSettings, streamLimits, type TcpSettings } from '../../src/transport/settings.js';
import { parseListen } from '../../src/transport/types.js';

const MSG = (n: number): string =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK${n}\r\nCall-ID: c${n}\r\nContent-Length: 0\r\n\r\n`;

let managers: TransportManager[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});

async function start(tcp: TcpSettings): Promise<{ tm: TransportManager; got: { data: string; rcv: ReceiveInfo }[]; port: number }> {
  const got: { data: string; rcv: ReceiveInfo }[] = [];
  const tm = new TransportManager({ onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }), tcp });
  await tm.listen([parseListen('tcp:127.0.0.1:0')]);
  managers.push(tm);
  return { tm, got, port: tm.sockets()[0]!.port };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Client {
  sock: Socket;
  data: () => string;
  closed: () => boolean;
  closedAt: () => number;
}
function client(port: number, localAddress = '127.0.0.1'): Promise<Client> {
  return new Promise((res) => {
    let data = '';
    let closedAt = 0;
    const sock = connect({ port, host: '127.0.0.1', localAddress }, () => res({ sock, data: () => data, closed: () => closedAt > 0, closedAt: () => closedAt }));
    clients.push(sock);
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('close', () => (closedAt = Date.now()));
    sock.on('error', () => undefined);
  });
}

describe('stream limits', () => {
  it('answers a complete message followed by garbage in the same read, then closes', async () => {
    const { tm, got, port } = await start({});
    const c = await client(port);
    c.sock.write(MSG(1) + 'GARBAGE\r\n\r\n');
    await until(() => got.length === 1);
    expect(got[0]!.data).toBe(MSG(1));
    // The core answers a moment later, on the request's connection: still open for that.
    await sleep(100);
    expect(tm.send({ proto: 'tcp', address: '127.0.0.1', port: got[0]!.rcv.srcPort, connId: got[0]!.rcv.connId }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'))).toBe(true);
    await until(() => c.data().includes('200 OK'));
    await until(() => c.closed());
    expect(tm.stats.framingErrors).toBe(1);
    expect(tm.stats.connectionsOpen).toBe(0);
  });

  it('closes at once a connection whose first bytes are garbage', async () => {
    const { tm, got, port } = await start({});
    const c = await client(port);
    c.sock.write('GARBAGE\r\n\r\n');
    await until(() => c.closed(), 500);
    expect(got).toHaveLength(0);
    expect(tm.stats.framingErrors).toBe(1);
  });

  it('refuses connections over maxConnectionsPerSource, and takes them again when one closes', async () => {
    const { tm, got, port } = await start({ maxConnectionsPerSource: 2 });
    const a = await client(port);
    const b = await client(port);
    const c = await client(port);
    await until(() => c.closed());
    expect(tm.stats.rejectedPerSource).toBe(1);
    a.sock.write(MSG(1));
    b.sock.write(MSG(2));
    await until(() => got.length === 2);
    expect(a.closed() || b.closed()).toBe(false);
    a.sock.destroy();
    await until(() => tm.stats.connectionsOpen === 1);
    const d = await client(port);
    d.sock.write(MSG(3));
    await until(() => got.length === 3);
    expect(d.closed()).toBe(false);
  });

  it('a flood of silent connections from one address does not keep another address out', async () => {
    const { tm, got, port } = await start({ maxConnections: 30, maxConnectionsPerSource: 10, headerTimeout: 0.5 });
    const flood = await Promise.all(Array.from({ length: 40 }, () => client(port)));
    await until(() => tm.stats.rejectedPerSource === 30);
    expect(tm.stats.connectionsOpen).toBe(10);
    const other = await client(port, '127.0.0.2');
    other.sock.write(MSG(7));
    await until(() => got.length === 1);
    expect(got[0]!.rcv.srcAddress).toBe('127.0.0.2');
    // The silent ones go at the header timeout; the one that sent a message stays.
    await until(() => flood.every((c) => c.closed()), 3000);
    expect(other.closed()).toBe(false);
    expect(tm.stats.headerTimeouts).toBe(10);
  });

  it('refuses connections over maxConnections', async () => {
    const { tm, port } = await start({ maxConnections: 3, maxConnectionsPerSource: 0 });
    const cs = await Promise.all([client(port), client(port), client(port)]);
    await until(() => tm.stats.connectionsOpen === 3);
    const extra = await client(port);
    await until(() => extra.closed());
    expect(tm.stats.rejectedMaxConnections).toBe(1);
    expect(cs.some((c) => c.closed())).toBe(false);
  });

  it('closes a connection that does not complete a message header block within headerTimeout', async () => {
    const { tm, got, port } = await start({ headerTimeout: 0.3 });
    const silent = await client(port);
    const slow = await client(port);
    const good = await client(port);
    const t0 = Date.now();
    good.sock.write(MSG(1));
    // One byte at a time, never an empty line: the slowloris of SIP.
    const dribble = setInterval(() => slow.sock.write('X'), 50);
    try {
      await until(() => silent.closed() && slow.closed(), 2000);
    } finally {
      clearInterval(dribble);
    }
    expect(slow.closedAt() - t0).toBeGreaterThanOrEqual(250);
    expect(tm.stats.headerTimeouts).toBe(2);
    // The connection that sent a whole message is not touched by the header timer, even when it
    // then starts a message slowly and completes it in time.
    good.sock.write(MSG(2).slice(0, 20));
    await sleep(150);
    good.sock.write(MSG(2).slice(20));
    await until(() => got.length === 2);
    await sleep(400);
    expect(good.closed()).toBe(false);
  });

  it('closes a connection idle for idleTimeout; stray bytes do not keep it, keep-alive pings do', async () => {
    const { tm, port } = await start({ idleTimeout: 0.4, headerTimeout: 0 });
    const stray = await client(port);
    const pinger = await client(port);
    const t1 = setInterval(() => stray.sock.write('\r\n'), 100);
    const t2 = setInterval(() => pinger.sock.write('\r\n\r\n'), 100);
    try {
      await until(() => stray.closed(), 2000);
      await sleep(300);
    } finally {
      clearInterval(t1);
      clearInterval(t2);
    }
    expect(pinger.closed()).toBe(false);
    expect(tm.stats.idleTimeouts).toBe(1);
  });
});

describe('tcp config section', () => {
  it('converts seconds to the limits and rejects unknown keys and bad values', () => {
    expect(streamLimits(checkTcpSettings({ maxConnectionsPerSource: 10, headerTimeout: 2.5, idleTimeout: 60 }))).toEqual({
      maxMessageSize: 65535, maxConnections: 2048, maxConnectionsPerSource: 10, idleTimeoutMs: 60_000, headerTimeoutMs: 2500,
    });
    expect(() => checkTcpSettings({ maxConn: 1 })).toThrow(/unknown setting 'maxConn'/);
    expect(() => checkTcpSettings({ maxConnections: -1 })).toThrow(/bad value/);
    expect(() => checkTcpSettings({ maxConnections: 1.5 })).toThrow(/bad value/);
    expect(() => checkTcpSettings({ idleTimeout: 0 })).toThrow(/above 0/);
  });
});
