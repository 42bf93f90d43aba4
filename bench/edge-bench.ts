/**
 * Requests per second over one reused TLS connection and one reused WSS connection (issue 12):
 * a Node client keeps `--window` OPTIONS outstanding for `--seconds` and counts the 200s the
 * script answers (KSR.sl.sl_send_reply). kemi-proxy, and Kamailio 5.6 with tls.so, xhttp.so and
 * websocket.so running the same script when it is installed. SIPp in this build has no TLS
 * (`-t l1` is not compiled in), hence the Node client; the figure is transactions, not calls.
 *
 *   npm run build && node dist/bench/edge-bench.js [--seconds 5] [--window 100] [--target kemi,kamailio]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort, startProxy, stopChild, tempDir, waitFor, writeScript } from '../test/e2e/harness.js';
import { kamailioBinary } from '../test/e2e/kamailio.js';
import { makeCerts, type TestCerts } from '../test/transport/tls-certs.js';
import { treeCpuSeconds } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    window: { type: 'string', default: '100' },
    target: { type: 'string', default: 'kemi,kamailio' },
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
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

interface Target { name: string; pid: number; tlsPort: number; wssPort: number; stop(): Promise<void> }

function options(n: number, via: string): string {
  return `OPTIONS sip:kemi.test SIP/2.0\r\nVia: SIP/2.0/${via} client.invalid;branch=z9hG4bKbench${n}\r\nMax-Forwards: 70\r\nFrom: <sip:bench@kemi.test>;tag=b1\r\nTo: <sip:kemi.test>\r\nCall-ID: bench-${n}@kemi.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
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

async function benchTls(port: number, certs: TestCerts): Promise<{ ok: number; elapsed: number }> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), servername: 'kemi.test' });
  await new Promise<void>((r, j) => { sock.once('secureConnect', () => r()); sock.once('error', j); });
  let buf = '';
  let onReply = (): void => undefined;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
      const msg = buf.slice(0, i);
      buf = buf.slice(i + 4);
      if (msg.startsWith('SIP/2.0 200')) onReply();
    }
  });
  const r = await drive((n) => sock.write(options(n, 'TLS')), (f) => (onReply = f));
  sock.destroy();
  return r;
}

async function benchWss(port: number, certs: TestCerts): Promise<{ ok: number; elapsed: number }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, ['sip'], { ca: readFileSync(certs.ca) });
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
  let onReply = (): void => undefined;
  ws.on('message', (d) => {
    if (d.toString().startsWith('SIP/2.0 200')) onReply();
  });
  const r = await drive((n) => ws.send(options(n, 'WSS')), (f) => (onReply = f));
  ws.terminate();
  return r;
}

async function startKemi(certs: TestCerts): Promise<Target> {
  const tlsPort = await freePort();
  const wssPort = await freePort();
  const h = await startProxy({
    script: writeScript(SCRIPT), protos: ['udp'], modules: ['pv', 'sl', 'websocket', 'xhttp'],
    extraArgs: ['--log-level', 'warn', '--listen', `tls:127.0.0.1:${tlsPort}`, '--listen', `wss:127.0.0.1:${wssPort}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
  });
  return { name: 'kemi-proxy', pid: h.pid, tlsPort, wssPort, stop: () => h.stop() };
}

async function startKamailio(certs: TestCerts): Promise<Target | null> {
  const bin = kamailioBinary();
  if (!bin) {
    console.log('kamailio not installed: skipping the Kamailio side');
    return null;
  }
  const dir = tempDir('kemi-kam-');
  const udp = await freePort();
  const tlsPort = await freePort();
  const wssPort = await freePort();
  const script = writeScript(SCRIPT, dir);
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
    const t = name === 'kamailio' ? await startKamailio(certs) : await startKemi(certs);
    if (!t) continue;
    try {
      for (const [proto, run] of [['TLS', benchTls], ['WSS', benchWss]] as const) {
        const cpu0 = treeCpuSeconds(t.pid);
        const r = await run(proto === 'TLS' ? t.tlsPort : t.wssPort, certs);
        const cpu = treeCpuSeconds(t.pid) - cpu0;
        console.log(`${t.name.padEnd(22)} ${proto}  ${r.ok} OPTIONS answered in ${r.elapsed.toFixed(1)} s: ${(r.ok / r.elapsed).toFixed(0)}/s, ${((cpu / Math.max(1, r.ok)) * 1000).toFixed(3)} CPU s per 1000 (window ${windowSize}, one connection)`);
      }
    } finally {
      await t.stop();
    }
  }
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
