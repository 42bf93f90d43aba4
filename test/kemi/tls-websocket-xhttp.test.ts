/**
 * KSR.tls, KSR.websocket, KSR.xhttp and their PVs against real connections (TransportManager on
 * loopback with openssl-made certificates): the $tls_* values of a client certificate, the
 * handshake decisions Kamailio's websocket module makes, xhttp_reply, and closing a WebSocket
 * from the script; the HTTP hook is driven as the core will drive it (HttpExchange in moduleData).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { MsgContext, type ReceiveInfo } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/message.js';
import { getPv } from '../../src/pv/registry.js';
import { TransportManager } from '../../src/transport/manager.js';
import { HttpExchange, HTTP_EXCHANGE_KEY } from '../../src/transport/http-exchange.js';
import type { HttpRequestView } from '../../src/transport/ws.js';
import { parseListen } from '../../src/transport/types.js';
import tls from '../../kemi/tls.js';
import websocket from '../../kemi/websocket.js';
import xhttp from '../../kemi/xhttp.js';
import type { KemiModule } from '../../kemi/types.js';
import { call, INVITE, RCV, services, testEnv, type Recorded } from './helpers.js';
import { makeCerts, type TestCerts } from '../transport/tls-certs.js';

let certs: TestCerts;
let tm: TransportManager;
const got: { data: string; rcv: ReceiveInfo }[] = [];
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  certs = makeCerts();
  tm = new TransportManager({
    onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }),
    tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca, clientCert: 'request' },
  });
  await tm.listen([parseListen('tls:127.0.0.1:0'), parseListen('ws:127.0.0.1:0')]);
  // Their PVs go to the test instance that context() uses.
  for (const m of [tls, websocket, xhttp] as KemiModule[]) await m.init?.(testEnv({}));
});
afterAll(async () => {
  for (const c of cleanup) c();
  await tm.close();
});

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function ctxFor(rcv: ReceiveInfo): { ctx: MsgContext; rec: Recorded } {
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const ctx = new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), rcv, { ...services(rec), transports: tm } as never);
  return { ctx, rec };
}

const OPTIONS = 'OPTIONS sip:kemi.test SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKk1\r\nCall-ID: k1\r\nContent-Length: 0\r\n\r\n';

describe('KSR.tls and $tls_*', () => {
  it('reads the client certificate, the cipher and our certificate of the message\'s connection', async () => {
    const port = tm.sockets().find((s) => s.proto === 'tls')!.port;
    const sock: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key), servername: 'kemi.test' });
    cleanup.push(() => sock.destroy());
    await new Promise((r) => sock.once('secureConnect', r));
    sock.write(OPTIONS);
    await until(() => got.some((g) => g.rcv.proto === 'tls'));
    const { ctx, rec } = ctxFor(got.find((g) => g.rcv.proto === 'tls')!.rcv);
    expect(call(tls, 'is_peer_verified', ctx)).toBe(1);
    expect(getPv(ctx, '$tls_peer_subject_cn')).toBe('alice.kemi.test');
    expect(getPv(ctx, '$tls_peer_subject')).toBe('/CN=alice.kemi.test/O=kemi-test');
    expect(getPv(ctx, '$tls_peer_issuer_cn')).toBe('kemi test CA');
    expect(getPv(ctx, '$tls_peer_verified')).toBe(1);
    expect(getPv(ctx, '$tls_peer_selfsigned')).toBe(0);
    expect(getPv(ctx, '$tls_peer_san_hostname')).toBe('alice.kemi.test');
    expect(getPv(ctx, '$tls_my_subject_cn')).toBe('kemi.test');
    expect(getPv(ctx, '$tls_my_san_ip')).toBe('127.0.0.1');
    expect(getPv(ctx, '$tls_peer_server_name')).toBe('kemi.test');
    expect(String(getPv(ctx, '$tls_version'))).toMatch(/^TLSv1\.[23]$/);
    expect(String(getPv(ctx, '$tls_cipher_info'))).toMatch(/AES|CHACHA/);
    expect(Number(getPv(ctx, '$tls_cipher_bits'))).toBeGreaterThanOrEqual(128);
    expect(typeof getPv(ctx, '$tls_peer_serial')).not.toBe('object');
    expect(call(tls, 'cget', ctx, 'peer_subject_cn')).toBe('alice.kemi.test');
    expect(call(tls, 'cget', ctx, 'tls_my_subject_organization')).toBe('kemi-test');
    expect(call(tls, 'cget', ctx, 'no_such_thing')).toBeNull();
    expect(rec.logs.some((l) => /unknown attribute 'no_such_thing'/.test(l.text))).toBe(true);
  });

  it('answers -1 and nil on a message that did not come over TLS, and refuses set_connect_server_id by name', () => {
    const { ctx } = ctxFor(RCV);
    expect(call(tls, 'is_peer_verified', ctx)).toBe(-1);
    expect(getPv(ctx, '$tls_version')).toBeNull();
    expect(getPv(ctx, '$tls_peer_subject_cn')).toBeNull();
    expect(() => call(tls, 'set_connect_server_id', ctx, 'x')).toThrow(/KSR\.tls\.set_connect_server_id: not implemented/);
  });
});

function httpView(over: Partial<HttpRequestView> = {}, headers: Record<string, string> = {}): HttpRequestView {
  return {
    proto: 'ws', method: 'GET', url: '/sip?room=1', httpVersion: '1.1', body: Buffer.alloc(0), upgrade: true, rawHeaders: [],
    srcAddress: '192.0.2.9', srcPort: 40000, localAddress: '127.0.0.1', localPort: 8080,
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'sip', ...headers },
    ...over,
  };
}
function eventCtx(view: HttpRequestView): { ctx: MsgContext; ex: HttpExchange; rec: Recorded } {
  const { ctx, rec } = ctxFor({ proto: 'ws', srcAddress: view.srcAddress, srcPort: view.srcPort, localAddress: view.localAddress, localPort: view.localPort, family: 4 });
  const ex = new HttpExchange(view);
  ctx.moduleData.set(HTTP_EXCHANGE_KEY, ex);
  return { ctx, ex, rec };
}

describe('KSR.websocket.handle_handshake and KSR.xhttp from ksr_xhttp_event', () => {
  it('accepts an upgrade offering sip', () => {
    const { ctx, ex } = eventCtx(httpView());
    expect(getPv(ctx, '$hu')).toBe('/sip?room=1');
    expect(call(xhttp, 'get_hu', ctx)).toBe('/sip?room=1');
    expect(call(websocket, 'handle_handshake', ctx)).toBe(1);
    expect(ex.outcome()).toEqual({ action: 'accept' });
    expect(call(xhttp, 'xhttp_reply', ctx, 200, 'OK', 'text/plain', 'late')).toBe(-1);
  });

  it('answers 400 without the sip subprotocol and 426 for another WebSocket version, as Kamailio', () => {
    const a = eventCtx(httpView({}, { 'sec-websocket-protocol': 'chat' }));
    expect(call(websocket, 'handle_handshake', a.ctx)).toBe(0);
    expect(a.ex.outcome()).toMatchObject({ action: 'reply', code: 400, headers: { 'Sec-WebSocket-Protocol': 'sip', 'Sec-WebSocket-Version': '13' } });
    const b = eventCtx(httpView({}, { 'sec-websocket-version': '8' }));
    expect(call(websocket, 'handle_handshake', b.ctx)).toBe(0);
    expect(b.ex.outcome()).toMatchObject({ action: 'reply', code: 426, headers: { 'Sec-WebSocket-Version': '13' } });
    const c = eventCtx(httpView({ upgrade: false }, { connection: 'keep-alive', upgrade: '' }));
    expect(call(websocket, 'handle_handshake', c.ctx)).toBe(0);
  });

  it('xhttp_reply answers plain HTTP (0 as Kamailio returns), checks its arguments; nothing decided closes', () => {
    const { ctx, ex } = eventCtx(httpView({ upgrade: false, url: '/status' }));
    expect(call(xhttp, 'xhttp_reply', ctx, 99, 'Low', '', '')).toBe(-1);
    expect(call(xhttp, 'xhttp_reply', ctx, 200, '', '', '')).toBe(-1);
    expect(call(xhttp, 'xhttp_reply', ctx, 200, 'OK', 'application/json', '{"up":true}')).toBe(0);
    expect(ex.outcome()).toEqual({ action: 'reply', code: 200, reason: 'OK', headers: { 'Content-Type': 'application/json' }, body: '{"up":true}' });
    expect(new HttpExchange(httpView()).outcome()).toEqual({ action: 'close' });
  });

  it('refuses both outside an HTTP request', () => {
    const { ctx, rec } = ctxFor(RCV);
    expect(call(websocket, 'handle_handshake', ctx)).toBe(-1);
    expect(call(xhttp, 'xhttp_reply', ctx, 200, 'OK', '', '')).toBe(-1);
    expect(rec.logs.map((l) => l.text).join('\n')).toMatch(/outside an HTTP request/);
  });

  it('drives a real upgrade through the hook, then $ws_conid and close_reason act on the connection', async () => {
    const hookTm = new TransportManager({
      onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }),
      // What the core does: an event context with the exchange, the script, the outcome.
      onHttpRequest: (req) => {
        const { ctx, ex } = eventCtx(req);
        if (req.url === '/sip') call(websocket, 'handle_handshake', ctx);
        else call(xhttp, 'xhttp_reply', ctx, 403, 'Forbidden', 'text/plain', 'no');
        return ex.outcome();
      },
    });
    cleanup.push(() => void hookTm.close());
    await hookTm.listen([parseListen('ws:127.0.0.1:0')]);
    const port = hookTm.sockets()[0]!.port;
    const denied = new WebSocket(`ws://127.0.0.1:${port}/other`, ['sip']);
    const status = await new Promise<number>((res) => denied.on('unexpected-response', (_q, r) => res(r.statusCode ?? 0)));
    expect(status).toBe(403);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, ['sip']);
    cleanup.push(() => ws.terminate());
    let closed: [number, string] | undefined;
    ws.on('close', (code, reason) => (closed = [code, reason.toString()]));
    await new Promise((r) => ws.once('open', r));
    const before = got.length;
    ws.send(OPTIONS);
    await until(() => got.length > before);
    const rcv = got[got.length - 1]!.rcv;
    const wsTm = { ...services({ replies: [], forwards: [], logs: [] }), transports: hookTm };
    const ctx = new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), rcv, wsTm as never);
    expect(getPv(ctx, '$ws_conid')).toBe(rcv.connId);
    expect(call(websocket, 'close_reason', ctx, 4000, 'bye')).toBe(1);
    await until(() => closed !== undefined);
    expect(closed).toEqual([4000, 'bye']);
    expect(call(websocket, 'close_conid', ctx, 1000, 'x', 999_999)).toBe(-1);
  });
});
