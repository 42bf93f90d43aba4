/**
 * WebSocket transports (RFC 7118) on loopback through TransportManager, with the `ws` library as
 * the client: SIP over ws and wss both ways, the HTTP hook (accept / reply) and its defaults,
 * and bad input: no `sip` subprotocol, a plain HTTP request, a broken frame, an oversize
 * message, a silent connection, a missed pong; each closed or answered and counted, the others
 * going on.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { request } from 'node:http';
import WebSocket from 'ws';
import type { ReceiveInfo } from '../../src/transport/types.js';
import { TransportManager, type TransportOptions } from '../../src/transport/manager.js';
import type { HttpRequestView } from '../../src/transport/ws.js';
import { parseListen } from '../../src/transport/types.js';
import { makeCerts, type TestCerts } from './tls-certs.js';

const MSG = (n: number): string =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${n}\r\nCall-ID: c${n}\r\nContent-Length: 0\r\n\r\n`;

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
let managers: TransportManager[] = [];
const clients: (WebSocket | Socket)[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) (c instanceof WebSocket ? c.terminate() : c.destroy());
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});

interface Started {
  tm: TransportManager;
  got: { data: string; rcv: ReceiveInfo }[];
  closed: number[];
  seen: HttpRequestView[];
  port: number;
}
async function start(spec: string, extra: Partial<TransportOptions> = {}): Promise<Started> {
  const got: Started['got'] = [];
  const closed: number[] = [];
  const seen: HttpRequestView[] = [];
  const userHook = extra.onHttpRequest;
  const tm = new TransportManager({
    onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }),
    onWsClosed: (id) => closed.push(id),
    tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca },
    ...extra,
    ...(userHook ? { onHttpRequest: (r: HttpRequestView) => (seen.push(r), userHook(r)) } : {}),
  });
  await tm.listen([parseListen(spec)]);
  managers.push(tm);
  return { tm, got, closed, seen, port: tm.sockets()[0]!.port };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

interface WsClient {
  ws: WebSocket;
  msgs: string[];
  closeCode: () => number | undefined;
  httpStatus: () => number | undefined;
  opened: Promise<boolean>;
}
function wsClient(url: string, protocols: string[] = ['sip']): WsClient {
  const ws = new WebSocket(url, protocols, { ca: readFileSync(certs.ca) });
  clients.push(ws);
  const msgs: string[] = [];
  let code: number | undefined;
  let status: number | undefined;
  ws.on('message', (d) => msgs.push(d.toString()));
  ws.on('close', (c) => (code = c));
  ws.on('unexpected-response', (_req, res) => {
    status = res.statusCode;
    res.resume();
  });
  ws.on('error', () => undefined);
  const opened = new Promise<boolean>((res) => {
    ws.once('open', () => res(true));
    ws.once('close', () => res(false));
    ws.once('unexpected-response', () => res(false));
  });
  return { ws, msgs, closeCode: () => code, httpStatus: () => status, opened };
}

for (const proto of ['ws', 'wss'] as const) {
  describe(`${proto} transport`, () => {
    const url = (port: number): string => `${proto}://127.0.0.1:${port}/`;

    it('carries one SIP message per WebSocket message both ways, on the client\'s connection', async () => {
      const { tm, got, closed, port } = await start(`${proto}:127.0.0.1:0`);
      const c = wsClient(url(port));
      expect(await c.opened).toBe(true);
      expect(c.ws.protocol).toBe('sip');
      c.ws.send(MSG(1));
      c.ws.send(MSG(2));
      await until(() => got.length === 2);
      const rcv = got[0]!.rcv;
      expect(rcv).toMatchObject({ proto, srcAddress: '127.0.0.1', localPort: port });
      expect(got[1]!.rcv.connId).toBe(rcv.connId);
      expect(got[0]!.data).toBe(MSG(1));
      expect(tm.send({ proto, address: rcv.srcAddress, port: rcv.srcPort, connId: rcv.connId }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'))).toBe(true);
      // A request to the client's address and port finds its connection (alias), as Kamailio does.
      expect(tm.send({ proto, address: rcv.srcAddress, port: rcv.srcPort }, Buffer.from(MSG(3)))).toBe(true);
      await until(() => c.msgs.length === 2);
      expect(c.msgs[0]).toMatch(/^SIP\/2\.0 200 OK/);
      if (proto === 'wss') expect(tm.connInfo(rcv.connId!)!.tls!.version).toMatch(/TLSv1/);
      else expect(tm.connInfo(rcv.connId!)).toEqual({ proto: 'ws' });
      // No connection, no send: WebSocket connections are never opened by the proxy.
      expect(tm.send({ proto, address: '127.0.0.1', port: 1 }, Buffer.from(MSG(4)))).toBe(false);
      c.ws.close();
      await until(() => closed.length === 1);
      expect(closed[0]).toBe(rcv.connId);
    });

    it('refuses an upgrade without the sip subprotocol with Kamailio\'s 400, and a plain GET with 404', async () => {
      const { tm, port } = await start(`${proto}:127.0.0.1:0`);
      const c = wsClient(url(port), ['chat']);
      expect(await c.opened).toBe(false);
      expect(c.httpStatus()).toBe(400);
      const status = await new Promise<number>((res, rej) => {
        const mod = proto === 'wss' ? import('node:https') : Promise.resolve({ request });
        void mod.then((m) => {
          const r = m.request({ host: '127.0.0.1', port, path: '/status', ca: readFileSync(certs.ca) } as never, (resp: { statusCode?: number; resume(): void }) => {
            resp.resume();
            res(resp.statusCode ?? 0);
          });
          r.on('error', rej);
          r.end();
        });
      });
      expect(status).toBe(404);
      expect(tm.stats.byProto[proto]!.upgradesRefused).toBe(2);
    });

    it('asks the HTTP hook before accepting, and answers what it says', async () => {
      const { seen, port } = await start(`${proto}:127.0.0.1:0`, {
        onHttpRequest: async (r) => {
          await new Promise((res) => setTimeout(res, 10));
          if (r.url === '/deny') return { action: 'reply', code: 403, reason: 'Forbidden', headers: { 'X-Why': 'policy' }, body: 'no' };
          return { action: 'accept' };
        },
      });
      const ok = wsClient(url(port) + 'sip?x=1');
      expect(await ok.opened).toBe(true);
      const deny = wsClient(url(port) + 'deny');
      expect(await deny.opened).toBe(false);
      expect(deny.httpStatus()).toBe(403);
      expect(seen.map((s) => [s.method, s.url, s.upgrade, s.headers['sec-websocket-protocol']])).toEqual([
        ['GET', '/sip?x=1', true, 'sip'],
        ['GET', '/deny', true, 'sip'],
      ]);
      expect(seen[0]!.srcAddress).toBe('127.0.0.1');
      if (proto === 'wss') expect(seen[0]!.tls!.version).toMatch(/TLSv1/);
    });

    it('closes a connection over the frame size limit (1009) and counts it; others go on', async () => {
      const { tm, got, port } = await start(`${proto}:127.0.0.1:0`, { ws: { maxFrameSize: 2000 } });
      const good = wsClient(url(port));
      const big = wsClient(url(port));
      await Promise.all([good.opened, big.opened]);
      big.ws.send('x'.repeat(5000));
      await until(() => big.closeCode() !== undefined);
      expect(big.closeCode()).toBe(1009);
      good.ws.send(MSG(5));
      await until(() => got.length === 1);
      expect(tm.stats.byProto[proto]!.oversizeFrames).toBe(1);
    });
  });
}

describe('ws bad input on the wire', () => {
  it('closes a connection that sends a broken frame (1002), counted', async () => {
    const { tm, got, port } = await start('ws:127.0.0.1:0');
    const good = wsClient(`ws://127.0.0.1:${port}/`);
    await good.opened;
    const raw = netConnect(port, '127.0.0.1');
    clients.push(raw);
    let resp = '';
    let closed = false;
    raw.on('data', (d) => (resp += d.toString('latin1')));
    raw.on('close', () => (closed = true));
    raw.on('error', () => undefined);
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n');
    await until(() => resp.includes('101 Switching Protocols'));
    // Opcode 0x3 is reserved (RFC 6455 5.2), and the frame is not masked.
    raw.write(Buffer.from([0x83, 0x02, 0x41, 0x42]));
    await until(() => closed);
    expect(tm.stats.byProto.ws!.frameErrors).toBe(1);
    good.ws.send(MSG(6));
    await until(() => got.length === 1);
  });

  it('answers a malformed HTTP request with 400 and closes a silent connection at headerTimeout', async () => {
    const { tm, port } = await start('ws:127.0.0.1:0', { tcp: { headerTimeout: 0.3 } });
    const bad = netConnect(port, '127.0.0.1');
    const silent = netConnect(port, '127.0.0.1');
    clients.push(bad, silent);
    let resp = '';
    let badClosed = false;
    let silentClosed = false;
    bad.on('data', (d) => (resp += d.toString('latin1')));
    bad.on('close', () => (badClosed = true));
    silent.on('close', () => (silentClosed = true));
    bad.on('error', () => undefined);
    silent.on('error', () => undefined);
    bad.write('NOT HTTP AT ALL\r\n\r\n');
    await until(() => badClosed && silentClosed, 2000);
    expect(resp).toMatch(/^HTTP\/1\.1 400/);
    expect(tm.stats.byProto.ws).toMatchObject({ handshakeErrors: 1, headerTimeouts: 1 });
  });

  it('closes a connection that does not answer pings', async () => {
    const { tm, port } = await start('ws:127.0.0.1:0', { ws: { pingInterval: 0.15 } });
    const c = wsClient(`ws://127.0.0.1:${port}/`);
    await c.opened;
    const mute = wsClient(`ws://127.0.0.1:${port}/`);
    await mute.opened;
    // ws answers pings by itself; a client that stops reading does not.
    (mute.ws as unknown as { _socket: Socket })._socket.pause();
    await until(() => tm.stats.byProto.ws!.pingTimeouts === 1, 2000);
    expect(c.closeCode()).toBeUndefined();
  });

  it('refuses wss on a plain connection, counted as a failed handshake', async () => {
    const { tm, port } = await start('wss:127.0.0.1:0');
    const c = wsClient(`ws://127.0.0.1:${port}/`);
    expect(await c.opened).toBe(false);
    await until(() => tm.stats.byProto.wss!.handshakeErrors === 1);
  });
});
