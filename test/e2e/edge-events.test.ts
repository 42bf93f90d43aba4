/**
 * The core wiring of the WebSocket edge (issue 12) through a running kemi-proxy: ksr_xhttp_event
 * decides each HTTP request on the ws listener (plain HTTP answered by xhttp_reply with what the
 * script read of the request, upgrades accepted by handle_handshake or refused), a closed
 * WebSocket runs ksr_websocket_event("websocket:closed") with $ws_conid, and an INVITE relayed by
 * tm to a registered WebSocket user whose connection then closes ends with 503 at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get as httpGet } from 'node:http';
import WebSocket from 'ws';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startProxy, tempDir, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { request as udpReq, udpRequest } from './udp-client.js';

const SCRIPT = `
function ksr_xhttp_event(evname)
  local hu = KSR.pv.get("$hu")
  if hu == "/status" then
    KSR.xhttp.xhttp_reply(200, "OK", "text/plain", evname .. " " .. KSR.pv.get("$rm") .. " " .. hu
      .. " ua=" .. tostring(KSR.pv.get("$hdr(User-Agent)")) .. " si=" .. KSR.pv.get("$si") .. " proto=" .. KSR.pv.get("$pr"))
    return 1
  end
  if hu == "/sip" then
    KSR.websocket.handle_handshake()
    return 1
  end
  KSR.xhttp.xhttp_reply(403, "Forbidden", "text/plain", "no")
end

function ksr_websocket_event(evname)
  KSR.info("ws event " .. evname .. " conid=" .. tostring(KSR.pv.get("$ws_conid")) .. " si=" .. KSR.pv.get("$si") .. "\\n")
end

function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.is_WSX() then KSR.nathelper.fix_nated_register() end
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
`;

let proxy: ProxyHandle;
let wsPort = 0;
const open: WebSocket[] = [];

beforeAll(async () => {
  wsPort = await freePort();
  // Kamailio's default config for NATed registrations: the source goes with the contact (received).
  const cfg = join(tempDir(), 'kemi.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { nathelper: { received_avp: '$avp(RECEIVED)' }, registrar: { received_avp: '$avp(RECEIVED)' } } }));
  proxy = await startProxy({
    script: writeScript(SCRIPT),
    protos: ['udp'],
    modules: [...DEFAULT_MODULES, 'usrloc', 'registrar', 'nathelper', 'websocket', 'xhttp'],
    extraArgs: ['--config', cfg, '--listen', `ws:127.0.0.1:${wsPort}`],
  });
});
afterAll(async () => {
  for (const w of open) w.terminate();
  await proxy?.stop();
});

function httpGetText(path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const rq = httpGet({ host: '127.0.0.1', port: wsPort, path, headers: { 'User-Agent': 'edge-test/1' } }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    rq.on('error', rej);
    rq.setTimeout(5000, () => rq.destroy(new Error('timeout')));
  });
}

async function wsOpen(path: string): Promise<{ ws: WebSocket; msgs: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${wsPort}${path}`, ['sip']);
  open.push(ws);
  const msgs: string[] = [];
  ws.on('message', (d) => msgs.push(d.toString()));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return { ws, msgs };
}

describe('ksr_xhttp_event, ksr_websocket_event and tm on a closed WebSocket', () => {
  it('plain HTTP is answered by xhttp_reply with what the script read of the request', async () => {
    const r = await httpGetText('/status');
    expect(r.status).toBe(200);
    expect(r.body).toBe('xhttp:request GET /status ua=edge-test/1 si=127.0.0.1 proto=ws');
    expect((await httpGetText('/other')).status).toBe(403);
  });

  it('an upgrade on /sip is accepted by handle_handshake, elsewhere refused by the script', async () => {
    const c = await wsOpen('/sip');
    expect(c.ws.protocol).toBe('sip');
    const denied = new WebSocket(`ws://127.0.0.1:${wsPort}/elsewhere`, ['sip']);
    const status = await new Promise<number>((res) => denied.on('unexpected-response', (_q, r) => res(r.statusCode ?? 0)));
    expect(status).toBe(403);
    c.ws.close(1000);
    await proxy.waitForOutput(new RegExp(`ws event websocket:closed conid=\\d+ si=127\\.0\\.0\\.1`), 5000);
  });

  it('an INVITE relayed to a WebSocket user whose connection closes ends with 503 at once', async () => {
    const bob = await wsOpen('/sip');
    bob.ws.send([
      'REGISTER sip:kemi.test SIP/2.0',
      'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKreg1',
      'Max-Forwards: 70',
      'From: <sip:bob@kemi.test>;tag=r1',
      'To: <sip:bob@kemi.test>',
      'Call-ID: edge-reg-1',
      'CSeq: 1 REGISTER',
      'Contact: <sip:bob@df7jal23ls0d.invalid;transport=ws>',
      'Expires: 300',
      'Content-Length: 0',
      '', '',
    ].join('\r\n'));
    await waitFor(() => bob.msgs.some((m) => /^SIP\/2\.0 200/.test(m)), 5000, () => `no 200 to REGISTER:\n${proxy.output()}`);
    // Close bob's connection as soon as the INVITE reaches him, without answering.
    bob.ws.on('message', (d) => {
      if (d.toString().startsWith('INVITE ')) bob.ws.terminate();
    });
    const t0 = Date.now();
    const ex = await udpRequest(proxy.port, udpReq('INVITE', 'sip:bob@kemi.test'), 8000);
        expect(ex.final, `replies:\n${ex.replies.join('\n')}\n${proxy.output()}`).toBe(503);
    expect(ex.replies.find((r) => /^SIP\/2\.0 503/.test(r))).toMatch(/^SIP\/2\.0 503 Service Unavailable\r\n/);
    // Well before fr_inv_timer.
    expect(Date.now() - t0).toBeLessThan(4000);
  });
});
