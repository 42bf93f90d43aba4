/**
 * The WebSocket edge next to Kamailio 5.6 with its xhttp and websocket modules (issue 12): the
 * same KEMI script on both; a `ws` client asks plain HTTP (answered by xhttp_reply), opens the
 * WebSocket (handle_handshake), sends REGISTER and OPTIONS (answered by sl) and an INVITE that is
 * relayed with Record-Route to a UDP sink (double Record-Route: the transport changes). What the
 * client and the sink receive is compared, with ports, tags and branches normalised.
 */
import { describe, expect, it } from 'vitest';
import { get as httpGet } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, tempDir, waitFor, writeScript } from './harness.js';
import { kamailioBinary } from './kamailio.js';
import { udpSink, useTargets } from './diff-harness.js';

const targets = useTargets();

function script(sinkPort: number): string {
  return `
function ksr_xhttp_event(evname)
  if KSR.pv.get("$hu") == "/sip" then
    KSR.websocket.handle_handshake()
    return 1
  end
  KSR.xhttp.xhttp_reply(200, "OK", "text/plain", "hello " .. KSR.pv.get("$hu") .. " " .. evname)
end

function ksr_request_route()
  if KSR.is_REGISTER() then
    KSR.hdr.append_to_reply("X-Proto: " .. KSR.pv.get("$pr") .. " ws=" .. tostring(KSR.is_WS()) .. " wsx=" .. tostring(KSR.is_WSX()) .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "Registered")
    return 1
  end
  if KSR.is_OPTIONS() then
    KSR.sl.sl_send_reply(200, "Alive " .. KSR.pv.get("$Rp") .. " nat=" .. KSR.nathelper.nat_uac_test(64))
    return 1
  end
  KSR.rr.record_route()
  KSR.setdsturi("sip:127.0.0.1:${sinkPort}")
  KSR.tm.t_relay()
end
`;
}

function req(method: string, n: number, ruri = 'sip:kemi.test'): string {
  return [
    `${method} ${ruri} SIP/2.0`,
    `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKwsdiff${n}`,
    'Max-Forwards: 70',
    'From: <sip:alice@kemi.test>;tag=wsd1',
    'To: <sip:alice@kemi.test>',
    `Call-ID: ws-diff-${n}@kemi.test`,
    `CSeq: ${n} ${method}`,
    'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function norm(s: string, ports: Record<string, number>): string {
  let t = s;
  for (const [name, p] of Object.entries(ports)) t = t.replace(new RegExp(`\\b${p}\\b`, 'g'), `<${name}>`);
  return t
    .replace(/;tag=[^;\r\n>]+/g, ';tag=<tag>')
    .replace(/branch=z9hG4bK[^;\r\n]+/g, 'branch=<branch>')
    .replace(/^(Server|User-Agent|Content-Length|Date): .*\r\n/gim, '')
    .replace(/ftag=[^;>]+/g, 'ftag=<ftag>');
}

function httpText(port: number, path: string): Promise<string> {
  return new Promise((res, rej) => {
    const rq = httpGet({ host: '127.0.0.1', port, path }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(`${r.statusCode} ${r.statusMessage} ${String(r.headers['content-type'])} ${body}`));
    });
    rq.on('error', rej);
    rq.setTimeout(5000, () => rq.destroy(new Error('timeout')));
  });
}

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const port = await freePort();
  const wsPort = await freePort();
  const sink = await udpSink(`${target} INVITE`);
  try {
    const cfg = join(tempDir(), 'kemi.json');
    writeFileSync(cfg, JSON.stringify({ modparams: { xhttp: { event_callback: 'ksr_xhttp_event' }, websocket: { event_callback: 'ksr_websocket_event' } } }));
    const h = await targets.start(target, writeScript(script(sink.port)), {
      port,
      kemiModules: [...DEFAULT_MODULES, 'nathelper', 'websocket', 'xhttp'],
      kemiArgs: ['--config', cfg, '--listen', `ws:127.0.0.1:${wsPort}`],
      kamailioModules: [
        `listen=tcp:127.0.0.1:${wsPort}`,
        'tcp_accept_no_cl=yes',
        'loadmodule "nathelper.so"',
        'loadmodule "xhttp.so"',
        'loadmodule "websocket.so"',
        'modparam("xhttp", "event_callback", "ksr_xhttp_event")',
        'modparam("websocket", "event_callback", "ksr_websocket_event")',
      ].join('\n'),
    });
    const out: string[] = [];
    out.push(`http: ${await httpText(wsPort, '/status')}`);
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/sip`, ['sip']);
    const msgs: string[] = [];
    ws.on('message', (d) => msgs.push(d.toString()));
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    out.push(`subprotocol: ${ws.protocol}`);
    const local = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    const ports = { proxy: port, ws: wsPort, sink: sink.port, client: local };
    ws.send(req('REGISTER', 1));
    await waitFor(() => msgs.length >= 1, 5000, () => `${target}: no answer to REGISTER\n${h.output()}`);
    ws.send(req('OPTIONS', 2));
    await waitFor(() => msgs.length >= 2, 5000, () => `${target}: no answer to OPTIONS`);
    ws.send(req('INVITE', 3, 'sip:bob@kemi.test'));
    const relayed = await sink.first.catch((e: Error) => `${e.message}\n${h.output()}`);
    ws.terminate();
    for (const m of msgs) out.push(norm(m, ports));
    out.push(norm(relayed, ports));
    return out;
  } finally {
    sink.close();
  }
}

describe.skipIf(!kamailioBinary())('WebSocket edge next to Kamailio 5.6 (xhttp, websocket)', () => {
  it('HTTP, handshake, REGISTER, OPTIONS and a relayed INVITE: the same on both', async () => {
    const { kemi, kam } = await targets.onBoth(run);
    expect(kemi).toEqual(kam);
  }, 40_000);
});
