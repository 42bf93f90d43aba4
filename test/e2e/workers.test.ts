/**
 * `--workers 2` end to end: 2000 calls through the stateful routes/route.lua with 0 failed, the
 * CANCEL scenario (the CANCEL must reach the worker that holds its INVITE), /metrics summed over
 * the workers, and app_lua.reload through the RPC reaching every worker during a run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ownerOf } from '../../src/ops/cluster.js';
import { v8PoolSize } from '../../src/ops/node-flags.js';
import { freePort, REPO, startProxy, startSipp, type ProxyHandle, type SippHandle } from './harness.js';
import { rpcCall } from '../../src/ops/ctl.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);

/**
 * Sends `request` for one Call-ID owned by each of two workers (whichever worker reads our socket
 * hands the other's over) from one UDP socket, up to three times each, and gives the start line
 * of the first reply per Call-ID ('no reply' without one).
 */
async function askEachWorker(port: number, prefix: string, request: (callId: string, via: string) => string | Buffer): Promise<Record<string, string>> {
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const me = udp.address().port;
  const got = new Map<string, string>();
  udp.on('message', (b) => {
    const m = b.toString();
    const id = /\r\nCall-ID: *([^\r]+)/i.exec(m)?.[1] ?? '';
    if (!got.has(id)) got.set(id, m.split('\r\n')[0]!);
  });
  const ids = [0, 1].map((w) => {
    for (let i = 0; ; i++) if (ownerOf(`${prefix}-${i}@kemi.test`, 2) === w) return `${prefix}-${i}@kemi.test`;
  });
  try {
    for (let attempt = 0; attempt < 3 && got.size < ids.length; attempt++) {
      for (const id of ids) if (!got.has(id)) udp.send(request(id, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-${id}-${attempt}`), port, '127.0.0.1');
      for (let i = 0; i < 20 && got.size < ids.length; i++) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    udp.close();
  }
  return Object.fromEntries(ids.map((id) => [id, got.get(id) ?? 'no reply']));
}

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
    const procs = psx.result as { PID: number; DSC: string }[];
    expect(procs.length).toBe(3);
    // Each worker runs with its share of the cores as V8's thread pool (src/ops/node-flags.ts).
    for (const p of procs.filter((q) => q.DSC.includes('worker'))) {
      const argv = readFileSync(`/proc/${p.PID}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain(`--v8-pool-size=${v8PoolSize(availableParallelism(), 2)}`);
    }

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
    // Each source is read by one worker, which hands the other's calls over: counted on both sides.
    const handedOver = metricValue(text, 'kemi_workers_handover_messages_total', 'direction="sent"');
    expect(handedOver).toBeGreaterThan(0);
    expect(metricValue(text, 'kemi_workers_handover_messages_total', 'direction="received"')).toBe(handedOver);
    const datagrams = metricValue(text, 'kemi_workers_handover_datagrams_total', 'direction="sent"');
    expect(datagrams).toBeGreaterThan(0);
    expect(datagrams).toBeLessThanOrEqual(handedOver);
    const stats = await rpcCall(`127.0.0.1:${rport}`, 'tm.stats', []);
    expect((stats.result as { total: number }).total).toBe(2050 + 50 + 2000);
  }, 150_000);

  it('SIGTERM stops the primary and both workers with exit code 0 (no IPC error from a worker already gone)', async () => {
    // The primary told the surviving worker about the first one's exit over a channel already
    // closed, and died of the unhandled EPIPE / ERR_IPC_CHANNEL_CLOSED (3 of 4 stops, by hand).
    for (let round = 0; round < 3; round++) {
      const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'], extraArgs: ['--workers', '2'] }));
      await proxy.stop();
      expect(proxy.output()).not.toMatch(/Unhandled 'error'|EPIPE|ERR_IPC_CHANNEL_CLOSED/);
      expect(proxy.exit()).toEqual({ code: 0, signal: null });
    }
  });

  it('a datagram too big for the peer channel reaches the worker owning its Call-ID over IPC', async () => {
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua'), extraArgs: ['--workers', '2'] }));
    // 65480 bytes: with the hand-over's own header the datagram would pass UDP's 65507.
    const request = (id: string, via: string): Buffer => {
      const head = (len: number): string => ['OPTIONS sip:kemi.test SIP/2.0', via, 'Max-Forwards: 70', 'From: <sip:u@kemi.test>;tag=1', 'To: <sip:kemi.test>',
        `Call-ID: ${id}`, 'CSeq: 1 OPTIONS', 'Content-Type: text/plain', `Content-Length: ${len}`, '', ''].join('\r\n');
      const len = 65480 - head(10000).length;
      return Buffer.concat([Buffer.from(head(len)), Buffer.alloc(len, 'x')]);
    };
    expect(request('x', 'Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-x').length).toBe(65480);
    const got = await askEachWorker(proxy.port, 'big', request);
    expect(got, proxy.output().slice(-2000)).toEqual(Object.fromEntries(Object.keys(got).map((id) => [id, 'SIP/2.0 200 Keepalive'])));
  });

  it('a malformed request is answered 400 whichever worker owns its Call-ID (the owner validates what it is handed)', async () => {
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua'), extraArgs: ['--workers', '2'] }));
    // The CSeq method does not match the request's: 400 (RFC 3261 8.2 / 16.3).
    const got = await askEachWorker(proxy.port, 'bad', (id, via) => ['OPTIONS sip:kemi.test SIP/2.0', via, 'Max-Forwards: 70', 'From: <sip:u@kemi.test>;tag=1',
      'To: <sip:kemi.test>', `Call-ID: ${id}`, 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'));
    expect(got, proxy.output().slice(-2000)).toEqual(Object.fromEntries(Object.keys(got).map((id) => [id, expect.stringMatching(/^SIP\/2.0 400 /)])));
  });
});
