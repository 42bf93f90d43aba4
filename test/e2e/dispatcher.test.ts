/**
 * Dispatcher end to end on a real kemi-proxy: a set of two SIPp UAS destinations, one of them down
 * (never started). Round-robin (ds_select_dst(1, 4)) with failover in the failure route
 * (ds_next_dst + t_relay): every call completes. OPTIONS probing (ds_probing_mode 1) marks the
 * dead destination inactive on its own, and active again once something answers there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, startProxy, startSipp, tempDir, writeScript, type ProxyHandle, type SippHandle } from './harness.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SCRIPT = `
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
  if KSR.dispatcher.ds_select_dst(1, 4) < 0 then
    KSR.sl.sl_send_reply(503, "No destination")
    return 1
  end
  KSR.tm.t_on_failure("ksr_ds_failure")
  KSR.tm.t_set_fr(1000, 500)
  KSR.tm.t_relay()
end

function ksr_ds_failure()
  if KSR.tm.t_is_canceled() > 0 then return 1 end
  if KSR.tm.t_check_status("408|5[0-9][0-9]") > 0 then
    if KSR.dispatcher.ds_next_dst() > 0 then
      KSR.info("ds failover to " .. KSR.pv.get("$du"))
      KSR.tm.t_on_failure("ksr_ds_failure")
      KSR.tm.t_relay()
    end
  end
end
`;

type Listing = { RECORDS: { SET: { ID: number; TARGETS: { DEST: { URI: string; FLAGS: string } }[] } }[] };
const flagsOf = (l: Listing, uri: string): string | undefined => l.RECORDS.flatMap((r) => r.SET.TARGETS).find((t) => t.DEST.URI === uri)?.DEST.FLAGS;

describe('dispatcher', () => {
  it('fails over from a dead destination; probing marks it inactive, then active when it answers', async () => {
    const deadPort = await freePort();
    const livePort = await freePort();
    // -aa: the live UAS answers the OPTIONS probes with 200.
    track(startSipp({ scenario: 'uas.xml', port: livePort, timeoutS: 60, extra: ['-aa'] }));
    const dir = tempDir('kemi-ds-');
    const list = join(dir, 'dispatcher.list');
    writeFileSync(list, `# setid destination flags priority attrs\n1 sip:127.0.0.1:${deadPort} 0 0\n1 sip:127.0.0.1:${livePort} 0 0\n`);
    const cfg = join(dir, 'kemi.json');
    writeFileSync(cfg, JSON.stringify({
      modparams: {
        dispatcher: { list_file: list, flags: 2, ds_ping_interval: 1, ds_probing_mode: 1, ds_probing_threshold: 1, ds_ping_fr_timer: 16 },
      },
    }));
    const rpc = `127.0.0.1:${await freePort()}`;
    const proxy = track(await startProxy({ script: writeScript(SCRIPT), modules: [...DEFAULT_MODULES, 'dispatcher'], extraArgs: ['-c', cfg, '--rpc', rpc] }));
    const dead = `sip:127.0.0.1:${deadPort}`;
    const live = `sip:127.0.0.1:${livePort}`;
    const list0 = (await rpcCall(rpc, 'dispatcher.list', [])).result as Listing;
    expect([flagsOf(list0, dead), flagsOf(list0, live)]).toEqual(['AX', 'AX']);

    // Calls start at once: the first ones sent to the dead destination fail over in the failure route.
    const uac = track(startSipp({ scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${livePort}`, rsa: `127.0.0.1:${proxy.port}`, calls: 10, rate: 5, limit: 10, service: 'bob', timeoutS: 40 }));
    const res = await uac.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(10);
    expect(proxy.output()).toContain(`ds failover to ${live}`);

    // Probing alone (the script marks nothing) took the dead one out: inactive + probing.
    const l1 = (await rpcCall(rpc, 'dispatcher.list', [])).result as Listing;
    expect(flagsOf(l1, dead)).toBe('IP');
    expect(flagsOf(l1, live)).toBe('AP');

    // The dead destination comes up and answers the probes.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(deadPort, '127.0.0.1', () => r()));
    let probes = 0;
    sock.on('message', (m, from) => {
      const t = m.toString('latin1');
      if (!t.startsWith('OPTIONS ')) return;
      probes++;
      const keep = t.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h)).join('\r\n');
      sock.send(Buffer.from(`SIP/2.0 200 OK\r\n${keep}\r\nContent-Length: 0\r\n\r\n`), from.port, from.address);
    });
    let back = '';
    for (let i = 0; i < 25 && back !== 'AP'; i++) {
      await sleep(200);
      back = flagsOf((await rpcCall(rpc, 'dispatcher.list', [])).result as Listing, dead) ?? '';
    }
    sock.close();
    expect(probes).toBeGreaterThan(0);
    expect(back).toBe('AP');
  }, 90_000);
});
