/**
 * Requests and calls per second over one reused TLS connection and one reused WSS connection
 * (issue 12): a Node client keeps `--window` OPTIONS (answered by KSR.sl.sl_send_reply) or calls
 * (INVITE/200/ACK/BYE relayed by tm with Record-Route to a SIPp UAS on UDP) outstanding for
 * `--seconds` and counts what completes. kemi-proxy, and Kamailio 5.6 with tls.so, xhttp.so and
 * websocket.so running the same script when it is installed. SIPp in this build has no TLS
 * (`-t l1` is not compiled in), hence the Node client.
 *
 *   npm run build && node dist/bench/edge-bench.js [--seconds 5] [--window 100] [--target kemi,kamailio]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort, startProxy, startSipp, stopChild, tempDir, waitFor, writeScript } from '../test/e2e/harness.js';
import { kamailioBinary } from '../test/e2e/kamailio.js';
import { makeCerts, type TestCerts } from '../test/transport/tls-certs.js';
import { treeCpuSeconds } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    window: { type: 'string', default: '100' },
    target: { type: 'string', default: 'kemi,kamailio' },
    protos: { type: 'string', default: 'TLS,WSS' },
    modes: { type: 'string', default: 'options,calls' },
  },
});
const seconds = Number(values.seconds);
const windowSize = Number(values.window);

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
  if KSR.is_INVITE() then
    KSR.rr.record_route()
    KSR.setdsturi("sip:127.0.0.1:@UAS@")
    KSR.tm.t_relay()
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

interface Target { name: string; pid: number; tlsPort: number; wssPort: number; stop(): Promise<void> }

function options(n: number, via: string): string {
  return `OPTIONS sip:kemi.test SIP/2.0\r\nVia: SIP/2.0/${via} client.invalid;branch=z9hG4bKbench${n}\r\nMax-Forwards: 70\r\nFrom: <sip:bench@kemi.test>;tag=b1\r\nTo: <sip:kemi.test>\r\nCall-ID: bench-${n}@kemi.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
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
function callDriver(via: string, write: (s: string) => void): { send(n: number): void; onMessage(m: string): boolean; stalled(): string } {
  // Stage of each call not yet ended: 1 INVITE sent, 2 200 received (ACK and BYE sent).
  const stage = new Map<number, number>();
  const base = (method: string, ruri: string, n: number, cseq: number, extra: string[]): string =>
    [`${method} ${ruri} SIP/2.0`, `Via: SIP/2.0/${via} client.invalid;branch=z9hG4bKc${n}x${cseq}${method === 'ACK' ? 'a' : ''}`, 'Max-Forwards: 70',
      'From: <sip:bench@kemi.test>;tag=bf' + n, ...extra, `Call-ID: bcall-${n}@kemi.test`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
  return {
    stalled: () => `${[...stage.values()].filter((v) => v === 1).length} waiting for 200 to INVITE, ${[...stage.values()].filter((v) => v === 2).length} for 200 to BYE`,
    send: (n) => (stage.set(n, 1), write(base('INVITE', 'sip:sipp@kemi.test', n, 1, ['To: <sip:sipp@kemi.test>', `Contact: <sip:bench@client.invalid;transport=${via.toLowerCase()}>`]))),
    onMessage: (m) => {
      if (!m.startsWith('SIP/2.0 200')) return false;
      const cseq = header(m, 'CSeq')[0] ?? '';
      const n = Number(/bcall-(\d+)@/.exec(m)?.[1]);
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

/** Sends and counts: `send(n)` puts request n on the wire; `onReply` is called once per 200. */
async function drive(send: (n: number) => void, setOnReply: (f: () => void) => void): Promise<{ ok: number; elapsed: number }> {
  let sent = 0;
  let ok = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  return new Promise((res) => {
    setOnReply(() => {
      ok++;
      if (Date.now() < end) send(++sent);
      else if (ok === sent) res({ ok, elapsed: (Date.now() - t0) / 1000 });
    });
    for (let i = 0; i < windowSize; i++) send(++sent);
    setTimeout(() => res({ ok, elapsed: (Date.now() - t0) / 1000 }), seconds * 1000 + 5000).unref();
  });
}

type Mode = 'options' | 'calls';

async function benchTls(port: number, certs: TestCerts, mode: Mode): Promise<{ ok: number; elapsed: number }> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), servername: 'kemi.test' });
  await new Promise<void>((r, j) => { sock.once('secureConnect', () => r()); sock.once('error', j); });
  let buf = '';
  let onReply = (): void => undefined;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
      const len = Number(/\r\n(?:Content-Length|l)\s*:\s*(\d+)/i.exec(buf.slice(0, i))?.[1] ?? 0);
      if (buf.length < i + 4 + len) break;
      const msg = buf.slice(0, i);
      buf = buf.slice(i + 4 + len);
      if (mode === 'calls' ? calls.onMessage(msg) : msg.startsWith('SIP/2.0 200')) onReply();
    }
  });
  const calls = callDriver('TLS', (m) => sock.write(m));
  const r = await drive((n) => (mode === 'calls' ? calls.send(n) : sock.write(options(n, 'TLS'))), (f) => (onReply = f));
  if (mode === 'calls') console.log(`  TLS calls not ended: ${calls.stalled()}`);
  sock.destroy();
  return r;
}

async function benchWss(port: number, certs: TestCerts, mode: Mode): Promise<{ ok: number; elapsed: number }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, ['sip'], { ca: readFileSync(certs.ca) });
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
  let onReply = (): void => undefined;
  const calls = callDriver('WSS', (m) => ws.send(m));
  ws.on('message', (d) => {
    const m = d.toString();
    if (mode === 'calls' ? calls.onMessage(m) : m.startsWith('SIP/2.0 200')) onReply();
  });
  const r = await drive((n) => (mode === 'calls' ? calls.send(n) : ws.send(options(n, 'WSS'))), (f) => (onReply = f));
  if (mode === 'calls') console.log(`  WSS calls not ended: ${calls.stalled()}`);
  ws.terminate();
  return r;
}

async function startKemi(certs: TestCerts, uasPort: number): Promise<Target> {
  const tlsPort = await freePort();
  const wssPort = await freePort();
  const h = await startProxy({
    script: writeScript(SCRIPT.replace('@UAS@', String(uasPort))), protos: ['udp'], modules: ['pv', 'sl', 'tm', 'rr', 'siputils', 'websocket', 'xhttp'],
    extraArgs: ['--log-level', 'warn', '--listen', `tls:127.0.0.1:${tlsPort}`, '--listen', `wss:127.0.0.1:${wssPort}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
  });
  return { name: 'kemi-proxy', pid: h.pid, tlsPort, wssPort, stop: () => h.stop() };
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
loadmodule "app_lua.so"
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
  return { name: 'kamailio(children=2)', pid: child.pid!, tlsPort, wssPort, stop: () => stopChild(child) };
}

async function main(): Promise<void> {
  const certs = makeCerts();
  for (const name of values.target!.split(',')) {
    const uasPort = await freePort();
    const t = name === 'kamailio' ? await startKamailio(certs, uasPort) : await startKemi(certs, uasPort);
    if (!t) continue;
    try {
      for (const mode of values.modes!.split(',') as Mode[]) {
        for (const proto of values.protos!.split(',') as ('TLS' | 'WSS')[]) {
          const run = proto === 'TLS' ? benchTls : benchWss;
          const uas = mode === 'calls' ? startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: seconds + 30 }) : null;
          if (uas) await new Promise((r) => setTimeout(r, 1000));
          const cpu0 = treeCpuSeconds(t.pid);
          const r = await run(proto === 'TLS' ? t.tlsPort : t.wssPort, certs, mode);
          const cpu = treeCpuSeconds(t.pid) - cpu0;
          await uas?.stop();
          const what = mode === 'calls' ? 'calls (INVITE/200/ACK/BYE to a SIPp UAS on UDP)' : 'OPTIONS answered';
          console.log(`${t.name.padEnd(22)} ${proto}  ${r.ok} ${what} in ${r.elapsed.toFixed(1)} s: ${(r.ok / r.elapsed).toFixed(0)}/s, ${((cpu / Math.max(1, r.ok)) * 1000).toFixed(3)} CPU s per 1000 (window ${windowSize}, one connection)`);
        }
      }
    } finally {
      await t.stop();
    }
  }
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
