/**
 * KSR.dialog next to Kamailio 5.6 (dialog.so): one script on both, a call that the dialog times
 * out ($dlg_ctx(timeout_bye)=1 before dlg_manage, dlg_set_timeout(1)). Compared: the Record-Route the callee sees
 * (with its did parameter), the BYE each side receives from the proxy (request line, From, To,
 * Call-ID, CSeq, Route), what the script logs for the in-dialog requests, and the event callbacks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, startSipp, tempDir, writeScript } from './harness.js';
import { useTargets, type Target } from './diff-harness.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

const targets = useTargets();

const SCRIPT = (timeout: boolean): string => `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      KSR.xlog.xerr("INDLG $rm state=$dlg(state) known=" .. KSR.dialog.is_known_dlg() .. " v=$dlg_var(caller)\\n")
      KSR.tm.t_relay()
    end
    return 1
  end
  if KSR.is_INVITE() then
    KSR.dialog.set_dlg_profile_static("calls")
    ${timeout ? 'KSR.pv.seti("$dlg_ctx(timeout_bye)", 1)' : ''}
    KSR.xlog.xerr("MANAGE " .. KSR.dialog.dlg_manage() .. " state=$dlg(state) known=" .. KSR.dialog.is_known_dlg() .. "\\n")
    KSR.dialog.set_dlg_profile("caller", KSR.pv.get("$fU"))
    KSR.pv.sets("$dlg_var(caller)", KSR.pv.get("$fU"))
    ${timeout ? 'KSR.dialog.dlg_set_timeout(1)' : ''}
    KSR.dialog.get_profile_size_static("calls", "$var(n)")
    KSR.dialog.get_profile_size("caller", "alice", "$var(a)")
    KSR.xlog.xerr("SIZES calls=$var(n) alice=$var(a) inprof=" .. KSR.dialog.is_in_profile("caller", "alice") .. "/" .. KSR.dialog.is_in_profile("caller", "bob") .. " lifetime=$dlg(lifetime)\\n")
  end
  KSR.rr.record_route()
  KSR.tm.t_relay()
end

function ksr_dialog_event(ev)
  KSR.dialog.get_profile_size_static("calls", "$var(n)")
  KSR.xlog.xerr("EVENT " .. ev .. " state=$dlg(state) v=$dlg_var(caller) calls=$var(n)\\n")
end
`;

/** The requests SIPp received, from its -trace_msg file. */
function received(file: string | undefined, method: string): string[] {
  if (!file) return [];
  const text = readFileSync(file, 'latin1');
  const out: string[] = [];
  for (const part of text.split(/^-{20,}.*$/m)) {
    const m = /message received[^\n]*\n\s*\n([\s\S]*)/.exec(part);
    if (m && m[1]!.startsWith(`${method} `)) out.push(m[1]!.trim());
  }
  return out;
}

/** The parts of a request that do not depend on the run: ports, tags, Call-ID, branch, did values. */
function shape(req: string | undefined, ports: Record<string, string>): string[] {
  if (!req) return ['(none)'];
  const keep = /^(BYE|INVITE|From|To|CSeq|Route|Record-Route|Max-Forwards|Content-Length)\b/i;
  return req.split(/\r?\n/).filter((l) => keep.test(l)).map((l) => {
    let s = l.replace(/tag=[^;>\s]+/g, 'tag=T').replace(/did=[0-9a-f]+\.[0-9a-f]+/g, 'did=D');
    for (const [p, name] of Object.entries(ports)) s = s.replaceAll(`:${p}`, `:${name}`);
    return s;
  });
}

function logLines(out: string): string[] {
  return out.split('\n').map((l) => /(INDLG|MANAGE|SIZES|EVENT) .*/.exec(l)?.[0]?.replace(/\s+callId=.*$/, '').trim()).filter((x): x is string => !!x);
}

/**
 * Kamailio's dialog timer runs in its own process: on a loaded box it can fire the 1 s timeout
 * before the ACK's process has confirmed the dialog, and it then sends the callee no BYE at all
 * (its log: "terminating non-confirmed dialogs not supported"; seen once in CI). Such a run of the
 * reference says nothing about the BYE a timed out dialog sends.
 */
const KAMAILIO_TIMER_RACE = /terminating non-confirmed dialogs not supported/;

async function run(target: Target, timeout: boolean): Promise<{ atUas: string[]; atUac: string[]; rr: string[]; log: string[]; didOk: boolean; uasOut: string; timerRace: boolean }> {
  const port = await freePort();
  const dir = tempDir('kemi-dlgdiff-');
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { dialog: { profiles_no_value: 'calls', profiles_with_value: 'caller', event_callback: 'ksr_dialog_event' } } }));
  const h = await targets.start(target, writeScript(SCRIPT(timeout)), {
    port,
    kemiModules: ['pv', 'kx', 'sl', 'tm', 'tmx', 'rr', 'siputils', 'xlog', 'dialog'],
    kemiArgs: ['--config', cfg],
    kamailioModules: 'loadmodule "dialog.so"\nmodparam("dialog", "profiles_no_value", "calls")\nmodparam("dialog", "profiles_with_value", "caller")\nmodparam("dialog", "event_callback", "ksr_dialog_event")',
  });
  const uasPort = await freePort();
  const uacPort = await freePort();
  const uas = targets.track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 15, traceMsg: true }));
  const uac = targets.track(startSipp({
    scenario: timeout ? 'uac-wait-bye.xml' : 'uac.xml', port: uacPort, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${port}`, service: 'bob', calls: 1, rate: 1, timeoutS: 15, traceMsg: true,
  }));
  const [ru, rs] = await Promise.all([uac.done, uas.done]);
  expect(ru.failed, `${target}: ${ru.output}\n${h.output().slice(-3000)}`).toBe(0);
  expect(ru.successful, `${target}: ${ru.output}\n${h.output().slice(-3000)}`).toBe(1);
  await new Promise((r) => setTimeout(r, timeout ? 1500 : 300));
  const ports = { [String(port)]: 'PROXY', [String(uasPort)]: 'UAS', [String(uacPort)]: 'UAC' };
  const invite = received(rs.msgFile, 'INVITE')[0] ?? '';
  return {
    atUas: timeout ? shape(received(rs.msgFile, 'BYE')[0], ports) : [],
    atUac: shape(received(ru.msgFile, 'BYE')[0], ports),
    rr: shape(invite, ports).filter((l) => /^Record-Route/i.test(l)),
    didOk: /;did=[0-9a-f]+\.[0-9a-f]+/.test(invite),
    log: logLines(h.output()),
    uasOut: `${rs.output}\n--- trace ---\n${rs.msgFile ? readFileSync(rs.msgFile, 'latin1').slice(-3000) : ''}\n--- proxy ---\n${h.output().slice(-2000)}`,
    timerRace: target === 'kamailio' && KAMAILIO_TIMER_RACE.test(h.output()),
  };
}

describe('dialog next to Kamailio 5.6', () => {
  it('the caller hangs up: same Record-Route, same script view of the dialog', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t, false));
    expect(kam.didOk).toBe(true);
    expect(kemi.didOk).toBe(true);
    expect(kemi.rr).toEqual(kam.rr);
    expect(kemi.log).toEqual(kam.log);
  }, 90_000);

  it('the dialog times out: same timeout BYEs to both sides, same script view of the dialog', async () => {
    const both = await targets.onBoth((t) => run(t, true));
    const { kemi } = both;
    let { kam } = both;
    // The reference raced itself (KAMAILIO_TIMER_RACE): run it again, twice at most.
    for (let i = 0; i < 2 && kam.timerRace; i++) {
      await targets.stopAll();
      kam = await run('kamailio', true);
    }
    expect(kam.timerRace, kam.uasOut).toBe(false);
    expect(kam.didOk).toBe(true);
    expect(kemi.didOk).toBe(true);
    expect(kemi.rr).toEqual(kam.rr);
    expect(kemi.atUas, kam.uasOut).toEqual(kam.atUas);
    expect(kemi.atUac).toEqual(kam.atUac);
    // Kamailio's end event for a timed out dialog varies from run to run (its timer process and
    // the BYE replies race): seen in state 4 or 5, in its profiles or out of them, or not at all.
    // kemi-proxy runs it once, deleted and out of its profiles.
    const isEnd = (l: string): boolean => l.startsWith('EVENT dialog:end');
    for (const l of kam.log.filter(isEnd)) expect(l).toMatch(/^EVENT dialog:end state=[45] v=alice calls=[01]$/);
    expect(kemi.log.filter(isEnd)).toEqual(['EVENT dialog:end state=5 v=alice calls=0']);
    expect(kemi.log.filter((l) => !isEnd(l))).toEqual(kam.log.filter((l) => !isEnd(l)));
  }, 90_000);
});
