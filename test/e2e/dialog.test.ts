/**
 * KSR.dialog end to end with SIPp: calls through a script using dlg_manage, profiles and dialog
 * vars, profile sizes read by the script while the calls are up and after, $dlg values in the
 * event callback (dialog:start, dialog:end, dialog:failed); a dialog timeout that sends BYE to both
 * sides; two proxies sharing one redis-server, where get_profile_size counts the calls of both.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, startProxy, startSipp, tempDir, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { startRedis, type RedisHandle } from './redis-server.js';
import { request, udpRequest } from './udp-client.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SCRIPT = (opts: { timeout?: number } = {}): string => `
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.dialog.get_profile_size_static("calls", "$var(n)")
    KSR.dialog.get_profile_size("caller", "alice", "$var(a)")
    KSR.sl.sl_send_reply(200, "calls " .. KSR.pv.get("$var(n)") .. " alice " .. KSR.pv.get("$var(a)"))
    return 1
  end
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      KSR.xlog.xinfo("INDLG $rm state=$dlg(state) dir=$dlg_ctx(dir) known=" .. KSR.dialog.is_known_dlg() .. " caller=$dlg_var(caller)\\n")
      KSR.tm.t_relay()
    end
    return 1
  end
  if KSR.is_INVITE() then
    KSR.dialog.set_dlg_profile_static("calls")
    ${opts.timeout ? 'KSR.pv.seti("$dlg_ctx(timeout_bye)", 1)' : ''}
    KSR.dialog.dlg_manage()
    KSR.dialog.set_dlg_profile("caller", KSR.pv.get("$fU"))
    KSR.pv.sets("$dlg_var(caller)", KSR.pv.get("$fU"))
    ${opts.timeout ? `KSR.dialog.dlg_set_timeout(${opts.timeout})` : ''}
    KSR.xlog.xinfo("INITIAL state=$dlg(state) callid=$dlg(callid) ftag=$dlg(from_tag)\\n")
  end
  KSR.rr.record_route()
  KSR.tm.t_relay()
end

function ksr_dialog_event(ev)
  KSR.dialog.get_profile_size_static("calls", "$var(n)")
  KSR.xlog.xinfo("EVENT " .. ev .. " callid=$dlg(callid) state=$dlg(state) start=$dlg(start_ts) totag=$dlg(to_tag) caller=$dlg_var(caller) calls=$var(n)\\n")
end
`;

async function proxy(script: string, extraArgs: string[] = []): Promise<ProxyHandle> {
  const dir = tempDir('kemi-dlg-');
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    modparams: { dialog: { profiles_no_value: 'calls', profiles_with_value: 'caller', event_callback: 'ksr_dialog_event' } },
  }));
  return track(await startProxy({
    script: writeScript(script),
    modules: [...DEFAULT_MODULES, 'dialog'],
    extraArgs: ['--config', cfg, ...extraArgs],
  }));
}

async function uas(scenario = 'uas.xml'): Promise<number> {
  const port = await freePort();
  track(startSipp({ scenario, port, timeoutS: 30 }));
  return port;
}

async function calls(scenario: string, proxyPort: number, uasPort: number, n: number, holdMs = 0): Promise<SippHandle> {
  return track(startSipp({
    scenario, port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxyPort}`, service: 'bob',
    calls: n, rate: 50, limit: n, timeoutS: 20, extra: holdMs ? ['-d', String(holdMs)] : [],
  }));
}

/** The script's answer to OPTIONS: "calls <n> alice <m>". */
async function sizes(proxyPort: number): Promise<string> {
  const r = await udpRequest(proxyPort, request('OPTIONS', 'sip:kemi.test'));
  return /^SIP\/2\.0 200 (.*)\r\n/.exec(r.replies.find((x) => x.startsWith('SIP/2.0 200')) ?? '')?.[1] ?? `no reply: ${r.replies.join('|')}`;
}

const count = (s: string, re: RegExp): number => (s.match(new RegExp(re.source, 'g')) ?? []).length;

describe('dialog with SIPp', () => {
  it('tracks calls: profiles count them while up and not after; events see $dlg and $dlg_var', async () => {
    const p = await proxy(SCRIPT());
    const bob = await uas();
    const c = await calls('uac-hold.xml', p.port, bob, 5, 1500);
    await sleep(800);
    expect(await sizes(p.port)).toBe('calls 5 alice 5');
    const r = await c.done;
    expect(r.failed, r.output + p.output().slice(-3000)).toBe(0);
    expect(r.successful).toBe(5);
    await sleep(100);
    expect(await sizes(p.port)).toBe('calls 0 alice 0');
    const log = p.output();
    expect(count(log, /INITIAL state=1 callid=\S+ ftag=\S+SIPpTag00\d/), log).toBe(5);
    expect(count(log, /EVENT dialog:start callid=\S+ state=3 start=[1-9]\d+ totag=\S+SIPpTag01\d caller=alice calls=[1-5]/), log).toBe(5);
    expect(count(log, /INDLG ACK state=4 dir=1 known=1 caller=alice/), log).toBe(5);
    expect(count(log, /INDLG BYE state=5 dir=1 known=1 caller=alice/), log).toBe(5);
    expect(count(log, /EVENT dialog:end callid=\S+ state=5 start=[1-9]\d+ totag=\S+ caller=alice calls=[0-4]\b/), log).toBe(5);
    expect(log).not.toMatch(/dialog:failed|script error/);
  }, 40_000);

  it('a rejected call ends as dialog:failed and leaves no profile entry', async () => {
    const p = await proxy(SCRIPT());
    const busy = await uas('uas-486.xml');
    const r = await (await calls('uac.xml', p.port, busy, 2)).done;
    expect(r.successful).toBe(0);
    await sleep(100);
    const log = p.output();
    expect(count(log, /EVENT dialog:failed callid=\S+ state=5 start=0 totag=<null> caller=alice calls=[01]\b/), log).toBe(2);
    expect(await sizes(p.port)).toBe('calls 0 alice 0');
  }, 30_000);

  it('dlg_set_timeout with $dlg_ctx(timeout_bye): both sides get a BYE when the dialog times out', async () => {
    const p = await proxy(SCRIPT({ timeout: 1 }));
    const bob = await uas();
    const c = await calls('uac-wait-bye.xml', p.port, bob, 2);
    const r = await c.done;
    expect(r.failed, r.output + p.output().slice(-3000)).toBe(0);
    expect(r.successful).toBe(2);
    await sleep(200);
    const log = p.output();
    expect(count(log, /timed out in state 4/), log).toBe(2);
    expect(count(log, /EVENT dialog:end callid=\S+ state=5/), log).toBe(2);
    expect(await sizes(p.port)).toBe('calls 0 alice 0');
  }, 30_000);
});

describe('dialog profiles shared through Redis', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('get_profile_size counts the calls of both proxies', async () => {
    const a = await proxy(SCRIPT(), ['--state', redis.url]);
    const b = await proxy(SCRIPT(), ['--state', redis.url]);
    const bob = await uas();
    const ca = await calls('uac-hold.xml', a.port, bob, 3, 2000);
    const cb = await calls('uac-hold.xml', b.port, bob, 2, 2000);
    await sleep(1000);
    expect(await sizes(a.port)).toBe('calls 5 alice 5');
    expect(await sizes(b.port)).toBe('calls 5 alice 5');
    const [ra, rb] = await Promise.all([ca.done, cb.done]);
    expect(ra.failed, ra.output + a.output().slice(-2000)).toBe(0);
    expect(rb.failed, rb.output + b.output().slice(-2000)).toBe(0);
    expect(ra.successful + rb.successful).toBe(5);
    await sleep(200);
    expect(await sizes(a.port)).toBe('calls 0 alice 0');
    expect(await sizes(b.port)).toBe('calls 0 alice 0');
  }, 40_000);
});
