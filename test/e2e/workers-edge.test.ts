/**
 * TLS and WS under `--workers 2` (issue 12): the primary hands each accepted connection to one
 * worker, while a UDP message goes to the worker that owns its Call-ID. A client on a TLS and on
 * a WS connection calls a SIPp UAS on UDP through the proxy (INVITE/180/200, ACK, BYE/200 from the
 * client); each connection carries calls whose Call-IDs hash to each worker, so whichever worker
 * holds the connection, one of its calls has its Call-ID owned by the other one: the UAS's UDP
 * replies must still reach the transaction, in the worker that relayed the request.
 *
 * The other way, a UDP peer calls WebSocket and TLS clients registered through the proxy: the
 * Call-ID's owner relays the INVITE, ACK and BYE, and when another worker holds the client's
 * connection, it hands each send to that worker; the client's replies, read by the holder, go to
 * the worker whose branch their Via carries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { ownerOf } from '../../src/ops/cluster.js';
import { freePort, luaCallTarget, startProxy, startSipp, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { makeCerts } from '../transport/tls-certs.js';

/**
 * The relay of every test here: REGISTER saves; in-dialog requests follow the route set; an
 * INVITE is record-routed to the SIPp UAS for user "sipp", else to the callee's registered
 * contact (sl_reply_error when t_relay fails).
 */
const script = (uasPort = 0): string => `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then KSR.tm.t_relay() return 1 end
    KSR.sl.sl_send_reply(404, "Not here")
    return 1
  end
  if KSR.is_INVITE() then
    ${luaCallTarget(uasPort)}
    if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;
const MODULES = ['pv', 'sl', 'tm', 'rr', 'siputils', 'usrloc', 'registrar'];

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);

interface Conn {
  write(m: string): void;
  next(pred: (m: string) => boolean, what: string, waitMs?: number): Promise<string>;
  close(): void;
  /** Requests go here instead of the queue when set (a UAS). */
  onRequest?: (m: string) => void;
  /** The client's own port (its Contact). */
  localPort?: number;
}

/** A SIP connection whose received messages are awaited one predicate at a time (bounded). */
function conn(write: (m: string) => void, close: () => void, localPort?: number): Conn & { push(m: string): void } {
  const got: string[] = [];
  const waiters: { pred: (m: string) => boolean; res: (m: string) => void }[] = [];
  const self: Conn & { push(m: string): void } = {
    write,
    close,
    localPort,
    push: (m) => {
      if (self.onRequest && !m.startsWith('SIP/2.0 ')) return self.onRequest(m);
      const i = waiters.findIndex((w) => w.pred(m));
      if (i >= 0) waiters.splice(i, 1)[0]!.res(m);
      else got.push(m);
    },
    next: (pred, what, waitMs = 8000) => {
      const i = got.findIndex(pred);
      if (i >= 0) return Promise.resolve(got.splice(i, 1)[0]!);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no ${what} within ${waitMs} ms; received: ${got.map((m) => m.split('\r\n')[0]).join(' | ')}`)), waitMs);
        waiters.push({ pred, res: (m) => (clearTimeout(t), res(m)) });
      });
    },
  };
  return self;
}

async function openTls(port: number, ca: Buffer): Promise<Conn> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'kemi.test' });
  await new Promise<void>((r, j) => (sock.once('secureConnect', () => r()), sock.once('error', j)));
  const c = conn((m) => sock.write(m), () => sock.end(), sock.localPort);
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
  const c = conn((m) => ws.send(m), () => ws.close(), (ws as unknown as { _socket: { localPort: number } })._socket.localPort);
  ws.on('message', (d: Buffer) => c.push(d.toString()));
  return c;
}

const hdr = (m: string, name: string): string[] =>
  m.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

/** One call on `c`: INVITE, 200, ACK, BYE, 200; resolves with the status lines seen. */
async function call(c: Conn, via: 'TLS' | 'WS', callId: string, user = 'sipp'): Promise<string[]> {
  const req = (method: string, ruri: string, cseq: number, branch: string, extra: string[]): string =>
    [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/${via} client.invalid;branch=z9hG4bK${branch}`, 'Max-Forwards: 70', `From: <sip:w@kemi.test>;tag=f-${callId}`,
      ...extra, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
  const is = (status: string, method: string) => (m: string): boolean => m.startsWith(`SIP/2.0 ${status}`) && hdr(m, 'Call-ID')[0] === callId && (hdr(m, 'CSeq')[0] ?? '').endsWith(method);
  c.write(req('INVITE', `sip:${user}@kemi.test`, 1, `i-${callId}`, [`To: <sip:${user}@kemi.test>`, `Contact: <sip:w@client.invalid;transport=${via.toLowerCase()}>`]));
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
      script: writeScript(script(uasPort)), protos: ['udp'], modules: MODULES,
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

  it('calls from a UDP peer to a WebSocket and a TLS client registered through either worker: INVITE, 200, ACK, BYE, 200', async () => {
    const certs = makeCerts();
    const wsPort = await freePort();
    const tlsPort = await freePort();
    const proxy = track(await startProxy({
      script: writeScript(script()), protos: ['udp'], modules: MODULES,
      extraArgs: ['--workers', '2', '--listen', `ws:127.0.0.1:${wsPort}`, '--listen', `tls:127.0.0.1:${tlsPort}`,
        '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
    }));
    const ca = readFileSync(certs.ca);
    // Two clients per transport: the primary may hand both connections of one transport to one worker.
    const callees = [await openCallee('ws', wsPort, ca, 'w0'), await openCallee('ws', wsPort, ca, 'w1'), await openCallee('tls', tlsPort, ca, 't0'), await openCallee('tls', tlsPort, ca, 't1')];
    const uac = await udpUac(proxy.port);
    try {
      const results: Record<string, string[]> = {};
      for (const callee of callees) {
        // Each Call-ID's owner relays the INVITE; one of the two is never the worker holding the client.
        for (const id of callIdsForBothWorkers(`to-${callee.user}`)) {
          results[id] = await uac.call(callee.user, id).then((r) => [...r, callee.acked.has(id) ? 'ACK reached the client' : 'no ACK at the client'])
            .catch((e: unknown) => [String(e instanceof Error ? e.message : e)]);
        }
      }
      const expected = Object.fromEntries(Object.keys(results).map((id) => [id, ['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'ACK reached the client']]));
      expect(results, proxy.output().slice(-3000)).toEqual(expected);
    } finally {
      uac.close();
      for (const c of callees) c.close();
    }
  });

  it('WebSocket clients call WebSocket clients (browser to browser), whichever workers hold the two connections', async () => {
    const wsPort = await freePort();
    const proxy = track(await startProxy({
      script: writeScript(script()), protos: ['udp'], modules: MODULES,
      extraArgs: ['--workers', '2', '--listen', `ws:127.0.0.1:${wsPort}`],
    }));
    // The primary hands connections out in turn: of two callers and two callees, some pairs sit on different workers.
    const callees = [await openCallee('ws', wsPort, Buffer.alloc(0), 'b0'), await openCallee('ws', wsPort, Buffer.alloc(0), 'b1')];
    const callers = [await openWs(wsPort), await openWs(wsPort)];
    try {
      const results: Record<string, string[]> = {};
      for (const [k, caller] of callers.entries()) {
        for (const callee of callees) {
          for (const id of callIdsForBothWorkers(`ws${k}-to-${callee.user}`)) {
            results[id] = await call(caller, 'WS', id, callee.user).then((r) => [...r, callee.acked.has(id) ? 'ACK reached the callee' : 'no ACK at the callee'])
              .catch((e: unknown) => [String(e instanceof Error ? e.message : e)]);
          }
        }
      }
      const expected = Object.fromEntries(Object.keys(results).map((id) => [id, ['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'ACK reached the callee']]));
      expect(results, proxy.output().slice(-3000)).toEqual(expected);
    } finally {
      for (const c of [...callers, ...callees]) c.close();
    }
  });

  it('a call to a WebSocket client that has gone fails at once in either worker, not at the transaction timeout', async () => {
    const wsPort = await freePort();
    const proxy = track(await startProxy({
      script: writeScript(script()), protos: ['udp'], modules: MODULES,
      extraArgs: ['--workers', '2', '--listen', `ws:127.0.0.1:${wsPort}`],
    }));
    const callee = await openCallee('ws', wsPort, Buffer.alloc(0), 'gone');
    callee.close();
    await new Promise((r) => setTimeout(r, 300)); // the closing reaches the other worker over IPC
    const uac = await udpUac(proxy.port);
    try {
      const results: Record<string, string> = {};
      for (const id of callIdsForBothWorkers('to-gone')) {
        results[id] = await uac.call('gone', id, 3000).then((r) => r[0]!, (e: unknown) => String(e instanceof Error ? e.message : e));
      }
      // t_relay fails where the connection is missing; the script answers with sl_reply_error (Kamailio: 500).
      for (const [id, status] of Object.entries(results)) expect(status, `${id}\n${proxy.output().slice(-2000)}`).toMatch(/^SIP\/2.0 [45]\d\d /);
    } finally {
      uac.close();
    }
  });
  it('an onreply route sees the TLS facts ($tls_*) of a reply read by the worker holding the TLS connection, whichever worker relayed', async () => {
    const certs = makeCerts();
    const tlsPort = await freePort();
    const withReplyRoute = script().replace('    if KSR.tm.t_relay() < 0 then', '    KSR.tm.t_on_reply("tls_reply")\n    if KSR.tm.t_relay() < 0 then') + `
function tls_reply()
  KSR.log("info", "tls-reply " .. KSR.pv.get("$ci") .. " " .. KSR.pv.get("$rs") .. " " .. tostring(KSR.pv.get("$tls_version")) .. " " .. tostring(KSR.pv.get("$tls_my_subject_cn")) .. "\\n")
end
`;
    const proxy = track(await startProxy({
      script: writeScript(withReplyRoute), protos: ['udp'], modules: [...MODULES, 'tls'],
      extraArgs: ['--workers', '2', '--listen', `tls:127.0.0.1:${tlsPort}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
    }));
    const ca = readFileSync(certs.ca);
    // Two clients: the primary may hand both to one worker, but each Call-ID below has one non-holder relaying it.
    const callees = [await openCallee('tls', tlsPort, ca, 'r0'), await openCallee('tls', tlsPort, ca, 'r1')];
    const uac = await udpUac(proxy.port);
    try {
      const ids: string[] = [];
      for (const callee of callees) {
        for (const id of callIdsForBothWorkers(`tlsfacts-${callee.user}`)) {
          expect(await uac.call(callee.user, id)).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
          ids.push(id);
        }
      }
      const seen = ids.map((id) => new RegExp(`tls-reply ${id.replace(/[.]/g, '\\.')} 200 (\\S+) (\\S+)`).exec(proxy.output())?.slice(1).join(' ') ?? 'no reply route run');
      expect(seen, proxy.output().slice(-3000)).toEqual(ids.map(() => 'TLSv1.3 kemi.test'));
    } finally {
      uac.close();
      for (const c of callees) c.close();
    }
  });

  it('KSR.websocket.close_conid closes a WebSocket connection the other worker holds (hand-over), with its status and reason', async () => {
    const wsPort = await freePort();
    // An OPTIONS answers with the connection id ($conid: worker index + 2n); a MESSAGE closes the one it names.
    const closer = `
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Conid: " .. KSR.pv.get("$conid") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return 1
  end
  if KSR.is_MESSAGE() then
    local rc = KSR.websocket.close_conid(tonumber(KSR.hdr.get("X-Close-Status")), "closed by the proxy", tonumber(KSR.hdr.get("X-Close-Conid")))
    KSR.sl.sl_send_reply(200, "rc " .. rc)
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;
    const proxy = track(await startProxy({
      script: writeScript(closer), protos: ['udp'], modules: [...MODULES, 'hdr', 'websocket'],
      extraArgs: ['--workers', '2', '--listen', `ws:127.0.0.1:${wsPort}`],
    }));
    const clients = await Promise.all([0, 1].map(async (k) => {
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, ['sip']);
      await new Promise<void>((r, j) => (ws.once('open', () => r()), ws.once('error', j)));
      const closed = new Promise<string>((r) => ws.once('close', (code: number, reason: Buffer) => r(`${code} ${reason.toString()}`)));
      const answer = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
      ws.send([`OPTIONS sip:kemi.test SIP/2.0`, `Via: SIP/2.0/WS client.invalid;branch=z9hG4bKopt-${k}`, 'Max-Forwards: 70', `From: <sip:c${k}@kemi.test>;tag=o${k}`,
        'To: <sip:kemi.test>', `Call-ID: opt-${k}@kemi.test`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
      const conid = Number(hdr(await answer, 'X-Conid')[0]);
      return { ws, conid, closed };
    }));
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const replies = conn((m) => udp.send(m, proxy.port, '127.0.0.1'), () => udp.close());
    udp.on('message', (b) => replies.push(b.toString()));
    try {
      const results: string[] = [];
      const message = (callId: string, conid: number, status = 4000): Promise<string> => {
        replies.write([`MESSAGE sip:kemi.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${udp.address().port};rport;branch=z9hG4bK-${callId}`, 'Max-Forwards: 70', 'From: <sip:u@kemi.test>;tag=m',
          'To: <sip:kemi.test>', `Call-ID: ${callId}`, 'CSeq: 1 MESSAGE', `X-Close-Conid: ${conid}`, `X-Close-Status: ${status}`, 'Content-Length: 0', '', ''].join('\r\n'));
        return replies.next((m) => hdr(m, 'Call-ID')[0] === callId, `the reply to ${callId}`).then((m) => m.split('\r\n')[0]!);
      };
      for (const [k, c] of clients.entries()) {
        expect(Number.isInteger(c.conid), `conid of client ${k}`).toBe(true);
        // The holder is conid % 2; the MESSAGE's Call-ID belongs to the other worker.
        const other = 1 - (c.conid % 2);
        const ownedByOther = (prefix: string): string => {
          for (let i = 0; ; i++) if (ownerOf(`${prefix}-${i}@kemi.test`, 2) === other) return `${prefix}-${i}@kemi.test`;
        };
        // A status no close frame carries (1005) closes nothing, and the holder goes on.
        results.push(await message(ownedByOther(`bad-${k}`), c.conid, 1005));
        results.push(await message(ownedByOther(`close-${k}`), c.conid));
        results.push(await Promise.race([c.closed, new Promise<string>((r) => setTimeout(() => r('still open after 3 s'), 3000))]));
      }
      results.push(await message('close-none@kemi.test', 999_999));
      expect(results, proxy.output().slice(-2000)).toEqual([
        'SIP/2.0 200 rc 1', 'SIP/2.0 200 rc 1', '4000 closed by the proxy',
        'SIP/2.0 200 rc 1', 'SIP/2.0 200 rc 1', '4000 closed by the proxy',
        'SIP/2.0 200 rc -1',
      ]);
    } finally {
      replies.close();
      for (const c of clients) c.ws.close();
    }
  });
});

/** The headers a UAS copies from a request into its answer. */
const answerTo = (m: string, status: string, toTag: string, contact: string): string => {
  const copy = m.split('\r\n').filter((l) => /^(via|record-route|from|call-id|cseq):/i.test(l));
  const to = hdr(m, 'To')[0] ?? '';
  return [`SIP/2.0 ${status}`, ...copy, `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`, `Contact: <${contact}>`, 'Content-Length: 0', '', ''].join('\r\n');
};

interface Callee {
  user: string;
  /** Call-IDs whose ACK reached the client. */
  acked: Set<string>;
  close(): void;
}

/**
 * A WebSocket or TLS client that registers `user` with its own address as Contact, answers every
 * INVITE and BYE with 200 and notes the ACKs.
 */
async function openCallee(proto: 'ws' | 'tls', port: number, ca: Buffer, user: string): Promise<Callee> {
  const c = proto === 'ws' ? await openWs(port) : await openTls(port, ca);
  const contact = `sip:${user}@127.0.0.1:${c.localPort};transport=${proto}`;
  const acked = new Set<string>();
  c.onRequest = (m) => {
    const method = m.split(' ', 1)[0];
    const id = hdr(m, 'Call-ID')[0] ?? '';
    if (method === 'ACK') acked.add(id);
    else if (method === 'INVITE' || method === 'BYE') c.write(answerTo(m, '200 OK', `${user}-tag`, contact));
  };
  c.write([`REGISTER sip:kemi.test SIP/2.0`, `Via: SIP/2.0/${proto.toUpperCase()} client.invalid;branch=z9hG4bKreg-${user}`, 'Max-Forwards: 70', `From: <sip:${user}@kemi.test>;tag=r-${user}`,
    `To: <sip:${user}@kemi.test>`, `Call-ID: reg-${user}@kemi.test`, 'CSeq: 1 REGISTER', `Contact: <${contact}>`, 'Expires: 300', 'Content-Length: 0', '', ''].join('\r\n'));
  expect((await c.next((m) => /^SIP\/2.0 200/.test(m), `200 to the REGISTER of ${user}`)).split('\r\n')[0]).toBe('SIP/2.0 200 OK');
  return { user, acked, close: () => c.close() };
}

/** A UDP caller: INVITE, 200, ACK and BYE along the Record-Route, 200; each step bounded in time. */
async function udpUac(proxyPort: number): Promise<{ call(user: string, callId: string, waitMs?: number): Promise<string[]>; close(): void }> {
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const me = udp.address().port;
  const c = conn((m) => udp.send(m, proxyPort, '127.0.0.1'), () => udp.close());
  udp.on('message', (b) => c.push(b.toString()));
  const call = async (user: string, callId: string, waitMs = 8000): Promise<string[]> => {
    const req = (method: string, ruri: string, cseq: number, extra: string[]): string =>
      [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};rport;branch=z9hG4bK-${method}-${callId}`, 'Max-Forwards: 70', `From: <sip:u@kemi.test>;tag=u-${callId}`,
        ...extra, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, `Contact: <sip:u@127.0.0.1:${me}>`, 'Content-Length: 0', '', ''].join('\r\n');
    const final = (method: string) => (m: string): boolean => /^SIP\/2.0 [2-6]/.test(m) && hdr(m, 'Call-ID')[0] === callId && (hdr(m, 'CSeq')[0] ?? '').endsWith(method);
    c.write(req('INVITE', `sip:${user}@kemi.test`, 1, [`To: <sip:${user}@kemi.test>`]));
    const ok = await c.next(final('INVITE'), `final reply to the INVITE of ${callId}`, waitMs);
    if (!ok.startsWith('SIP/2.0 200')) return [ok.split('\r\n')[0]!];
    const to = hdr(ok, 'To')[0]!;
    const target = /<([^>]+)>/.exec(hdr(ok, 'Contact')[0] ?? '')![1]!;
    const routes = hdr(ok, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).map((r) => `Route: ${r}`);
    c.write(req('ACK', target, 1, [`To: ${to}`, ...routes]));
    await new Promise((r) => setTimeout(r, 50)); // the BYE does not overtake the ACK
    c.write(req('BYE', target, 2, [`To: ${to}`, ...routes]));
    const bye = await c.next(final('BYE'), `final reply to the BYE of ${callId}`, waitMs);
    return [ok.split('\r\n')[0]!, bye.split('\r\n')[0]!];
  };
  return { call, close: () => c.close() };
}
