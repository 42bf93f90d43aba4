/**
 * Edge transports under load (issue 12): kemi-proxy, and Kamailio 5.6 with tls.so, xhttp.so and
 * websocket.so running the same script when it is installed, over TLS and over WSS, in one run:
 *
 * - options:    OPTIONS (answered by KSR.sl.sl_send_reply) over one reused connection;
 * - calls:      calls (INVITE/200/ACK/BYE relayed by tm with Record-Route to a SIPp UAS on UDP) over
 *               one reused connection;
 * - calls-new:  the same calls, each on its own connection, opened for the INVITE (TCP and TLS
 *               handshake, and the WebSocket upgrade for WSS) and closed after the 200 to the BYE;
 * - handshakes: connect, TLS handshake (and upgrade for WSS), one OPTIONS and its 200, close.
 * - calls-in:   the other way (TLS only): the client registers over its connection and answers
 *               the calls a SIPp UAC on UDP makes to it at `--in-rate` calls/s (lookup("location"),
 *               Record-Route; INVITE/200/ACK/BYE/200). With --workers 2, about half the Call-IDs
 *               are owned by the worker that does not hold the client's connection, and their
 *               INVITE, ACK and BYE are handed to the one that does.
 *
 * Reused connections keep `--window` requests or calls outstanding; the per-connection modes keep
 * `--conn-window` connections in flight. Each run lasts `--seconds` and counts what completes.
 * Every run numbers its Call-IDs and branches under its own tag: a branch reused from an earlier
 * run is a retransmission to the proxy (RFC 3261 17.2.3) while that transaction lingers
 * (wait_timer), and its 200 would go back on the earlier run's closed connection. The UAS runs
 * test/e2e/scenarios/uas-bench.xml: under load the proxy's timer A retransmits an INVITE that SIPp
 * was slow to answer, and uas.xml aborts a call on a retransmission that comes after its 200. SIPp
 * in this build has no TLS (`-t l1` is not compiled in), hence the Node clients. Client TLS
 * sessions are not resumed: every handshake is a full one.
 *
 *   npx tsc -p . && node dist/bench/edge-bench.js [--seconds 5] [--window 50] [--conn-window 20]
 *     [--target kemi,kamailio] [--protos TLS,WSS] [--modes options,calls,calls-new,handshakes,calls-in] [--workers 1] [--in-rate 500]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort, startProxy, startSipp, stopChild, tempDir, waitFor, writeScript } from '../test/e2e/harness.js';
import { kamailioBinary } from '../test/e2e/kamailio.js';
import { makeCerts, type TestCerts } from '../test/transport/tls-certs.js';
import { treeCpuSeconds } from './proc-cpu.js';

const MODES = ['options', 'calls', 'calls-new', 'handshakes', 'calls-in'] as const;
type Mode = (typeof MODES)[number];
type Proto = 'TLS' | 'WSS';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    window: { type: 'string', default: '50' },
    'conn-window': { type: 'string', default: '20' },
    target: { type: 'string', default: 'kemi,kamailio' },
    protos: { type: 'string', default: 'TLS,WSS' },
    modes: { type: 'string', default: MODES.join(',') },
    workers: { type: 'string', default: '1' },
    'in-rate': { type: 'string', default: '500' },
  },
});
const seconds = Number(values.seconds);
const windowSize = Number(values.window);
const connWindow = Number(values['conn-window']);
/** kemi-proxy's --workers (Kamailio keeps children=2, tcp_children=2). */
const workers = Number(values.workers);
/** calls-in: the SIPp UAC's call rate. */
const inRate = Number(values['in-rate']);
/** A call or a handshake not done in this time counts as failed (and is reported). */
const PER_CONN_TIMEOUT_MS = 10_000;

const SCRIPT = `
function ksr_xhttp_event(evname)
  KSR.websocket.handle_handshake()
end
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.sl.sl_send_reply(200, "OK")
    return 1
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then KSR.tm.t_relay() return 1 end
    KSR.sl.sl_send_reply(404, "Not here")
    return 1
  end
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.is_INVITE() then
    KSR.rr.record_route()
    if KSR.pv.get("$rU") == "bench" then
      if KSR.registrar.lookup("location") < 0 then KSR.sl.sl_send_reply(404, "Not Found") return 1 end
    else
      KSR.setdsturi("sip:127.0.0.1:@UAS@")
    end
    KSR.tm.t_relay()
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

interface Target { name: string; pid: number; udpPort: number; tlsPort: number; wssPort: number; stop(): Promise<void> }

/** Tag of one run: Call-IDs and branches are unique across the runs of one invocation. */
let runCounter = 0;
const newRunTag = (): string => `${process.pid.toString(36)}r${++runCounter}`;

function options(tag: string, n: number, via: string): string {
  return `OPTIONS sip:kemi.test SIP/2.0\r\nVia: SIP/2.0/${via} client.invalid;branch=z9hG4bKo${tag}x${n}\r\nMax-Forwards: 70\r\nFrom: <sip:bench@kemi.test>;tag=b1\r\nTo: <sip:kemi.test>\r\nCall-ID: bench-${tag}-${n}@kemi.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
}

function header(msg: string, name: string): string[] {
  const out: string[] = [];
  for (const line of msg.split('\r\n')) if (line.toLowerCase().startsWith(`${name.toLowerCase()}:`)) out.push(line.slice(name.length + 1).trim());
  return out;
}

/**
 * One INVITE/200/ACK/BYE/200 call per `send(n)` through the proxy to the SIPp UAS; `onMessage`
 * takes every message the client receives and returns true when it ended a call (200 to BYE).
 */
function callDriver(tag: string, via: string, write: (s: string) => void): { send(n: number): void; onMessage(m: string): boolean; stalled(): string } {
  // Stage of each call not yet ended: 1 INVITE sent, 2 200 received (ACK and BYE sent).
  const stage = new Map<number, number>();
  const base = (method: string, ruri: string, n: number, cseq: number, extra: string[]): string =>
    [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/${via} client.invalid;branch=z9hG4bKc${tag}x${n}x${cseq}${method === 'ACK' ? 'a' : ''}`, 'Max-Forwards: 70',
      `From: <sip:bench@kemi.test>;tag=bf${tag}x${n}`, ...extra, `Call-ID: bcall-${tag}-${n}@kemi.test`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
  const callIdRe = new RegExp(`bcall-${tag}-(\\d+)@`);
  return {
    stalled: () => `${[...stage.values()].filter((v) => v === 1).length} waiting for 200 to INVITE, ${[...stage.values()].filter((v) => v === 2).length} for 200 to BYE`,
    send: (n) => (stage.set(n, 1), write(base('INVITE', 'sip:sipp@kemi.test', n, 1, ['To: <sip:sipp@kemi.test>', `Contact: <sip:bench@client.invalid;transport=${via.toLowerCase()}>`]))),
    onMessage: (m) => {
      if (!m.startsWith('SIP/2.0 200')) return false;
      const cseq = header(m, 'CSeq')[0] ?? '';
      const n = Number(callIdRe.exec(m)?.[1]);
      if (cseq.endsWith('INVITE')) {
        if (stage.get(n) !== 1) return false; // a retransmitted 200
        stage.set(n, 2);
        const to = header(m, 'To')[0]!;
        const contact = /<([^>]+)>/.exec(header(m, 'Contact')[0] ?? '')?.[1] ?? 'sip:127.0.0.1';
        const routes = header(m, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse().map((r) => `Route: ${r}`);
        write(base('ACK', contact, n, 1, [`To: ${to}`, ...routes]));
        // As SIPp's uac.xml: a short pause, so the BYE does not overtake the ACK on the way to the UAS.
        setTimeout(() => write(base('BYE', contact, n, 2, [`To: ${to}`, ...routes])), 10);
        return false;
      }
      if (!cseq.endsWith('BYE') || stage.get(n) !== 2) return false;
      stage.delete(n);
      return true;
    },
  };
}

/** One SIP connection of the bench client: TLS with Content-Length framing, or WSS (a message per frame). */
interface SipConn {
  /** The client's own port (a Contact's). */
  localPort: number;
  write(m: string): void;
  onMessage(f: (m: string) => void): void;
  /** Graceful close (TLS close_notify and FIN; WebSocket close frame). */
  close(): void;
  destroy(): void;
}

/** The client's TLS context, made once: per-connection CA parsing would load the client, not the proxy. */
function clientContext(certs: TestCerts): SecureContext {
  return createSecureContext({ ca: readFileSync(certs.ca) });
}

async function openConn(proto: Proto, port: number, ctx: SecureContext): Promise<SipConn> {
  let handler = (_m: string): void => undefined;
  if (proto === 'TLS') {
    const sock = tlsConnect({ host: '127.0.0.1', port, secureContext: ctx, servername: 'kemi.test' });
    sock.setNoDelay(true);
    await new Promise<void>((r, j) => {
      sock.once('secureConnect', () => r());
      sock.once('error', j);
    });
    sock.on('error', () => undefined); // a reset after the call: the caller's timeout reports what is missing
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const len = Number(/\r\n(?:Content-Length|l)\s*:\s*(\d+)/i.exec(buf.slice(0, i))?.[1] ?? 0);
        if (buf.length < i + 4 + len) break;
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 4 + len);
        handler(msg);
      }
    });
    return { localPort: sock.localPort ?? 0, write: (m) => sock.write(m), onMessage: (f) => (handler = f), close: () => sock.end(), destroy: () => sock.destroy() };
  }
  // ws hands its options to tls.connect, so the shared context goes through as it does for TLS.
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, ['sip'], { perMessageDeflate: false, secureContext: ctx } as WebSocket.ClientOptions);
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  ws.on('error', () => undefined);
  ws.on('message', (d: Buffer) => handler(d.toString()));
  const localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  return { localPort, write: (m) => ws.send(m), onMessage: (f) => (handler = f), close: () => ws.close(1000), destroy: () => ws.terminate() };
}

interface RunResult { ok: number; failed: number; elapsed: number; note: string }

/** Keeps `windowSize` requests or calls outstanding on one connection for `seconds`; counts what completes. */
async function runReused(proto: Proto, port: number, ctx: SecureContext, mode: 'options' | 'calls'): Promise<RunResult> {
  const tag = newRunTag();
  const conn = await openConn(proto, port, ctx);
  const calls = callDriver(tag, proto, (m) => conn.write(m));
  const send = (n: number): void => (mode === 'calls' ? calls.send(n) : conn.write(options(tag, n, proto)));
  let sent = 0;
  let ok = 0;
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  const r = await new Promise<{ ok: number; elapsed: number }>((res) => {
    conn.onMessage((m) => {
      if (!(mode === 'calls' ? calls.onMessage(m) : m.startsWith('SIP/2.0 200'))) return;
      ok++;
      if (Date.now() < end) send(++sent);
      else if (ok === sent) res({ ok, elapsed: (Date.now() - t0) / 1000 });
    });
    for (let i = 0; i < windowSize; i++) send(++sent);
    setTimeout(() => res({ ok, elapsed: (Date.now() - t0) / 1000 }), seconds * 1000 + 5000).unref();
  });
  conn.destroy();
  const failed = sent - r.ok;
  return { ...r, failed, note: mode === 'calls' && failed > 0 ? `not ended: ${calls.stalled()}` : '' };
}

/**
 * Keeps `connWindow` connections in flight for `seconds`, each running `one(n)` on a connection of
 * its own; a failed one (error, or not done in PER_CONN_TIMEOUT_MS) is counted with its reason.
 * `elapsed` runs to the last connection's end.
 */
async function runPerConnection(one: (n: number) => Promise<void>): Promise<RunResult> {
  let n = 0;
  let ok = 0;
  let failed = 0;
  const errors = new Map<string, number>();
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      try {
        await one(++n);
        ok++;
      } catch (e) {
        failed++;
        const what = e instanceof Error ? ((e as NodeJS.ErrnoException).code ?? e.message) : String(e);
        errors.set(what, (errors.get(what) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: connWindow }, worker));
  return { ok, failed, elapsed: (Date.now() - t0) / 1000, note: [...errors].map(([k, v]) => `${v}x ${k}`).join(', ') };
}

/** Waits for `p`; destroys `conn` and throws when it takes longer than PER_CONN_TIMEOUT_MS. */
async function within(conn: SipConn, p: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_r, j) => (timer = setTimeout(() => j(new Error(`timeout ${what}`)), PER_CONN_TIMEOUT_MS)))]);
  } catch (e) {
    conn.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** calls-new: connect, INVITE ... 200 to BYE, close. */
function callOnNewConn(proto: Proto, port: number, ctx: SecureContext): (n: number) => Promise<void> {
  const tag = newRunTag();
  return async (n) => {
    const conn = await openConn(proto, port, ctx);
    const calls = callDriver(tag, proto, (m) => conn.write(m));
    const done = new Promise<void>((res) => conn.onMessage((m) => calls.onMessage(m) && res()));
    calls.send(n);
    await within(conn, done, `(call ${calls.stalled()})`);
    conn.close();
  };
}

/** handshakes: connect, TLS handshake (WSS: and the upgrade), one OPTIONS and its 200, close. */
function handshakeOnNewConn(proto: Proto, port: number, ctx: SecureContext): (n: number) => Promise<void> {
  const tag = newRunTag();
  return async (n) => {
    const conn = await openConn(proto, port, ctx);
    const done = new Promise<void>((res) => conn.onMessage((m) => m.startsWith('SIP/2.0 200') && res()));
    conn.write(options(tag, n, proto));
    await within(conn, done, 'waiting for 200 to OPTIONS');
    conn.close();
  };
}

async function startKemi(certs: TestCerts, uasPort: number): Promise<Target> {
  const tlsPort = await freePort();
  const wssPort = await freePort();
  const h = await startProxy({
    script: writeScript(SCRIPT.replace('@UAS@', String(uasPort))), protos: ['udp'], modules: ['pv', 'sl', 'tm', 'rr', 'siputils', 'websocket', 'xhttp', 'usrloc', 'registrar'],
    extraArgs: ['--log-level', 'warn', '--listen', `tls:127.0.0.1:${tlsPort}`, '--listen', `wss:127.0.0.1:${wssPort}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key,
      ...(workers > 1 ? ['--workers', String(workers)] : [])],
  });
  return { name: workers > 1 ? `kemi-proxy(workers=${workers})` : 'kemi-proxy', pid: h.pid, udpPort: h.port, tlsPort, wssPort, stop: () => h.stop() };
}

async function startKamailio(certs: TestCerts, uasPort: number): Promise<Target | null> {
  const bin = kamailioBinary();
  if (!bin) {
    console.log('kamailio not installed: skipping the Kamailio side');
    return null;
  }
  const dir = tempDir('kemi-kam-');
  const udp = await freePort();
  const tlsPort = await freePort();
  const wssPort = await freePort();
  const script = writeScript(SCRIPT.replace('@UAS@', String(uasPort)), dir);
  writeFileSync(join(dir, 'tls.cfg'), `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\ncertificate = ${certs.server.cert}\nprivate_key = ${certs.server.key}\n\n[client:default]\nverify_certificate = no\nrequire_certificate = no\n`);
  writeFileSync(join(dir, 'kamailio.cfg'), `#!KAMAILIO
debug=0
log_stderror=yes
children=2
tcp_children=2
enable_tls=yes
tcp_accept_no_cl=yes
auto_aliases=no
listen=udp:127.0.0.1:${udp}
listen=tls:127.0.0.1:${tlsPort}
listen=tls:127.0.0.1:${wssPort}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "pv.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "app_lua.so"
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "preload", "location")
modparam("tls", "config", "${join(dir, 'tls.cfg')}")
modparam("xhttp", "event_callback", "ksr_xhttp_event")
modparam("app_lua", "load", "${script}")
cfgengine "lua"
`);
  const child: ChildProcess = spawn(bin, ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '512', '-M', '32', '-Y', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  await waitFor(() => /Aliases|listening on/.test(out) || child.exitCode !== null, 10_000, () => `kamailio did not start:\n${out}`);
  if (child.exitCode !== null) throw new Error(`kamailio exited:\n${out}`);
  await new Promise((r) => setTimeout(r, 1000));
  return { name: 'kamailio(children=2)', pid: child.pid!, udpPort: udp, tlsPort, wssPort, stop: () => stopChild(child) };
}

const WHAT: Record<Mode, string> = {
  options: 'OPTIONS/s, one reused connection',
  calls: 'calls/s, one reused connection',
  'calls-new': 'calls/s, a new connection per call',
  handshakes: 'handshakes/s (connect, handshake, OPTIONS, close)',
  'calls-in': 'calls/s from a SIPp UAC on UDP to the client, over its one connection',
};

/**
 * calls-in: registers `bench` with the client's own address as Contact over one connection, answers
 * every INVITE and BYE with 200, while a SIPp UAC on UDP calls it at `inRate` for `seconds`.
 */
async function runCallsIn(t: Target, proto: Proto, ctx: SecureContext): Promise<RunResult> {
  const tag = newRunTag();
  const conn = await openConn(proto, proto === 'TLS' ? t.tlsPort : t.wssPort, ctx);
  const localPort = conn.localPort;
  const contact = `sip:bench@127.0.0.1:${localPort};transport=${proto === 'TLS' ? 'tls' : 'ws'}`;
  const registered = new Promise<void>((res, rej) => {
    const got: string[] = [];
    const timer = setTimeout(() => rej(new Error(`no 200 to the REGISTER; received: ${got.join(' | ')}`)), 5000);
    conn.onMessage((m) => {
      got.push(m.split('\r\n')[0]!);
      if (m.startsWith('SIP/2.0 200') && (header(m, 'CSeq')[0] ?? '').endsWith('REGISTER')) {
        clearTimeout(timer);
        res();
      }
    });
  });
  conn.write([`REGISTER sip:kemi.test SIP/2.0`, `Via: SIP/2.0/${proto} client.invalid;branch=z9hG4bKr${tag}`, 'Max-Forwards: 70', `From: <sip:bench@kemi.test>;tag=r${tag}`,
    'To: <sip:bench@kemi.test>', `Call-ID: reg-${tag}@kemi.test`, 'CSeq: 1 REGISTER', `Contact: <${contact}>`, 'Expires: 300', 'Content-Length: 0', '', ''].join('\r\n'));
  await registered;
  conn.onMessage((m) => {
    const method = m.slice(0, m.indexOf(' '));
    if (method !== 'INVITE' && method !== 'BYE') return;
    const copy = m.split('\r\n').filter((l) => /^(via|v|record-route|from|f|call-id|i|cseq):/i.test(l));
    const to = header(m, 'To')[0] ?? header(m, 't')[0] ?? '';
    conn.write(['SIP/2.0 200 OK', ...copy, `To: ${/;tag=/.test(to) ? to : `${to};tag=b${tag}`}`, `Contact: <${contact}>`, 'Content-Length: 0', '', ''].join('\r\n'));
  });
  const t0 = Date.now();
  const r = await startSipp({ scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${t.udpPort}`, service: 'bench', rate: inRate, calls: inRate * seconds, timeoutS: seconds + 30 }).done;
  conn.destroy();
  const errors = r.failed > 0 ? r.output.split('--- sipp errors ---')[1]?.slice(0, 500) ?? '' : '';
  return { ok: r.successful, failed: inRate * seconds - r.successful, elapsed: (Date.now() - t0) / 1000, note: errors.replace(/\s+/g, ' ') };
}

async function runOne(t: Target, mode: Mode, proto: Proto, ctx: SecureContext): Promise<RunResult> {
  if (mode === 'calls-in') return runCallsIn(t, proto, ctx);
  const port = proto === 'TLS' ? t.tlsPort : t.wssPort;
  if (mode === 'options' || mode === 'calls') return runReused(proto, port, ctx, mode);
  return runPerConnection(mode === 'calls-new' ? callOnNewConn(proto, port, ctx) : handshakeOnNewConn(proto, port, ctx));
}

async function main(): Promise<void> {
  const certs = makeCerts();
  const ctx = clientContext(certs);
  const modes = values.modes!.split(',') as Mode[];
  const protos = values.protos!.split(',') as Proto[];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m} (${MODES.join(', ')})`);
  /** rate by `mode proto` and target name, for the table at the end. */
  const table = new Map<string, Map<string, string>>();
  const names: string[] = [];
  for (const name of values.target!.split(',')) {
    const uasPort = await freePort();
    const t = name === 'kamailio' ? await startKamailio(certs, uasPort) : await startKemi(certs, uasPort);
    if (!t) continue;
    names.push(t.name);
    try {
      for (const mode of modes) {
        for (const proto of protos) {
          // A WebSocket client's Contact says transport=ws, which scripts route with alias handling (not here).
          if (mode === 'calls-in' && proto !== 'TLS') continue;
          const withUas = mode === 'calls' || mode === 'calls-new';
          const uas = withUas ? startSipp({ scenario: 'uas-bench.xml', port: uasPort, timeoutS: seconds + 30 }) : null;
          if (uas) await new Promise((r) => setTimeout(r, 1000));
          const cpu0 = treeCpuSeconds(t.pid);
          const client0 = process.cpuUsage();
          const r = await runOne(t, mode, proto, ctx);
          const cpu = treeCpuSeconds(t.pid) - cpu0;
          // The client's own CPU: the one-process Node client does a full handshake per connection too.
          const clientUsage = process.cpuUsage(client0);
          const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
          await uas?.stop();
          // What the UAS saw of failed calls (unexpected messages, retransmission timeouts).
          if (uas && r.failed > 0) console.log(`  SIPp UAS of the failed run:\n${(await uas.done).output.split('--- sipp errors ---')[1]?.slice(0, 2000) ?? '(no errors logged)'}`);
          const rate = (r.ok / r.elapsed).toFixed(0);
          const key = `${mode.padEnd(10)} ${proto}`;
          if (!table.has(key)) table.set(key, new Map());
          table.get(key)!.set(t.name, r.failed > 0 ? `${rate} (${r.failed} failed)` : rate);
          console.log(
            `${t.name.padEnd(20)} ${proto} ${mode.padEnd(10)} ${r.ok} in ${r.elapsed.toFixed(1)} s: ${rate}/s, ${r.failed} failed, ` +
              `${((cpu / Math.max(1, r.ok)) * 1000).toFixed(3)} CPU s per 1000 (client ${((clientCpu / Math.max(1, r.ok)) * 1000).toFixed(3)}; ` +
              (mode === 'calls-in' ? `offered ${inRate}/s)` : `window ${mode === 'options' || mode === 'calls' ? windowSize : connWindow})`) +
              (r.note ? ` [${r.note}]` : ''),
          );
        }
      }
    } finally {
      await t.stop();
    }
  }
  console.log(`\nper second, ${seconds} s per run\n${'mode       proto'.padEnd(16)}${names.map((n) => n.padStart(24)).join('')}`);
  for (const [key, byName] of table) console.log(`${key.padEnd(16)}${names.map((n) => (byName.get(n) ?? '-').padStart(24)).join('')}`);
  console.log(Object.entries(WHAT).map(([k, v]) => `  ${k}: ${v}`).join('\n'));
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
