/**
 * Issue 4 end to end, real SIPp against a real kemi-proxy: the record-routing stateful
 * routes/route.lua over UDP and TCP, CANCEL during ringing, failure-route serial forking (486, 503,
 * no answer), parallel forking, and UDP loss recovered by retransmissions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { freePort, REPO, startProxy, startSipp, tempDir, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { LossyUdpLink } from './lossy-link.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
function track<T extends ProxyHandle | SippHandle | LossyUdpLink>(h: T): T {
  running.push(h);
  return h;
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function uas(scenario: string, transport: 'u1' | 't1' = 'u1', timeoutS = 60): Promise<{ port: number; h: SippHandle }> {
  const port = await freePort();
  const h = track(startSipp({ scenario, port, transport, timeoutS }));
  return { port, h };
}

function uac(scenario: string, proxyPort: number, remotePort: number, calls: number, opts: { transport?: 'u1' | 't1'; rate?: number; timeoutS?: number } = {}): Promise<SippHandle> {
  return freePort().then((port) =>
    track(startSipp({
      scenario, port, transport: opts.transport ?? 'u1', remote: `127.0.0.1:${remotePort}`, rsa: `127.0.0.1:${proxyPort}`,
      calls, rate: opts.rate ?? 50, limit: 100, timeoutS: opts.timeoutS ?? 60, service: 'bob',
    })),
  );
}

/** A stateful script: record-route, relay to FIRST, serial fork to SECOND from the failure route. */
function failoverScript(first: number, second: number, frMs = 1000): string {
  return `
function ksr_request_route()
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end
  if not KSR.is_ACK() then
    if KSR.tm.t_check_trans() == 0 then return 1 end
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 or KSR.is_ACK() then KSR.tm.t_relay() end
    return 1
  end
  KSR.rr.record_route()
  KSR.setdsturi("sip:127.0.0.1:${first}")
  KSR.tm.t_on_failure("ksr_failure_second")
  KSR.tm.t_set_fr(${frMs}, ${frMs})
  KSR.tm.t_relay()
end

function ksr_failure_second()
  if KSR.tm.t_is_canceled() > 0 then return 1 end
  KSR.info("failure route: " .. KSR.pv.get("$T_reply_code") .. " timeout=" .. KSR.tm.t_branch_timeout() .. "\\n")
  KSR.pv.sets("$du", "sip:127.0.0.1:${second}")
  KSR.tm.t_relay()
end
`;
}

describe('stateful proxy with routes/route.lua', () => {
  for (const transport of ['u1', 't1'] as const) {
    it(`completes 1000 INVITE/200/ACK/BYE calls over ${transport === 'u1' ? 'UDP' : 'TCP'} with 0 failed`, async () => {
      const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua') }));
      const b = await uas('uas.xml', transport, 120);
      await settle(300);
      const a = await uac('uac.xml', proxy.port, b.port, 1000, { transport, rate: 200, timeoutS: 90 });
      const res = await a.done;
      expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
      expect(res.successful).toBe(1000);
    }, 120_000);
  }

  it('CANCEL during ringing: the UAS gets the CANCEL, 487 flows back, the 487 is ACKed hop by hop', async () => {
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua') }));
    const b = await uas('uas-ring-cancel.xml');
    await settle(300);
    const a = await uac('uac-cancel.xml', proxy.port, b.port, 20, { rate: 20 });
    const res = await a.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(20);
    await settle(600);
    await b.h.stop();
    const ub = await b.h.done;
    // Each UAS call saw the CANCEL and the ACK for its 487.
    expect(ub.successful, ub.output).toBe(20);
  }, 60_000);

  for (const first of ['uas-486.xml', 'uas-503.xml', 'uas-silent.xml']) {
    it(`failure route relays to a second destination after ${first.replace(/^uas-|\.xml$/g, '')}`, async () => {
      const a1 = await uas(first);
      const a2 = await uas('uas.xml');
      const script = writeScript(failoverScript(a1.port, a2.port, 1000));
      const proxy = track(await startProxy({ script }));
      await settle(300);
      const calls = first === 'uas-silent.xml' ? 5 : 20;
      const a = await uac('uac.xml', proxy.port, a2.port, calls, { rate: 10 });
      const res = await a.done;
      expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
      expect(res.successful).toBe(calls);
      const code = first === 'uas-486.xml' ? 486 : first === 'uas-503.xml' ? 503 : 408;
      expect(proxy.output()).toContain(`failure route: ${code} timeout=${code === 408 ? 1 : -1}`);
    }, 60_000);
  }

  it('parallel fork to two UASs: the first 200 wins, the other branch is CANCELled', async () => {
    const winner = await uas('uas.xml');
    const loser = await uas('uas-ring-cancel.xml');
    const script = writeScript(`
function ksr_request_route()
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end
  if not KSR.is_ACK() then
    if KSR.tm.t_check_trans() == 0 then return 1 end
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 or KSR.is_ACK() then KSR.tm.t_relay() end
    return 1
  end
  KSR.rr.record_route()
  KSR.seturi("sip:bob@127.0.0.1:${winner.port}")
  KSR.corex.append_branch_uri("sip:bob@127.0.0.1:${loser.port}")
  KSR.tm.t_relay()
end
`);
    const proxy = track(await startProxy({ script }));
    await settle(300);
    const a = await uac('uac.xml', proxy.port, winner.port, 10, { rate: 5 });
    const res = await a.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(10);
    await settle(800);
    await loser.h.stop();
    const l = await loser.h.done;
    expect(l.successful, l.output).toBe(10);
  }, 60_000);

  it('UDP loss: a lost INVITE and a lost 200 are recovered by retransmissions', async () => {
    const b = await uas('uas.xml');
    // The proxy reaches the UAS through a link that drops the first INVITE and the first 200 of each call.
    const link = track(await LossyUdpLink.start(b.port, { dropFirst: [/^INVITE /, /^SIP\/2\.0 200 OK[\s\S]*CSeq: 1 INVITE/] }));
    const proxy = track(await startProxy({ script: join(REPO, 'routes/route.lua') }));
    await settle(300);
    const a = await uac('uac.xml', proxy.port, link.port, 10, { rate: 5 });
    const res = await a.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(10);
    expect(link.dropped).toBe(20);
  }, 60_000);
});

void tempDir;
