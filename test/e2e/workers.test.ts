/**
 * `--workers 2` end to end: 2000 calls through the stateful routes/route.lua with 0 failed, the
 * CANCEL scenario (the CANCEL must reach the worker that holds its INVITE), /metrics summed over
 * the workers, and app_lua.reload through the RPC reaching every worker during a run.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

/**
 * What a SIPp client sent of a method, retransmissions included, from its last screen: under load
 * SIPp retransmits (a BYE whose 200 took over 500 ms), and the proxy counts every arrival.
 */
function sippSent(output: string, method: string): number {
  const rows = [...output.matchAll(new RegExp(`^\\s*${method} -+>\\s+(\\d+)\\s+(\\d+)`, 'gm'))];
  const last = rows.at(-1);
  if (!last) throw new Error(`no ${method} row in the SIPp screen:\n${output}`);
  return Number(last[1]) + Number(last[2]);
}

describe('--workers 2', () => {
  it('2000 stateful calls and 50 CANCELled calls with 0 failed; metrics summed; reload reaches every worker', async () => {
    const mport = await freePort();
    const rport = await freePort();
    const proxy = track(await startProxy({
      script: join(REPO, 'routes/route.lua'),
      extraArgs: ['--workers', '2', '--metrics', `127.0.0.1:${mport}`, '--rpc', `127.0.0.1:${rport}`],
    }));
    const psx = await rpcCall(`127.0.0.1:${rport}`, 'core.psx', []);
    expect((psx.result as unknown[]).length).toBe(3);

    const uasPort = await freePort();
    // The reload stalls a worker for a moment; the proxy then retransmits INVITEs, which uas.xml cannot take.
    track(startSipp({ scenario: 'uas-absorb.xml', port: uasPort, timeoutS: 120 }));
    await new Promise((r) => setTimeout(r, 300));
    const uac = track(startSipp({
      scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
      calls: 2000, rate: 200, limit: 200, service: 'bob', timeoutS: 90,
    }));
    await new Promise((r) => setTimeout(r, 2000));
    const reload = await rpcCall(`127.0.0.1:${rport}`, 'app_lua.reload', []);
    expect(reload.error).toBeUndefined();
    const res = await uac.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(2000);
    expect(proxy.output().match(/script reloaded ok/g)?.length).toBe(2);

    const ringPort = await freePort();
    const ring = track(startSipp({ scenario: 'uas-ring-cancel.xml', port: ringPort, timeoutS: 60 }));
    await new Promise((r) => setTimeout(r, 300));
    const cancel = track(startSipp({
      scenario: 'uac-cancel.xml', port: await freePort(), remote: `127.0.0.1:${ringPort}`, rsa: `127.0.0.1:${proxy.port}`,
      calls: 50, rate: 25, limit: 50, service: 'bob', timeoutS: 60,
    }));
    const cr = await cancel.done;
    expect(cr.failed, cr.output + proxy.output().slice(-3000)).toBe(0);
    expect(cr.successful).toBe(50);
    await new Promise((r) => setTimeout(r, 600));
    await ring.stop();
    const rr = await ring.done;
    expect(rr.successful, rr.output).toBe(50);

    const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
    // Every arrival, retransmissions included, is counted by exactly one worker.
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="INVITE"')).toBe(sippSent(res.output, 'INVITE') + sippSent(cr.output, 'INVITE'));
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="CANCEL"')).toBe(sippSent(cr.output, 'CANCEL'));
    expect(metricValue(text, 'kemi_sip_requests_received_total', 'method="BYE"')).toBe(sippSent(res.output, 'BYE'));
    expect(metricValue(text, 'kemi_script_errors_total')).toBe(0);
    const stats = await rpcCall(`127.0.0.1:${rport}`, 'tm.stats', []);
    expect((stats.result as { total: number }).total).toBe(2050 + 50 + 2000);
  }, 150_000);
});
