/**
 * tm's callbacks next to Kamailio 5.6: one INVITE relayed to a UAS that rings and then answers
 * 486 (or rings and never answers, so that fr_inv_timer ends the branch); the branch, onreply and failure routes record what tm tells them ($T_* pseudo-variables,
 * t_check_status, t_branch_replied, t_any_timeout, t_is_failure_route, t_get_status_code, ...)
 * into a transaction AVP, and the failure route answers 500 with every record in a header. Both
 * proxies must give the same records in the same order, and the UAS must see the same INVITE.
 */
import { describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (uasPort: number): string => `
local function rec(s) KSR.pv.sets("$avp(r)", s) end
local function v(pv) return tostring(KSR.pv.get(pv)) end

function ksr_request_route()
  if KSR.is_ACK() then
    KSR.tm.t_check_trans()
    return 1
  end
  if KSR.tm.t_check_trans() == 0 then return 1 end
  rec("request t_is_set(failure)=" .. KSR.tm.t_is_set("failure_route") .. " T_branch_idx=" .. v("$T_branch_idx")
    .. " is_request_route=" .. KSR.tmx.t_is_request_route() .. " get_branch_index=" .. KSR.tm.t_get_branch_index())
  KSR.tm.t_on_branch("ksr_branch")
  KSR.tm.t_on_reply("ksr_onreply")
  KSR.tm.t_on_failure("ksr_failure")
  rec("request t_is_set(failure) after=" .. KSR.tm.t_is_set("failure_route") .. " branch=" .. KSR.tm.t_is_set("branch_route")
    .. " onreply=" .. KSR.tm.t_is_set("onreply_route"))
  KSR.setdsturi("sip:127.0.0.1:${uasPort}")
  KSR.tm.t_set_fr(1500, 1000)
  KSR.tm.t_relay()
end

function ksr_branch()
  rec("branch idx=" .. v("$T_branch_idx") .. " get_branch_index=" .. KSR.tm.t_get_branch_index()
    .. " is_branch_route=" .. KSR.tmx.t_is_branch_route() .. " ru=" .. v("$ru") .. " du=" .. v("$du"))
  KSR.hdr.append("X-Branch: " .. v("$T_branch_idx") .. "\\r\\n")
end

function ksr_onreply()
  rec("onreply code=" .. v("$T_reply_code") .. " rs=" .. v("$rs") .. " rr=" .. v("$rr")
    .. " status18x=" .. KSR.tm.t_check_status("18[0-9]") .. " status486=" .. KSR.tm.t_check_status("486")
    .. " is_reply_route=" .. KSR.tmx.t_is_reply_route() .. " T_branch_idx=" .. v("$T_branch_idx")
    .. " X-Uas=" .. v("$hdr(X-Uas)") .. " T_req_fu=" .. v("$T_req($fu)") .. " status_code=" .. KSR.tm.t_get_status_code())
end

function ksr_failure()
  rec("failure code=" .. v("$T_reply_code") .. " reason=" .. v("$T_reply_reason")
    .. " status486=" .. KSR.tm.t_check_status("486") .. " status4xx=" .. KSR.tm.t_check_status("4[0-9][0-9]")
    .. " canceled=" .. KSR.tm.t_is_canceled() .. " expired=" .. KSR.tm.t_is_expired()
    .. " branch_timeout=" .. KSR.tm.t_branch_timeout() .. " branch_replied=" .. KSR.tm.t_branch_replied()
    .. " any_timeout=" .. KSR.tm.t_any_timeout() .. " any_replied=" .. KSR.tm.t_any_replied()
    .. " is_failure_route=" .. KSR.tmx.t_is_failure_route() .. " T_branch_idx=" .. v("$T_branch_idx")
    .. " T_req_fu=" .. v("$T_req($fu)") .. " T_rpl_xuas=" .. v("$T_rpl($hdr(X-Uas))") .. " ru=" .. v("$ru")
    .. " status_code=" .. KSR.tm.t_get_status_code() .. " grep486=" .. KSR.tm.t_grep_status(486))
  local all = KSR.pv.get("$(avp(r)[*])")
  local i = 0
  for part in string.gmatch(all, "[^,]+") do
    i = i + 1
    KSR.hdr.append_to_reply(string.format("X-R%02d: %s\\r\\n", i, (part:gsub("^%s+", ""))))
  end
  KSR.tm.t_reply(500, "Results")
end
`;

/**
 * A UAS that rings and then answers 486 to the INVITE ('busy'), or only rings ('silent': the
 * proxy's fr_inv_timer ends the branch with 408); it remembers the INVITE it got.
 */
async function uasServer(mode: 'busy' | 'silent'): Promise<{ sock: Socket; port: number; invite: Promise<string> }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const invite = new Promise<string>((resolve) => {
    sock.on('message', (m, from) => {
      const t = m.toString('latin1');
      if (!t.startsWith('INVITE ')) return;
      resolve(t);
      const keep = t.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
      const reply = (code: string): string => `SIP/2.0 ${code}\r\n${keep.map((h) => (/^To:/i.test(h) ? `${h};tag=uas1` : h)).join('\r\n')}\r\nX-Uas: ${code.slice(0, 3)}\r\nContent-Length: 0\r\n\r\n`;
      sock.send(reply('180 Ringing'), from.port, from.address);
      if (mode === 'busy') setTimeout(() => sock.send(reply('486 Busy Here'), from.port, from.address), 50);
    });
  });
  return { sock, port: (sock.address() as { port: number }).port, invite };
}

const INVITE = [
  'INVITE sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKtmdiff1',
  'Max-Forwards: 70',
  'From: <sip:alice@kemi.test>;tag=a1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: tm-diff-1@kemi.test',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@127.0.0.1:5999>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function run(target: 'kemi' | 'kamailio', mode: 'busy' | 'silent'): Promise<{ records: string[]; invite: string }> {
  const uas = await uasServer(mode);
  const port = await freePort();
  const file = writeScript(script(uas.port));
  const h = await targets.start(target, file, { port });
  try {
    const ex = await udpRequest(port, INVITE, 5000);
    const final = ex.replies.find((r) => /^SIP\/2\.0 [2-6]/.test(r));
    if (!final) throw new Error(`${target}: no final reply (${ex.replies.map((r) => r.split('\r\n')[0]).join(' | ')})\n${h.output().slice(-3000)}`);
    const invite = await uas.invite;
    const mask = (s: string): string => s.replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY').replace(new RegExp(`\\b${uas.port}\\b`, 'g'), 'UAS');
    return {
      records: [final.split('\r\n')[0]!, ...final.split('\r\n').filter((l) => l.startsWith('X-R')).map(mask)],
      invite: mask(invite).replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=*').replace(/(127\.0\.0\.1:)\d{4,5};branch=z9hG4bKtmdiff1/, '$1CLIENT;branch=z9hG4bKtmdiff1'),
    };
  } finally {
    uas.sock.close();
  }
}

describe('tm callbacks next to Kamailio 5.6', () => {
  for (const mode of ['busy', 'silent'] as const) {
    it(`branch, onreply and failure routes see the same tm state on both (UAS ${mode === 'busy' ? 'answers 486' : 'rings, then the fr_inv_timer fires'})`, async () => {
      const { kemi, kam } = await targets.onBoth((t) => run(t, mode));
      expect(kemi.records.length).toBeGreaterThan(5);
      expect(kemi.records.join('\n')).toContain(mode === 'busy' ? 'failure code=486' : 'failure code=408');
      expect(kemi.records).toEqual(kam.records);
      expect(kemi.invite.split('\r\n')).toEqual(kam.invite.split('\r\n'));
    }, 60_000);
  }
});
