/**
 * Operations end to end: /metrics after a SIPp run matches SIPp's totals; app_lua.reload through
 * the JSON-RPC control endpoint during a SIPp run loses no call; `kemi-proxy ctl` calls the RPC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePort, REPO, startProxy, startSipp, type ProxyHandle, type SippHandle } from './harness.js';
import { rpcCall } from '../../src/ops/ctl.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

async function callsThrough(proxy: ProxyHandle, calls: number, during?: () => Promise<void>): Promise<void> {
  const uasPort = await freePort();
  track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
  await new Promise((r) => setTimeout(r, 300));
  const uac = track(startSipp({ scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`, calls, rate: 100, limit: 100, service: 'bob' }));
  if (during) await during();
  const res = await uac.done;
  expect(res.failed, res.output).toBe(0);
  expect(res.successful).toBe(calls);
}

describe('operations', () => {
  it('counts what SIPp sent in /metrics', async () => {
    const mport = await freePort();
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua'), extraArgs: ['--metrics', `127.0.0.1:${mport}`] }));
    await callsThrough(proxy, 300);
    await new Promise((r) => setTimeout(r, 300));
    const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="INVITE"')).toBe(300);
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="ACK"')).toBe(300);
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="BYE"')).toBe(300);
    // 180, 200 for INVITE and 200 for BYE come back from the UAS.
    expect(metricValue(text, 'kemi_sip_replies_received_total', 'class="1xx"')).toBe(300);
    expect(metricValue(text, 'kemi_sip_replies_received_total', 'class="2xx"')).toBe(600);
    expect(metricValue(text, 'kemi_tm_transactions_created_total')).toBe(600);
    expect(metricValue(text, 'kemi_script_errors_total')).toBe(0);
    expect(metricValue(text, 'kemi_request_processing_seconds_count')).toBe(900);
    expect(metricValue(text, 'kemi_sip_parse_errors_total')).toBe(0);
    expect(text).toContain('kemi_process_cpu_seconds_total');
  }, 60_000);

  it('reloads through the control RPC during a SIPp run with 0 failed calls', async () => {
    const rport = await freePort();
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua'), extraArgs: ['--rpc', `127.0.0.1:${rport}`] }));
    await callsThrough(proxy, 400, async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const r1 = await rpcCall(`127.0.0.1:${rport}`, 'app_lua.reload', []);
      expect(r1.error).toBeUndefined();
      await new Promise((r) => setTimeout(r, 500));
      const r2 = await rpcCall(`127.0.0.1:${rport}`, 'app_lua.reload', []);
      expect(r2.error).toBeUndefined();
    });
    const up = await rpcCall(`127.0.0.1:${rport}`, 'core.uptime', []);
    expect((up.result as { uptime: number }).uptime).toBeGreaterThanOrEqual(0);
    const tm = await rpcCall(`127.0.0.1:${rport}`, 'tm.stats', []);
    expect((tm.result as { total: number }).total).toBe(800);
    const missing = await rpcCall(`127.0.0.1:${rport}`, 'no.such', []);
    expect(missing.error?.code).toBe(-32601);
    // The shell client.
    const out = await new Promise<string>((res, rej) =>
      execFile(process.execPath, [join(REPO, 'dist/src/cli.js'), 'ctl', 'core.version', '--rpc', `127.0.0.1:${rport}`], (e, stdout) => (e ? rej(e) : res(stdout))),
    );
    expect(out).toContain('kemi-proxy');
  }, 60_000);
});
