/**
 * Differential tests (issue 4): the same KEMI script and the same SIPp scenarios through
 * kemi-proxy and through real Kamailio 5.6 (cfgengine "lua"). For each SIPp endpoint we compare
 * what it received: status codes, methods, header names in order and the header values a proxy
 * changes (Via, Record-Route, Route, Max-Forwards, Contact, headers the script adds), after
 * masking what differs by run (ports, branches, tags, Call-IDs). Differences we keep on purpose
 * are listed in README.md ("Differences from Kamailio") and masked here by name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO, startProxy, startSipp, writeScript, type SippHandle } from './harness.js';
import { startKamailio } from './kamailio.js';
import { normalize, receivedMessages } from './sipp-trace.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  /** role -> normalized received messages, in the order they arrived. */
  seen: Record<string, string[]>;
  failed: number;
  /** The proxy's and the UAC's output, for failure messages. */
  output: string;
}

interface Case {
  name: string;
  /** Script text given the UAS ports (first is where the UAC's R-URI points). */
  script: (uas: number[]) => string;
  uas: string[];
  uac: string;
  /** Which UAS the UAC's R-URI names. */
  rUriUas?: number;
  transport?: 'u1' | 't1';
  /** Roles whose identical messages count once (retransmissions timed by each proxy's timers). */
  dedupe?: string[];
  /**
   * Roles that get provisional replies of several branches: two UASs ring at the same moment, so
   * which 180 comes first is their race, not the proxy's doing; a run of 1xx keeps its content,
   * compared in a fixed order. Everything else stays in arrival order.
   */
  forkedProvisionals?: string[];
}

const routeLua = (): string => readFileSync(join(REPO, 'routes/route.lua'), 'utf8');

function failoverScript(uas: number[]): string {
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
  KSR.setdsturi("sip:127.0.0.1:${uas[0]}")
  KSR.tm.t_on_failure("ksr_failure_second")
  KSR.tm.t_set_fr(1000, 1000)
  KSR.tm.t_relay()
end

function ksr_failure_second()
  if KSR.tm.t_is_canceled() > 0 then return 1 end
  KSR.hdr.append("X-Failed: " .. KSR.pv.get("$T_reply_code") .. "/" .. KSR.tm.t_branch_timeout() .. "\\r\\n")
  KSR.pv.sets("$du", "sip:127.0.0.1:${uas[1]}")
  KSR.tm.t_relay()
end
`;
}

function forkScript(uas: number[]): string {
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
  KSR.seturi("sip:bob@127.0.0.1:${uas[0]}")
  KSR.corex.append_branch_uri("sip:bob@127.0.0.1:${uas[1]}")
  KSR.tm.t_on_branch("ksr_branch_mark")
  KSR.tm.t_relay()
end

function ksr_branch_mark()
  KSR.hdr.append("X-Branch: " .. KSR.pv.get("$T_branch_idx") .. "\\r\\n")
end
`;
}

const CASES: Case[] = [
  { name: 'INVITE/200/ACK/BYE through routes/route.lua over UDP', script: routeLua, uas: ['uas.xml'], uac: 'uac.xml' },
  { name: 'INVITE/200/ACK/BYE through routes/route.lua over TCP', script: routeLua, uas: ['uas.xml'], uac: 'uac.xml', transport: 't1' },
  { name: 'CANCEL during ringing through routes/route.lua', script: routeLua, uas: ['uas-ring-cancel.xml'], uac: 'uac-cancel.xml' },
  { name: 'failure route after 486', script: failoverScript, uas: ['uas-486.xml', 'uas.xml'], uac: 'uac.xml', rUriUas: 1 },
  { name: 'failure route after 503', script: failoverScript, uas: ['uas-503.xml', 'uas.xml'], uac: 'uac.xml', rUriUas: 1 },
  { name: 'failure route after no answer (fr_inv_timer 408)', script: failoverScript, uas: ['uas-silent.xml', 'uas.xml'], uac: 'uac.xml', rUriUas: 1, dedupe: ['uas0'] },
  { name: 'parallel fork with a branch route: first 200 wins, the other branch is CANCELled', script: forkScript, uas: ['uas-ring-200.xml', 'uas-ring-cancel.xml'], uac: 'uac.xml', forkedProvisionals: ['uac'] },
];

/** Sorts each run of consecutive provisional replies (`SIP/2.0 1xx`), leaving the rest in place. */
function sortProvisionalRuns(msgs: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const m of msgs) {
    if (/^SIP\/2\.0 1\d\d /.test(m)) run.push(m);
    else {
      flush();
      out.push(m);
    }
  }
  flush();
  return out;
}

async function runCase(c: Case, target: 'kemi' | 'kamailio'): Promise<Run> {
  const transport = c.transport ?? 'u1';
  const uasPorts: number[] = [];
  const uasHandles: SippHandle[] = [];
  for (const sc of c.uas) {
    const port = await freePort();
    uasPorts.push(port);
    const h = startSipp({ scenario: sc, port, transport, timeoutS: 20, traceMsg: true, calls: 1 });
    running.push(h);
    uasHandles.push(h);
  }
  const script = writeScript(c.script(uasPorts));
  const proxyPort = await freePort();
  // One Kamailio worker, as kemi-proxy runs one process: with two, a 180 and the 200 right behind
  // it are read by different workers, and when the 200 wins, tm drops the late 180 (seen on 5.6.3):
  // arrival order would then differ by Kamailio's scheduling, not by what either proxy does.
  const proxy = target === 'kemi'
    ? await startProxy({ script, port: proxyPort, protos: ['udp', 'tcp'] })
    : await startKamailio(script, { port: proxyPort, children: 1 });
  running.push(proxy);
  await settle(300);
  const uacPort = await freePort();
  const uac = startSipp({
    scenario: c.uac, port: uacPort, transport, remote: `127.0.0.1:${uasPorts[c.rUriUas ?? 0]}`, rsa: `127.0.0.1:${proxyPort}`,
    calls: 1, rate: 1, limit: 1, timeoutS: 20, service: 'bob', traceMsg: true,
  });
  running.push(uac);
  const res = await uac.done;
  await settle(1500);
  for (const h of uasHandles) await h.stop();
  const ports = new Map<number, string>([[proxyPort, 'PROXY'], [uacPort, 'UAC'], ...uasPorts.map((p, i) => [p, `UAS${i}`] as [number, string])]);
  const seen: Record<string, string[]> = {};
  const roles: [string, string | undefined][] = [['uac', res.msgFile], ...uasHandles.map((h, i) => [`uas${i}`, join(h.dir, 'msg.log')] as [string, string])];
  const output = `${target} output:\n${proxy.output().slice(-4000)}\nuac:\n${res.output.slice(-2000)}`;
  for (const [role, file] of roles) {
    // Every endpoint of these scenarios receives something: a trace that is not there is a
    // failure of the run, not "nothing received".
    if (!file || !existsSync(file)) throw new Error(`${target}: no SIPp message trace for ${role} (${file ?? 'none asked for'})\n${output}`);
    let msgs = receivedMessages(readFileSync(file, 'utf8')).map((m) => normalize(m, ports));
    if (msgs.length === 0) throw new Error(`${target}: the SIPp trace of ${role} holds no received message\n${output}`);
    // Retransmissions count once where the case says so; the first arrival keeps its place.
    if (c.dedupe?.includes(role)) msgs = [...new Set(msgs)];
    if (c.forkedProvisionals?.includes(role)) msgs = sortProvisionalRuns(msgs);
    seen[role] = msgs;
  }
  await proxy.stop();
  return { seen, failed: res.failed, output };
}

describe('kemi-proxy and Kamailio 5.6 on the same script and scenarios', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const kemi = await runCase(c, 'kemi');
      const kam = await runCase(c, 'kamailio');
      expect(kemi.failed, kemi.output).toBe(0);
      expect(kam.failed, kam.output).toBe(0);
      expect(kemi.seen).toEqual(kam.seen);
    }, 90_000);
  }
});
