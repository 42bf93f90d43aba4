/**
 * Issue 17, defect 1: a reload to a script that loads but defines no ksr_request_route (a file
 * holding `x = 1`) is refused like one that does not compile, whichever way the reload comes
 * (file change, SIGHUP, RPC app_lua.reload): the running script stays, each refusal is logged and
 * counted in kemi_script_reload_failures_total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { freePort, startProxy, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';
import { rpcCall } from '../../src/ops/ctl.js';

const GOOD = `
function ksr_request_route()
  KSR.hdr.append_to_reply("X-Version: one\\r\\n")
  KSR.sl.sl_send_reply(200, "OK")
end
`;
const NO_ROUTE = 'x = 1\n';

let proxy: ProxyHandle;
let path: string;
let rport: number;
let mport: number;

beforeAll(async () => {
  path = writeScript(GOOD);
  rport = await freePort();
  mport = await freePort();
  proxy = await startProxy({ script: path, protos: ['udp'], watch: true, extraArgs: ['--rpc', `127.0.0.1:${rport}`, '--metrics', `127.0.0.1:${mport}`] });
});
afterAll(async () => {
  await proxy?.stop();
});

const failures = (): number => proxy.output().split('\n').filter((l) => /script reload failed/.test(l)).length;

async function stillRunsOne(): Promise<void> {
  const a = await udpRequest(proxy.port, request('OPTIONS', `sip:info@127.0.0.1:${proxy.port}`));
  expect(a.final).toBe(200);
  expect(a.replies.find((x) => x.startsWith('SIP/2.0 200'))).toMatch(/\r\nX-Version: one\r\n/);
}

describe('a reload to a script without ksr_request_route', () => {
  it('is refused when the file changes', async () => {
    writeFileSync(path, NO_ROUTE);
    await proxy.waitForOutput(/script reload failed, keeping the running script: .*no function ksr_request_route/);
    expect(proxy.output()).not.toMatch(/script reloaded ok/);
    await stillRunsOne();
  });

  it('is refused on SIGHUP', async () => {
    const before = failures();
    process.kill(proxy.pid, 'SIGHUP');
    await waitFor(() => failures() > before, 10_000, () => `no refusal logged after SIGHUP:\n${proxy.output()}`);
    expect(proxy.output()).not.toMatch(/script reloaded ok/);
    await stillRunsOne();
  });

  it('is refused through RPC app_lua.reload, and every refusal is counted', async () => {
    const r = await rpcCall(`127.0.0.1:${rport}`, 'app_lua.reload', []);
    expect(r.error?.message).toMatch(/Reload Failed: .*no function ksr_request_route/);
    await stillRunsOne();
    const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
    expect(Number(/^kemi_script_reload_failures_total (\d+)/m.exec(text)?.[1])).toBe(failures());
    expect(failures()).toBeGreaterThanOrEqual(3);
    // A good script is still taken afterwards.
    writeFileSync(path, GOOD.replace('one', 'two'));
    await proxy.waitForOutput(/script reloaded ok/);
  });
});
