/**
 * KSR.rtpengine next to Kamailio 5.6's rtpengine module: routes/rtpengine.lua runs on each proxy
 * with its own fresh rtpengine daemon, the same SIPp call goes through (INVITE with SDP, 180,
 * 200 with SDP, ACK, RTP both ways, BYE). Compared: every ng command each daemon received (the
 * dictionaries as the daemon dumps them, keys in the order sent) and every SIP message each SIPp
 * endpoint received, with what differs by run masked (ports, tags, branches, Call-ID, cookies).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, REPO, startSipp, tempDir, writeScript, type SippHandle } from './harness.js';
import { useTargets, type Target, type TargetHandle } from './diff-harness.js';
import { startRtpengine } from './rtpengine-daemon.js';
import { closeMediaSockets, mediaCall, MEDIA_MAX, MEDIA_MIN, traceText } from './rtpengine-call.js';
import { normalize, receivedMessages } from './sipp-trace.js';

const targets = useTargets();
const SCRIPT = join(REPO, 'routes/rtpengine.lua');

/**
 * The explicit functions with many flags: offer and answer with via-branch, directions,
 * transport, codec and generic flags; in the BYE's route the media functions, a query with a
 * to-tag, play_media of a missing file (an error from the daemon), then the delete. The return
 * codes travel to the UAS in X-RC headers.
 */
const FLAGS_SCRIPT = `
local OFFER = "trust-address replace-origin replace-session-connection direction=external direction=internal via-branch=1 RTP/AVPF codec-strip=PCMA codec-mask=telephone-event TOS=184 label=caller loop-protect"
local ANSWER = "trust-address replace-origin via-branch=2 label=callee"

function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.is_BYE() then
        local rc = {}
        rc[#rc + 1] = KSR.rtpengine.set_rtpengine_set(0)
        rc[#rc + 1] = KSR.rtpengine.set_rtpengine_set(5)
        rc[#rc + 1] = KSR.rtpengine.block_media("directional")
        rc[#rc + 1] = KSR.rtpengine.unblock_media0()
        rc[#rc + 1] = KSR.rtpengine.silence_media0()
        rc[#rc + 1] = KSR.rtpengine.unsilence_media("directional")
        rc[#rc + 1] = KSR.rtpengine.block_dtmf0()
        rc[#rc + 1] = KSR.rtpengine.unblock_dtmf0()
        rc[#rc + 1] = KSR.rtpengine.rtpengine_query("to-tag")
        rc[#rc + 1] = KSR.rtpengine.play_media("file=/nonexistent/kemi.wav")
        rc[#rc + 1] = KSR.rtpengine.stop_media0()
        rc[#rc + 1] = KSR.rtpengine.rtpengine_answer0()
        rc[#rc + 1] = KSR.rtpengine.rtpengine_delete("delete-delay=0")
        rc[#rc + 1] = KSR.rtpengine.rtpengine_delete0()
        KSR.hdr.append("X-RC: " .. table.concat(rc, ",") .. "\\r\\n")
      end
      KSR.tm.t_relay()
    elseif KSR.is_ACK() and KSR.tm.t_check_trans() > 0 then
      KSR.tm.t_relay()
    end
    return 1
  end
  if KSR.is_ACK() then return 1 end
  KSR.rr.record_route()
  local rc = KSR.rtpengine.rtpengine_offer(OFFER)
  KSR.hdr.append("X-RC: offer=" .. rc .. "\\r\\n")
  KSR.tm.t_on_reply("ksr_onreply_flags")
  KSR.tm.t_relay()
end

function ksr_onreply_flags()
  if KSR.pv.get("$rs") == "200" or KSR.pv.get("$rs") == 200 then
    KSR.rtpengine.rtpengine_answer(ANSWER)
  end
end
`;

interface Seen {
  ng: string[];
  uac: string[];
  uas: string[];
}

/** The ng commands a daemon logged at level 7, with run-specific values masked. */
function ngDumps(log: string, mask: (s: string) => string): string[] {
  const out: string[] = [];
  // One log entry per "[seconds.micros] LEVEL: ..." line start; a dump with an SDP spans lines.
  for (const entry of log.split(/^(?=\[\d+\.\d+\] )/m)) {
    const m = /Dump for '([^']+)' from [^:]+:\d+: ([\s\S]*?)\s*$/.exec(entry);
    if (!m || m[1] === 'ping') continue;
    out.push(mask(`${m[1]}: ${m[2]}`));
  }
  return out;
}

/** A plain SIPp pair (scenarios from test/e2e/scenarios) through the target running `script`. */
/**
 * Kamailio's default configuration style: rtpengine_manage runs in the branch route (and in the
 * onreply route), not in the request route; in-dialog requests go through it too.
 */
const BRANCH_SCRIPT = `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      KSR.rtpengine.rtpengine_manage("replace-origin replace-session-connection")
      KSR.tm.t_relay()
    elseif KSR.is_ACK() and KSR.tm.t_check_trans() > 0 then
      KSR.tm.t_relay()
    end
    return 1
  end
  if KSR.is_ACK() then return 1 end
  KSR.rr.record_route()
  KSR.tm.t_on_branch("ksr_branch_manage")
  KSR.tm.t_on_reply("ksr_reply_manage")
  KSR.tm.t_relay()
end

function ksr_branch_manage()
  KSR.rtpengine.rtpengine_manage("replace-origin replace-session-connection via-branch=auto")
end

function ksr_reply_manage()
  KSR.rtpengine.rtpengine_manage("replace-origin replace-session-connection via-branch=auto")
end
`;

/**
 * A public stateless KEMI script (an edge in front of Asterisk): rtpengine_manage0 on INVITEs in
 * the request route and on every reply in the core reply route, requests forwarded statelessly to
 * one host. Its `KSR.kx.get_def("ASTERISK_ADDR")` and TCP target are replaced by the UAS's
 * address over UDP here; the rest is as published.
 */
const STATELESS_SCRIPT = (uasPort: number): string => `
function ksr_request_route()
	if not KSR.sanity.sanity_check_defaults() then
		KSR.x.exit()
	end

	if KSR.is_INVITE() then
		KSR.rtpengine.rtpengine_manage0()
	end

	local target = "127.0.0.1:${uasPort}"
	KSR.forward_uri(string.format("sip:%s", target))
end

function ksr_reply_route()
	KSR.rtpengine.rtpengine_manage0()
	KSR.hdr.remove("Server")
end
`;

async function runPair(target: Target, uacScenario: string, uasScenario: string, script: string | ((uasPort: number) => string) = SCRIPT): Promise<Seen> {
  const ngPort = await freePort();
  const rtpe = targets.track(await startRtpengine(ngPort, MEDIA_MIN, MEDIA_MAX, 7));
  const port = await freePort();
  const uasPort = await freePort();
  const proxy = await startTarget(target, typeof script === 'string' ? script : writeScript(script(uasPort)), port, `udp:127.0.0.1:${ngPort}`);
  const uacPort = await freePort();
  const uas = targets.track(startSipp({ scenario: uasScenario, port: uasPort, calls: 1, timeoutS: 20, traceMsg: true }));
  await new Promise((r) => setTimeout(r, 200));
  const uac = targets.track(startSipp({ scenario: uacScenario, port: uacPort, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${port}`, calls: 1, timeoutS: 20, service: 'bob', traceMsg: true }));
  // The UAC scenario may end as a failed call (a 486): what counts is what each side received.
  await uac.done;
  await uas.done;
  const ports = new Map<number, string>([[port, 'PROXY'], [uasPort, 'UAS'], [uacPort, 'UAC']]);
  const callId = /^Call-ID:\s*(\S+)/im.exec(traceText(uas))?.[1] ?? 'none';
  const mask = (t: string): string =>
    t
      .replaceAll(callId, 'CALLID')
      .replace(/\b(\d+)SIPpTag0(\d)1\b/g, 'PIDSIPpTag0$21')
      .replace(/z9hG4bK-\d+-\d+-\d+/g, 'SIPP-BRANCH')
        .replace(/z9hG4bK[\w.-]+/g, 'BRANCH')
      .replace(/a=rtpengine:\w+/g, 'a=rtpengine:ID')
      .replace(/\b(\d{5})\b/g, (all, p: string) => (Number(p) >= MEDIA_MIN && Number(p) <= MEDIA_MAX ? 'RTPE' : all))
      .replace(/127\.0\.0\.1:\d{4,5}/g, '127.0.0.1:PORT');
  const msgs = (h: SippHandle): string[] => receivedMessages(traceText(h)).map((m) => mask(normalize(m, ports).replace(/a=rtcp:\d+/g, 'a=rtcp:P')));
  return { ng: ngDumps(rtpe.output(), mask), uac: msgs(uac), uas: msgs(uas) };
}

/** kemi-proxy with a config file (modules, rtpengine_sock per set) or Kamailio with rtpengine.so loaded. */
async function startTarget(target: Target, script: string, port: number, socks: string | string[]): Promise<TargetHandle> {
  const list = Array.isArray(socks) ? socks : [socks];
  const dir = tempDir('kemi-rtpe-diff-');
  const cfg = join(dir, 'rtpengine.json');
  const params: Record<string, string> = {};
  list.forEach((sock, i) => (params[i === 0 ? 'rtpengine_sock' : `rtpengine_sock${i + 1}`] = sock));
  writeFileSync(cfg, JSON.stringify({
    modules: ['pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'sanity', 'textops', 'xlog', 'rtpengine'],
    modparams: { rtpengine: params },
  }));
  return targets.start(target, script, {
    port,
    kemiArgs: ['-c', cfg],
    kamailioModules: `loadmodule "rtpengine.so"\n${list.map((sock) => `modparam("rtpengine", "rtpengine_sock", "${sock}")`).join('\n')}`,
  });
}

/**
 * Two rtpengine sets (one daemon each) chained with set_rtpengine_set2: the offer goes through
 * set 1 then set 2 (the second daemon gets the first one's SDP), the answer through set 2 then
 * set 1, the delete through both.
 */
const TWO_SETS_SCRIPT = `
local F = "replace-origin replace-session-connection"
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.is_BYE() then
        KSR.rtpengine.set_rtpengine_set2(1, 2)
        KSR.rtpengine.rtpengine_delete0()
      end
      KSR.tm.t_relay()
    elseif KSR.is_ACK() and KSR.tm.t_check_trans() > 0 then
      KSR.tm.t_relay()
    end
    return 1
  end
  if KSR.is_ACK() then return 1 end
  KSR.rr.record_route()
  KSR.rtpengine.set_rtpengine_set2(1, 2)
  KSR.rtpengine.rtpengine_offer(F)
  KSR.tm.t_on_reply("ksr_reply_two")
  KSR.tm.t_relay()
end

function ksr_reply_two()
  if KSR.pv.get("$rs") == 200 or KSR.pv.get("$rs") == "200" then
    KSR.rtpengine.set_rtpengine_set2(1, 2)
    KSR.rtpengine.rtpengine_answer(F)
  end
end
`;

async function run(target: Target, script = SCRIPT, sets: 1 | 2 = 1): Promise<Seen> {
  const ngPort = await freePort();
  const half = Math.floor((MEDIA_MIN + MEDIA_MAX) / 2);
  const rtpe = targets.track(await startRtpengine(ngPort, MEDIA_MIN, sets === 1 ? MEDIA_MAX : half, 7));
  const ngPort2 = sets === 2 ? await freePort() : 0;
  const rtpe2 = sets === 2 ? targets.track(await startRtpengine(ngPort2, half + 1, MEDIA_MAX, 7)) : null;
  const port = await freePort();
  const socks = sets === 1 ? `udp:127.0.0.1:${ngPort}` : [`1 == udp:127.0.0.1:${ngPort}`, `2 == udp:127.0.0.1:${ngPort2}`];
  const proxy = await startTarget(target, script, port, socks);
  const diag = (): string => `\n--- ${target} ---\n${proxy.output().slice(-3000)}\n--- rtpengine ---\n${rtpe.output().slice(-2000)}`;
  try {
    const call = await mediaCall(port, targets.track, diag);
    const res = await call.uac.done;
    expect(res.successful, res.output + diag()).toBe(1);
    await call.uas.done;
    const ports = new Map<number, string>([
      [port, 'PROXY'], [call.a.port, 'MEDIA_A'], [call.b.port, 'MEDIA_B'],
    ]);
    const mask = (s: string): string =>
      s
        .replaceAll(call.callId, 'CALLID')
        .replace(/\b(\d+)SIPpTag0(\d)1\b/g, 'PIDSIPpTag0$21')
        .replace(/z9hG4bK-\d+-\d+-\d+/g, 'SIPP-BRANCH')
        .replace(/z9hG4bK[\w.-]+/g, 'BRANCH')
        .replace(/a=rtpengine:\w+/g, 'a=rtpengine:ID')
        .replace(/\b(\d{5})\b/g, (all, p: string) => (Number(p) >= MEDIA_MIN && Number(p) <= MEDIA_MAX ? 'RTPE' : all))
        .replace(/127\.0\.0\.1:\d{4,5}/g, '127.0.0.1:PORT')
        .replace(/\b\d{5}\b/g, (all) => (ports.has(Number(all)) ? ports.get(Number(all))! : all));
    const msgs = (h: typeof call.uac): string[] =>
      receivedMessages(traceText(h)).map((m) => mask(normalize(m, ports).replace(/a=rtcp:\d+/g, 'a=rtcp:P')));
    const ng = ngDumps(rtpe.output(), mask);
    if (rtpe2) ng.push('--- second daemon ---', ...ngDumps(rtpe2.output(), mask));
    return { ng, uac: msgs(call.uac), uas: msgs(call.uas) };
  } finally {
    closeMediaSockets();
  }
}

describe('KSR.rtpengine next to Kamailio 5.6 rtpengine.so', () => {
  it('routes/rtpengine.lua: the same ng commands reach the daemon and the same SDPs reach both ends', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'answer', 'query', 'delete']);
    expect(kemi.ng.join('\n')).toContain('"replace": [ "origin", "session-connection" ]');
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uas.join('\n')).toContain('m=audio P');
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 90_000);

  it('routes/rtpengine.lua, a call answered 486: offer, then the delete from the reply', async () => {
    const { kemi, kam } = await targets.onBoth((t) => runPair(t, 'uac.xml', 'uas-486.xml'));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'delete']);
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 60_000);

  it('routes/rtpengine.lua, a late offer: the offer from the 200 (tags swapped), the answer from the ACK', async () => {
    const { kemi, kam } = await targets.onBoth((t) => runPair(t, 'rtpe-uac-late.xml', 'uas.xml'));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'answer', 'query', 'delete']);
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uac.join('\n')).toContain('m=audio P');
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 60_000);

  it('rtpengine_manage in the branch and onreply routes, with via-branch=auto', async () => {
    const file = writeScript(BRANCH_SCRIPT);
    const { kemi, kam } = await targets.onBoth((t) => runPair(t, 'uac.xml', 'uas.xml', file));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'answer', 'delete']);
    expect(kemi.ng.join('\n')).toContain('"via-branch": "SIPP-BRANCH"');
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uas.join('\n')).toContain('m=audio P');
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 60_000);

  it('a public stateless script: manage0 in the request route and in the core reply route', async () => {
    const { kemi, kam } = await targets.onBoth((t) => runPair(t, 'uac.xml', 'uas.xml', STATELESS_SCRIPT));
    // offer (INVITE), answer (200 to the INVITE), delete (200 to the BYE); the 180 has no SDP.
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'answer', 'delete']);
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uac.join('\n')).toContain('m=audio P');
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 60_000);

  it('two sets chained with set_rtpengine_set2: offer 1 then 2, answer 2 then 1, delete on both', async () => {
    const file = writeScript(TWO_SETS_SCRIPT);
    const { kemi, kam } = await targets.onBoth((t) => run(t, file, 2));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual(['offer', 'answer', 'delete', '--- second daemon ---', 'offer', 'answer', 'delete']);
    // The caller's SDP reaches set 1 first, the callee's set 2 first; each then gets the other's.
    expect(kemi.ng[0]).toContain('c=IN IP4 127.0.0.2');
    expect(kemi.ng[4]).toContain('c=IN IP4 127.0.0.1');
    expect(kemi.ng[5]).toContain('c=IN IP4 127.0.0.3');
    expect(kemi.ng[1]).toContain('c=IN IP4 127.0.0.1');
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 90_000);

  it('offer/answer with many flags, the media functions and the delete: same commands, same codes', async () => {
    const file = writeScript(FLAGS_SCRIPT);
    const { kemi, kam } = await targets.onBoth((t) => run(t, file));
    expect(kemi.ng.map((l) => l.split(':')[0])).toEqual([
      'offer', 'answer', 'block media', 'unblock media', 'silence media', 'unsilence media', 'block DTMF', 'unblock DTMF',
      'query', 'play media', 'stop media', 'delete', 'delete',
    ]);
    expect(kemi.ng).toEqual(kam.ng);
    expect(kemi.uas.join('\n')).toContain('X-RC: offer=1');
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.uac).toEqual(kam.uac);
  }, 90_000);
});
