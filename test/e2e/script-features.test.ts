/**
 * Script features on a running kemi-proxy: KSR.app_lua (runstring shares the routing globals,
 * dostring does not leak into them, run_p1 calls a script function), KSR.kx getters,
 * ksr_onsend_route dropping an outgoing request, and reload on SIGHUP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { startProxy, writeScript, type ProxyHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';

const script = (sinkPort: number, version: string): string => `
count = 0
function ksr_request_route()
  count = count + 1
  KSR.app_lua.runstring("count = count + 100")
  KSR.app_lua.dostring("leak = 1")
  if KSR.kx.get_ruser() == "info" then
    KSR.hdr.append_to_reply("X-Count: " .. count .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Leak: " .. tostring(leak) .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Kx: " .. KSR.kx.get_method() .. "/" .. KSR.kx.gete_fuser() .. "/" .. KSR.kx.getw_duri() .. "/" .. tostring(KSR.kx.get_duri()) .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Version: ${version}\\r\\n")
    KSR.app_lua.run_p1("mark", "m1")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  KSR.forward_uri("sip:127.0.0.1:${sinkPort}")
  KSR.sl.sl_send_reply(202, "Forwarded")
end
function mark(v) KSR.hdr.append_to_reply("X-Mark: " .. v .. "\\r\\n") end
function ksr_onsend_route()
  if KSR.kx.get_ruser() == "blocked" then KSR.x.drop() end
end
`;

let proxy: ProxyHandle;
let sink: Socket;
let path: string;
const arrived: string[] = [];

beforeAll(async () => {
  sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  sink.on('message', (m) => arrived.push(m.toString('latin1')));
  path = writeScript(script(sink.address().port, 'one'));
  proxy = await startProxy({ script: path, protos: ['udp'] });
});
afterAll(async () => {
  await proxy?.stop();
  sink?.close();
});

const header = (reply: string, name: string): string | undefined => new RegExp(`\\r\\n${name}: ([^\\r]*)`).exec(reply)?.[1];

describe('script features end to end', () => {
  it('app_lua runstring/dostring/run_p1 and kx getters', async () => {
    const a = await udpRequest(proxy.port, request('OPTIONS', `sip:info@127.0.0.1:${proxy.port}`));
    const r = a.replies.find((x) => x.startsWith('SIP/2.0 200'))!;
    expect(r).toBeDefined();
    expect(header(r, 'X-Count')).toBe('101');
    expect(header(r, 'X-Leak')).toBe('nil');
    expect(header(r, 'X-Kx')).toBe('OPTIONS/alice/<null>/nil');
    expect(header(r, 'X-Mark')).toBe('m1');
    const b = await udpRequest(proxy.port, request('OPTIONS', `sip:info@127.0.0.1:${proxy.port}`));
    expect(header(b.replies.find((x) => x.startsWith('SIP/2.0 200'))!, 'X-Count')).toBe('202');
  });

  it('ksr_onsend_route sees outgoing requests and can drop them', async () => {
    arrived.length = 0;
    await udpRequest(proxy.port, request('OPTIONS', `sip:passes@127.0.0.1:${proxy.port}`));
    await udpRequest(proxy.port, request('OPTIONS', `sip:blocked@127.0.0.1:${proxy.port}`));
    await new Promise((r) => setTimeout(r, 200));
    expect(arrived.map((m) => m.split(' ')[1])).toEqual([`sip:passes@127.0.0.1:${proxy.port}`]);
  });

  it('reloads the script on SIGHUP', async () => {
    writeFileSync(path, script(sink.address().port, 'two'));
    process.kill(proxy.pid, 'SIGHUP');
    await proxy.waitForOutput(/script reloaded ok/);
    const a = await udpRequest(proxy.port, request('OPTIONS', `sip:info@127.0.0.1:${proxy.port}`));
    expect(header(a.replies.find((x) => x.startsWith('SIP/2.0 200'))!, 'X-Version')).toBe('two');
  });
});
