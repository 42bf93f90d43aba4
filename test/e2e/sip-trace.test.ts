/**
 * The operator's SIP message trace: off by default, switched on at run time through the control
 * RPC (`kemi-proxy ctl core.sip_trace on FILE`), every message in and out written with time,
 * transport and addresses, and off again; `--sip-trace log` starts with it on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, REPO, startProxy, tempDir, type ProxyHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';

let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

describe('SIP message trace', () => {
  it('is switched on and off at run time and writes every message in and out to a file', async () => {
    const rport = await freePort();
    proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'], extraArgs: ['--rpc', `127.0.0.1:${rport}`] });
    const file = join(tempDir('kemi-trace-'), 'sip.trace');
    expect((await udpRequest(proxy.port, request('OPTIONS', 'sip:kemi.test'))).final).toBe(200);
    expect(existsSync(file)).toBe(false);
    const on = await rpcCall(`127.0.0.1:${rport}`, 'core.sip_trace', ['on', file]);
    expect(on.result).toEqual({ enabled: true, to: file });
    expect((await udpRequest(proxy.port, request('OPTIONS', 'sip:kemi.test'))).final).toBe(200);
    expect((await rpcCall(`127.0.0.1:${rport}`, 'core.sip_trace', ['off'])).result).toEqual({ enabled: false, to: 'off' });
    expect((await udpRequest(proxy.port, request('OPTIONS', 'sip:kemi.test', 'X-After: off\r\n'))).final).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const text = readFileSync(file, 'latin1');
    expect(text).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z IN udp 127\\.0\\.0\\.1:${proxy.port} <- 127\\.0\\.0\\.1:\\d+ \\d+ bytes\\nOPTIONS sip:kemi\\.test SIP/2\\.0`, 'm'));
    expect(text).toMatch(new RegExp(`Z OUT udp -> 127\\.0\\.0\\.1:\\d+ \\d+ bytes\\nSIP/2\\.0 200 Keepalive`, 'm'));
    expect(text).not.toContain('X-After');
    expect(text.match(/ IN udp /g)).toHaveLength(1);
  });

  it('--sip-trace log starts with the trace on, to the log', async () => {
    proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'], extraArgs: ['--sip-trace', 'log'] });
    expect((await udpRequest(proxy.port, request('OPTIONS', 'sip:kemi.test', 'X-Traced: yes\r\n'))).final).toBe(200);
    await proxy.waitForOutput(/sip trace: .* OUT udp -> 127\.0\.0\.1:\d+ \d+ bytes\nSIP\/2\.0 200 Keepalive/);
    expect(proxy.output()).toMatch(/sip trace: .* IN udp .*\nOPTIONS sip:kemi\.test SIP\/2\.0[\s\S]*X-Traced: yes/);
  });
});
