/**
 * The drachtio control port in process, with a stub proxy: authentication, route/ping answers,
 * and every kind of bad input closing that connection only, counted.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DrachtioService } from '../../src/drachtio/service.js';
import type { DrachtioHost } from '../../src/drachtio/host.js';
import { TimerQueue } from '../../src/tm/timer-queue.js';
import { tmConfig } from '../../src/tm/config.js';
import { FrameDecoder, frame } from '../../src/drachtio/wire.js';

function stubHost(logs: string[]): DrachtioHost {
  return {
    resolveUri: () => null,
    socketFor: () => undefined,
    sockets: () => [{ proto: 'udp', address: '127.0.0.1', port: 5060, family: 4, id: 'udp:127.0.0.1:5060' }, { proto: 'tcp', address: '127.0.0.1', port: 5060, family: 4, id: 'tcp:127.0.0.1:5060' }],
    send: () => true,
    sendReplyTo: () => true,
    timers: new TimerQueue(),
    tmCfg: tmConfig({}),
    serverHeader: 'kemi-proxy',
    log: (_l, t) => logs.push(t),
    intercept: () => undefined,
  };
}

interface Client {
  sock: Socket;
  frames: string[];
  closed: Promise<void>;
  next(): Promise<string>;
}

function client(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const frames: string[] = [];
    const dec = new FrameDecoder(100000);
    const waiters: ((f: string) => void)[] = [];
    sock.on('data', (d: Buffer) => {
      for (const f of dec.push(d)) {
        const w = waiters.shift();
        if (w) w(f);
        else frames.push(f);
      }
    });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    sock.once('connect', () => resolve({
      sock, frames, closed,
      next: () => new Promise<string>((r, rej) => {
        const f = frames.shift();
        if (f !== undefined) r(f);
        else {
          waiters.push(r);
          setTimeout(() => rej(new Error('no frame within 2s')), 2000);
        }
      }),
    }));
    sock.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> => Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`not within ${ms} ms`)), ms))]);

describe('drachtio control port', () => {
  let svc: DrachtioService;
  let port: number;
  const logs: string[] = [];

  beforeEach(async () => {
    logs.length = 0;
    svc = new DrachtioService(stubHost(logs), { listen: '127.0.0.1:0', secret: 'cymru', authTimeoutMs: 300 });
    port = await svc.start();
  });

  afterEach(async () => {
    await svc.close();
  });

  it('authenticate: host ports, version, tags; route and ping answered', async () => {
    const c = await client(port);
    c.sock.write(frame('m1|authenticate|cymru|blue,green'));
    expect(await c.next()).toMatch(/^[0-9a-f-]{36}\|response\|m1\|OK\|udp\/127\.0\.0\.1:5060,tcp\/127\.0\.0\.1:5060\|v0\.9\.3[^|]*\|udp\/127\.0\.0\.1:5060,tcp\/127\.0\.0\.1:5060$/);
    c.sock.write(frame('m2|route|invite'));
    expect(await c.next()).toMatch(/\|response\|m2\|OK$/);
    c.sock.write(frame('m3|ping'));
    expect(await c.next()).toMatch(/\|response\|m3\|OK\|pong$/);
    expect(svc.metrics.connectedApps).toBe(1);
    const app = svc.bridge.registry.all()[0]!;
    expect([...app.tags]).toEqual(['blue', 'green']);
    expect(svc.bridge.registry.select('INVITE', 'green')).toBe(app);
    expect(svc.bridge.registry.select('INVITE', 'red')).toBeUndefined();
    expect(svc.bridge.registry.select('OPTIONS')).toBeUndefined();
    c.sock.write(frame('m4|remove_route|invite'));
    expect(await c.next()).toMatch(/\|response\|m4\|OK$/);
    expect(svc.bridge.registry.select('INVITE')).toBeUndefined();
    c.sock.destroy();
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(svc.metrics.connectedApps).toBe(0);
    expect(svc.metrics.badConnections).toBe(0);
  });

  it('a wrong secret is refused and the connection closed', async () => {
    const c = await client(port);
    c.sock.write(frame('m1|authenticate|wrong|'));
    expect(await c.next()).toMatch(/\|response\|m1\|NOK\|incorrect secret$/);
    await within(c.closed, 2000);
    expect(svc.metrics.badConnections).toBe(1);
    expect(svc.metrics.connectedApps).toBe(0);
  });

  it('garbage, a bad length, a message before authenticate: closed and counted, others unaffected', async () => {
    const good = await client(port);
    good.sock.write(frame('g1|authenticate|cymru|'));
    expect(await good.next()).toMatch(/\|OK\|/);
    const inputs = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from('#|authenticate|cymru'),
      Buffer.from('99999999999#x'),
      Buffer.from('4#m1|authenticate|cymru|'), // length too short: the rest is garbage
      frame('m1|route|invite'), // before authenticate
      frame('nonsense'),
      Buffer.from([0xff, 0xfe, 0x00, 0x23]),
    ];
    for (const input of inputs) {
      const c = await client(port);
      c.sock.write(input);
      await within(c.closed, 2000);
    }
    expect(svc.metrics.badConnections).toBe(inputs.length);
    good.sock.write(frame('g2|ping'));
    expect(await good.next()).toMatch(/\|response\|g2\|OK\|pong$/);
    expect(svc.metrics.connectedApps).toBe(1);
    good.sock.destroy();
  });

  it('an unknown message type after authenticate closes the connection', async () => {
    const c = await client(port);
    c.sock.write(frame('m1|authenticate|cymru|'));
    await c.next();
    c.sock.write(frame('m2|frobnicate|x'));
    expect(await c.next()).toMatch(/\|response\|m2\|NOK\|Unknown message type$/);
    await within(c.closed, 2000);
    expect(svc.metrics.badConnections).toBe(1);
  });

  it('a client that never authenticates is closed after the timeout', async () => {
    const c = await client(port);
    const t0 = Date.now();
    await within(c.closed, 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(svc.metrics.badConnections).toBe(1);
    expect(logs.some((l) => /did not authenticate in time/.test(l))).toBe(true);
  });

  it('a frame over the size limit closes the connection', async () => {
    const c = await client(port);
    c.sock.write(`${2 * 1024 * 1024}#m1|authenticate|cymru|`);
    await within(c.closed, 2000);
    expect(svc.metrics.badConnections).toBe(1);
  });

  it('bad sip messages from an authenticated app are answered NOK; the connection stays', async () => {
    const c = await client(port);
    c.sock.write(frame('m1|authenticate|cymru|'));
    await c.next();
    const bad = [
      'm2|sip|no-such-txn|\r\nSIP/2.0 200 OK\r\n\r\n',
      'm3|sip||\r\nSIP/2.0 200 OK\r\n\r\n',
      'm4|sip||no-such-dialog\r\nBYE sip:placeholder SIP/2.0\r\n\r\n',
      'm5|sip||\r\nthis is not sip\r\n\r\n',
      'm6|sip||\r\nINVITE sip:x@127.0.0.1 SIP/2.0\r\nbad header line\r\n\r\n',
      'm7|proxy|no-such-txn||||serial|||sip:x@127.0.0.1\r\nINVITE sip:x@127.0.0.1 SIP/2.0\r\n\r\n',
      'm8|sip||\r\nOPTIONS sip:x@unresolvable SIP/2.0\r\n\r\n',
    ];
    for (const b of bad) {
      c.sock.write(frame(b));
      const id = b.slice(0, 2);
      expect(await c.next()).toMatch(new RegExp(`\\|response\\|${id}\\|NOK\\|`));
    }
    c.sock.write(frame('m9|ping'));
    expect(await c.next()).toMatch(/\|response\|m9\|OK\|pong$/);
    expect(svc.metrics.badConnections).toBe(0);
    c.sock.destroy();
  });
});
