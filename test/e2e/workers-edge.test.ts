/**
 * TLS and WS under `--workers 2` (issue 12): the primary hands each accepted connection to one
 * worker, while a UDP message goes to the worker that owns its Call-ID. A client on a TLS and on
 * a WS connection calls a SIPp UAS on UDP through the proxy (INVITE/180/200, ACK, BYE/200 from the
 * client); each connection carries calls whose Call-IDs hash to each worker, so whichever worker
 * holds the connection, one of its calls has its Call-ID owned by the other one: the UAS's UDP
 * replies must still reach the transaction, in the worker that relayed the request.
 *
 * Not yet: a call from a UDP peer to a WebSocket client, when the worker owning its Call-ID is not
 * the one holding the client's connection (sends are not handed to the connection's worker); the
 * second test shows it (it.fails), with Call-IDs owned by each worker so one of them always is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { ownerOf } from '../../src/ops/cluster.js';
import { freePort, startProxy, startSipp, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { makeCerts } from '../transport/tls-certs.js';

const script = (uasPort: number): string => `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then KSR.tm.t_relay() return 1 end
    KSR.sl.sl_send_reply(404, "Not here")
    return 1
  end
  if KSR.is_INVITE() then
    KSR.rr.record_route()
    KSR.setdsturi("sip:127.0.0.1:${uasPort}")
    KSR.tm.t_relay()
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);

interface Conn {
  write(m: string): void;
  next(pred: (m: string) => boolean, what: string): Promise<string>;
  close(): void;
}

/** A SIP connection whose received messages are awaited one predicate at a time (bounded). */
function conn(write: (m: string) => void, close: () => void): Conn & { push(m: string): void } {
  const got: string[] = [];
  const waiters: { pred: (m: string) => boolean; res: (m: string) => void }[] = [];
  return {
    write,
    close,
    push: (m) => {
      const i = waiters.findIndex((w) => w.pred(m));
      if (i >= 0) waiters.splice(i, 1)[0]!.res(m);
      else got.push(m);
    },
    next: (pred, what) => {
      const i = got.findIndex(pred);
      if (i >= 0) return Promise.resolve(got.splice(i, 1)[0]!);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no ${what} within 8 s; received: ${got.map((m) => m.split('\r\n')[0]).join(' | ')}`)), 8000);
        waiters.push({ pred, res: (m) => (clearTimeout(t), res(m)) });
      });
    },
  };
}

async function openTls(port: number, ca: Buffer): Promise<Conn> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'kemi.test' });
  await new Promise<void>((r, j) => (sock.once('secureConnect', () => r()), sock.once('error', j)));
  const c = conn((m) => sock.write(m), () => sock.end());
  let buf = '';
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
      const len = Number(/\r\n(?:Content-Length|l)\s*:\s*(\d+)/i.exec(buf.slice(0, i))?.[1] ?? 0);
      if (buf.length < i + 4 + len) break;
      c.push(buf.slice(0, i + 4 + len));
      buf = buf.slice(i + 4 + len);
    }
  });
  return c;
}

async function openWs(port: number): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['sip']);
  await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
  const c = conn((m) => ws.send(m), () => ws.close());
  ws.on('message', (d: Buffer) => c.push(d.toString()));
  return c;
}

const hdr = (m: string, name: string): string[] =>
  m.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

/** One call on `c`: INVITE, 200, ACK, BYE, 200; resolves with the status lines seen. */
async function call(c: Conn, via: 'TLS' | 'WS', callId: string): Promise<string[]> {
  const req = (method: string, ruri: string, cseq: number, branch: string, extra: string[]): string =>
    [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/${via} client.invalid;branch=z9hG4bK${branch}`, 'Max-Forwards: 70', `From: <sip:w@kemi.test>;tag=f-${callId}`,
      ...extra, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
  const is = (status: string, method: string) => (m: string): boolean => m.startsWith(`SIP/2.0 ${status}`) && hdr(m, 'Call-ID')[0] === callId && (hdr(m, 'CSeq')[0] ?? '').endsWith(method);
  c.write(req('INVITE', 'sip:sipp@kemi.test', 1, `i-${callId}`, ['To: <sip:sipp@kemi.test>', `Contact: <sip:w@client.invalid;transport=${via.toLowerCase()}>`]));
  const ok = await c.next(is('200', 'INVITE'), `200 to the INVITE of ${callId}`);
  const to = hdr(ok, 'To')[0]!;
  const contact = /<([^>]+)>/.exec(hdr(ok, 'Contact')[0] ?? '')![1]!;
  const routes = hdr(ok, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse().map((r) => `Route: ${r}`);
  c.write(req('ACK', contact, 1, `a-${callId}`, [`To: ${to}`, ...routes]));
  await new Promise((r) => setTimeout(r, 50)); // the BYE does not overtake the ACK at the UAS
  c.write(req('BYE', contact, 2, `b-${callId}`, [`To: ${to}`, ...routes]));
  const bye = await c.next(is('200', 'BYE'), `200 to the BYE of ${callId}`);
  return [ok.split('\r\n')[0]!, bye.split('\r\n')[0]!];
}

/** Call-IDs owned by worker 0 and by worker 1 (ownerOf is the cluster's hash). */
function callIdsForBothWorkers(prefix: string): [string, string] {
  const ids: (string | undefined)[] = [undefined, undefined];
  for (let i = 0; ids.includes(undefined); i++) {
    const id = `${prefix}-${i}@kemi.test`;
    ids[ownerOf(id, 2)] ??= id;
  }
  return ids as [string, string];
}

describe('--workers 2 with TLS and WS listeners', () => {
  it('calls from a TLS and a WS client to a SIPp UAS on UDP complete, whichever worker owns the Call-ID', async () => {
    const certs = makeCerts();
    const uasPort = await freePort();
    const tlsPort = await freePort();
    const wsPort = await freePort();
    const proxy = track(await startProxy({
      script: writeScript(script(uasPort)), protos: ['udp'], modules: ['pv', 'sl', 'tm', 'rr', 'siputils'],
      extraArgs: ['--workers', '2', '--listen', `tls:127.0.0.1:${tlsPort}`, '--listen', `ws:127.0.0.1:${wsPort}`,
        '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
    }));
    track(startSipp({ scenario: 'uas-bench.xml', port: uasPort, timeoutS: 60 }));
    await new Promise((r) => setTimeout(r, 500));
    const ca = readFileSync(certs.ca);
    const results: Record<string, string[]> = {};
    // Two connections per transport: the primary may hand both to the same worker.
    for (const [via, open] of [['TLS', () => openTls(tlsPort, ca)], ['WS', () => openWs(wsPort)]] as const) {
      for (let k = 0; k < 2; k++) {
        const c = await open();
        for (const id of callIdsForBothWorkers(`w2-${via}-${k}`)) {
          results[id] = await call(c, via, id).catch((e: unknown) => [String(e instanceof Error ? e.message : e)]);
        }
        c.close();
      }
    }
    const expected = Object.fromEntries(Object.keys(results).map((id) => [id, ['SIP/2.0 200 OK', 'SIP/2.0 200 OK']]));
    expect(results, proxy.output().slice(-3000)).toEqual(expected);
  });

  it('calls from a UDP peer to a WebSocket client registered through the other worker', async () => {
    const wsPort = await freePort();
    const proxy = track(await startProxy({
      script: writeScript(`
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.is_INVITE() then
    if KSR.registrar.lookup("location") < 0 then KSR.sl.sl_send_reply(404, "Not Found") return 1 end
    KSR.tm.t_relay()
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`),
      protos: ['udp'], modules: ['pv', 'sl', 'tm', 'rr', 'siputils', 'usrloc', 'registrar'],
      extraArgs: ['--workers', '2', '--listen', `ws:127.0.0.1:${wsPort}`],
    }));
    // The WebSocket client: registers its own address as Contact, answers every INVITE with 200.
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, ['sip']);
    await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
    const c = conn((m) => ws.send(m), () => ws.close());
    ws.on('message', (d: Buffer) => {
      const m = d.toString();
      if (!m.startsWith('INVITE ')) return c.push(m);
      const copy = m.split('\r\n').filter((l) => /^(via|record-route|from|call-id|cseq):/i.test(l));
      ws.send(['SIP/2.0 200 OK', ...copy, `To: ${hdr(m, 'To')[0]};tag=ws1`, `Contact: <sip:w@127.0.0.1:${localPort};transport=ws>`, 'Content-Length: 0', '', ''].join('\r\n'));
    });
    const localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    c.write([`REGISTER sip:kemi.test SIP/2.0`, 'Via: SIP/2.0/WS client.invalid;branch=z9hG4bKreg1', 'Max-Forwards: 70', 'From: <sip:w@kemi.test>;tag=r1', 'To: <sip:w@kemi.test>',
      'Call-ID: reg-w2@kemi.test', 'CSeq: 1 REGISTER', `Contact: <sip:w@127.0.0.1:${localPort};transport=ws>`, 'Expires: 300', 'Content-Length: 0', '', ''].join('\r\n'));
    expect((await c.next((m) => /^SIP\/2.0 200/.test(m), '200 to REGISTER')).split('\r\n')[0]).toBe('SIP/2.0 200 OK');

    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const me = udp.address().port;
    const got = new Map<string, string>();
    udp.on('message', (b) => {
      const m = b.toString();
      const id = hdr(m, 'Call-ID')[0] ?? '';
      if (/^SIP\/2.0 [2-6]/.test(m) && !got.has(id)) got.set(id, m.split('\r\n')[0]!);
    });
    const ids = callIdsForBothWorkers('w2-to-ws');
    for (const id of ids) {
      udp.send([`INVITE sip:w@kemi.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-${id}`, 'Max-Forwards: 70', `From: <sip:u@kemi.test>;tag=u-${id}`, 'To: <sip:w@kemi.test>',
        `Call-ID: ${id}`, 'CSeq: 1 INVITE', `Contact: <sip:u@127.0.0.1:${me}>`, 'Content-Length: 0', '', ''].join('\r\n'), proxy.port, '127.0.0.1');
    }
    // Bounded wait: each INVITE gets a final answer (200 from the client, or the proxy's own error) or nothing.
    for (let i = 0; i < 80 && got.size < ids.length; i++) await new Promise((r) => setTimeout(r, 100));
    udp.close();
    ws.close();
    expect(Object.fromEntries(ids.map((id) => [id, got.get(id) ?? 'no final reply']))).toEqual(Object.fromEntries(ids.map((id) => [id, 'SIP/2.0 200 OK'])));
  });
});
