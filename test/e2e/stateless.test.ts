/**
 * Issue 3 end to end: SIPp uac -> kemi-proxy (routes/route.lua, stateless) -> SIPp uas over UDP and
 * TCP; 483 on Max-Forwards 0; a script error answers 500 and the proxy goes on; hot reload mid-run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO, startProxy, startSipp, tempDir, type ProxyHandle, type SippHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';

const STATELESS = join(REPO, 'routes/stateless.lua');
const ROUTE = readFileSync(STATELESS, 'utf8');
const withTag = (tag: string): string => ROUTE.replace('SCRIPT_TAG = "stateless.lua/1"', `SCRIPT_TAG = "${tag}"`);

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => {
  running.push(h);
  return h;
};

async function callsThrough(transport: 'u1' | 't1', calls: number): Promise<void> {
  const proxy = track(await startProxy({ script: STATELESS }));
  const uasPort = await freePort();
  const uas = track(startSipp({ scenario: 'uas.xml', port: uasPort, transport, timeoutS: 120 }));
  await new Promise((r) => setTimeout(r, 300));
  const uacPort = await freePort();
  const uac = startSipp({
    scenario: 'uac.xml', port: uacPort, transport, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
    calls, rate: 200, limit: 100, timeoutS: 90, service: 'bob',
  });
  track(uac);
  const res = await uac.done;
  expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
  expect(res.successful).toBe(calls);
  void uas;
}

describe('stateless proxy with routes/stateless.lua', () => {
  it('relays 1000 calls over UDP with 0 failed', async () => {
    await callsThrough('u1', 1000);
  }, 120_000);

  it('relays 1000 calls over TCP with 0 failed', async () => {
    await callsThrough('t1', 1000);
  }, 120_000);

  it('answers 483 to Max-Forwards 0, 200 to a keepalive OPTIONS and 403 to an open-relay attempt', async () => {
    const proxy = track(await startProxy({ script: STATELESS }));
    const mf0 = await udpRequest(proxy.port, request('OPTIONS', 'sip:bob@127.0.0.1:9', '', 0));
    expect(mf0.final).toBe(483);
    const ka = await udpRequest(proxy.port, request('OPTIONS', `sip:127.0.0.1:${proxy.port}`));
    expect(ka.final).toBe(200);
    const relay = await udpRequest(proxy.port, request('OPTIONS', 'sip:bob@example.org').replace(/alice@kemi\.test/, 'mallory@example.org'));
    expect(relay.final).toBe(403);
  });

  it('answers 500 to a request whose script run fails, logs file:line, and goes on', async () => {
    const dir = tempDir();
    const script = join(dir, 'boom.lua');
    writeFileSync(script, [
      'function ksr_request_route()',
      '  if KSR.pv.get("$rU") == "boom" then',
      '    local t = nil',
      '    return t.field',
      '  end',
      '  KSR.sl.sl_send_reply(202, "Fine")',
      'end',
      '',
    ].join('\n'));
    const proxy = track(await startProxy({ script }));
    const bad = await udpRequest(proxy.port, request('OPTIONS', 'sip:boom@127.0.0.1'));
    expect(bad.final).toBe(500);
    await proxy.waitForOutput(/boom\.lua:4/);
    expect(proxy.output()).toMatch(/Call-ID|callId/i);
    const good = await udpRequest(proxy.port, request('OPTIONS', 'sip:fine@127.0.0.1'));
    expect(good.final).toBe(202);
  });

  it('hot-reloads during a SIPp run with 0 failed calls; a broken script changes nothing', async () => {
    const dir = tempDir();
    const script = join(dir, 'route.lua');
    writeFileSync(script, withTag('v1'));
    const proxy = track(await startProxy({ script, watch: true }));
    const uasPort = await freePort();
    const uas = track(startSipp({ scenario: 'uas.xml', port: uasPort, transport: 'u1', timeoutS: 120, traceMsg: true }));
    await new Promise((r) => setTimeout(r, 300));
    const uac = track(startSipp({
      scenario: 'uac.xml', port: await freePort(), transport: 'u1', remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
      calls: 900, rate: 150, limit: 100, timeoutS: 90, service: 'bob',
    }));
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(script, withTag('v2'));
    await proxy.waitForOutput(/reload(ed)? .*ok|script reloaded/i, 5000);
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(script, withTag('v3') + '\nfunction broken( \n');
    await proxy.waitForOutput(/reload failed|failed to reload|load error/i, 5000);
    const res = await uac.done;
    expect(res.failed, res.output).toBe(0);
    expect(res.successful).toBe(900);
    await uas.stop();
    const trace = readFileSync(join(uas.dir, 'msg.log'), 'utf8');
    const v1 = trace.split('X-Kemi-Script: v1').length - 1;
    const v2 = trace.split('X-Kemi-Script: v2').length - 1;
    const v3 = trace.split('X-Kemi-Script: v3').length - 1;
    expect(v1).toBeGreaterThan(0);
    expect(v2).toBeGreaterThan(0);
    expect(v3).toBe(0);
  }, 120_000);
});
