/**
 * TLS, WS and WSS end to end (issue 12) through a running kemi-proxy (the built CLI) with
 * certificates made by openssl at test time: REGISTER and OPTIONS from a raw `ws` client over WS
 * and WSS and from a node:tls client, each answered on its connection; then bad input — plain
 * bytes on the TLS port, an HTTP request that is not an upgrade, a broken WebSocket frame, an
 * oversize message — each closed or answered while the other clients keep being served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { get as httpGet } from 'node:http';
import WebSocket from 'ws';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, startProxy, tempDir, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { makeCerts, type TestCerts } from '../transport/tls-certs.js';

const SCRIPT = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.is_OPTIONS() then
    KSR.sl.sl_send_reply(200, "Keepalive " .. KSR.pv.get("$pr"))
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

let certs: TestCerts;
let proxy: ProxyHandle;
const ports = { tls: 0, ws: 0, wss: 0 };
const open: { close(): void }[] = [];

beforeAll(async () => {
  certs = makeCerts();
  ports.tls = await freePort();
  ports.ws = await freePort();
  ports.wss = await freePort();
  const cfg = join(tempDir(), 'kemi.json');
  writeFileSync(cfg, JSON.stringify({ tls: { minVersion: 'TLSv1.2' }, ws: { maxFrameSize: 8000 } }));
  proxy = await startProxy({
    script: writeScript(SCRIPT),
    protos: ['udp'],
    modules: [...DEFAULT_MODULES, 'usrloc', 'registrar'],
    extraArgs: [
      '--config', cfg,
      '--listen', `tls:127.0.0.1:${ports.tls}`, '--listen', `ws:127.0.0.1:${ports.ws}`, '--listen', `wss:127.0.0.1:${ports.wss}`,
      '--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.ca,
    ],
  });
});
afterAll(async () => {
  for (const o of open) o.close();
  await proxy?.stop();
});

function request(method: 'REGISTER' | 'OPTIONS', via: string, n: number): string {
  const contact = method === 'REGISTER' ? [`Contact: <sip:alice@df7jal23ls0d.invalid;transport=${via.toLowerCase()}>`, 'Expires: 300'] : [];
  return [
    `${method} sip:kemi.test SIP/2.0`,
    `Via: SIP/2.0/${via} df7jal23ls0d.invalid;branch=z9hG4bKe2e${via}${n}`,
    'Max-Forwards: 70',
    `From: <sip:alice@kemi.test>;tag=t${n}`,
    `To: <sip:alice@kemi.test>`,
    `Call-ID: tlsws-${via}-${n}@kemi.test`,
    `CSeq: ${n} ${method}`,
    ...contact,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

interface Ws {
  ws: WebSocket;
  msgs: string[];
  code: () => number | undefined;
}
async function wsOpen(proto: 'ws' | 'wss'): Promise<Ws> {
  const ws = new WebSocket(`${proto}://127.0.0.1:${ports[proto]}/`, ['sip'], { ca: readFileSync(certs.ca) });
  open.push({ close: () => ws.terminate() });
  const msgs: string[] = [];
  let code: number | undefined;
  ws.on('message', (d) => msgs.push(d.toString()));
  ws.on('close', (c) => (code = c));
  ws.on('error', () => undefined);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return { ws, msgs, code: () => code };
}

async function tlsOpen(): Promise<{ write(s: string): void; data: () => string; closed: () => boolean }> {
  let data = '';
  let closed = false;
  const sock = tlsConnect({ host: '127.0.0.1', port: ports.tls, ca: readFileSync(certs.ca), servername: 'kemi.test' });
  open.push({ close: () => sock.destroy() });
  sock.on('data', (d) => (data += d.toString('latin1')));
  sock.on('close', () => (closed = true));
  await new Promise<void>((res, rej) => {
    sock.once('secureConnect', () => res());
    sock.once('error', rej);
  });
  return { write: (s) => sock.write(s), data: () => data, closed: () => closed };
}

describe('SIP over TLS, WS and WSS through kemi-proxy', () => {
  for (const proto of ['ws', 'wss'] as const) {
    it(`REGISTER and OPTIONS over ${proto.toUpperCase()} are answered on the WebSocket`, async () => {
      const c = await wsOpen(proto);
      c.ws.send(request('REGISTER', proto.toUpperCase(), 1));
      await waitFor(() => c.msgs.length === 1, 5000, () => `no answer to REGISTER over ${proto}:\n${proxy.output()}`);
      expect(c.msgs[0]).toMatch(/^SIP\/2\.0 200 OK\r\n/);
      expect(c.msgs[0]).toMatch(/Contact: <sip:alice@df7jal23ls0d\.invalid;transport=/i);
      c.ws.send(request('OPTIONS', proto.toUpperCase(), 2));
      await waitFor(() => c.msgs.length === 2, 5000, () => 'no answer to OPTIONS');
      expect(c.msgs[1]).toMatch(new RegExp(`^SIP/2\\.0 200 Keepalive ${proto}\\r\\n`));
      expect(c.msgs[1]).toMatch(new RegExp(`Via: SIP/2\\.0/${proto.toUpperCase()} df7jal23ls0d\\.invalid;branch=z9hG4bKe2e${proto.toUpperCase()}2;received=127\\.0\\.0\\.1`));
    });
  }

  it('REGISTER and OPTIONS over TLS are answered on the connection', async () => {
    const c = await tlsOpen();
    c.write(request('REGISTER', 'TLS', 1));
    await waitFor(() => /^SIP\/2\.0 200 OK/.test(c.data()), 5000, () => `no answer over TLS:\n${proxy.output()}`);
    c.write(request('OPTIONS', 'TLS', 2));
    await waitFor(() => /200 Keepalive tls/.test(c.data()), 5000, () => 'no OPTIONS answer over TLS');
  });

  it('bad input on each listener is closed or answered, and the clients in place go on', async () => {
    const ws = await wsOpen('ws');
    const wss = await wsOpen('wss');
    const tls = await tlsOpen();

    // Plain bytes on the TLS port.
    const plain = netConnect(ports.tls, '127.0.0.1');
    let plainClosed = false;
    plain.on('close', () => (plainClosed = true));
    plain.on('error', () => undefined);
    plain.write(request('OPTIONS', 'TCP', 9));
    // A TLS client that rejects our certificate (no CA): its handshake fails.
    const distrust = tlsConnect({ host: '127.0.0.1', port: ports.tls, servername: 'kemi.test' });
    let distrustErr = '';
    distrust.on('error', (e) => (distrustErr = e.message));
    // Plain HTTP on the WS port.
    const status = await new Promise<number>((res) => {
      httpGet({ host: '127.0.0.1', port: ports.ws, path: '/' }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      }).on('error', () => res(-1));
    });
    expect(status).toBe(404);
    // A broken frame (reserved opcode, unmasked) after a good handshake.
    const raw = netConnect(ports.ws, '127.0.0.1');
    let rawResp = '';
    let rawClosed = false;
    raw.on('data', (d) => (rawResp += d.toString('latin1')));
    raw.on('close', () => (rawClosed = true));
    raw.on('error', () => undefined);
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n');
    await waitFor(() => rawResp.includes('101 Switching'), 3000, () => 'no 101');
    raw.write(Buffer.from([0x83, 0x02, 0x41, 0x42]));
    // An oversize message over WSS (maxFrameSize 8000 in the config).
    const big = await wsOpen('wss');
    big.ws.send('x'.repeat(9000));

    await waitFor(() => plainClosed && rawClosed && big.code() !== undefined && distrustErr !== '', 5000, () => `not all closed: plain ${plainClosed} raw ${rawClosed} big ${big.code()} distrust '${distrustErr}'`);
    expect(big.code()).toBe(1009);
    expect(distrustErr).toMatch(/certificate/i);

    ws.ws.send(request('OPTIONS', 'WS', 20));
    wss.ws.send(request('OPTIONS', 'WSS', 21));
    tls.write(request('OPTIONS', 'TLS', 22));
    await waitFor(() => ws.msgs.length === 1 && wss.msgs.length === 1 && /Keepalive tls/.test(tls.data()), 5000, () => 'clients in place not served');
    expect(proxy.output()).not.toMatch(/uncaught|TypeError|RangeError/i);
  });
});
