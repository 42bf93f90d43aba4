/**
 * t_suspend / t_continue next to Kamailio 5.6 (tmx): INVITEs are suspended with a failure route
 * armed; a MESSAGE carrying the ids continues them (the ids wait in $shv, as a script would keep
 * them in a shared table): relayed to a UAS that answers 180 then 486 (the failure route armed
 * before t_suspend runs), answered from the continue route, left alone (tm kills it), or never
 * continued (the suspended transaction's timer: 408, the failure route runs). Both proxies must
 * send the same replies to the UAC, the same INVITE to the UAS, and give t_continue the same
 * return codes; every $T(...) name of tmx is read on the way.
 */
import { describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (uasPort: number): string => `
local function v(pv) return tostring(KSR.pv.get(pv)) end
local function rec(s) KSR.pv.sets("$avp(r)", s) end
local function tnames()
  return "T(reply_code)=" .. v("$T(reply_code)") .. " T(reply_type)=" .. v("$T(reply_type)")
    .. " T(reply_reason)=" .. v("$T(reply_reason)") .. " T(branch_index)=" .. v("$T(branch_index)")
    .. " T_branch_idx=" .. v("$T_branch_idx") .. " T_reply_code=" .. v("$T_reply_code")
end

function ksr_request_route()
  if KSR.is_ACK() then return end
  if KSR.is_MESSAGE() then
    local rc = KSR.tmx.t_continue(tonumber(v("$shv(tindex)")), tonumber(v("$shv(tlabel)")), KSR.hdr.get("X-Route"))
    KSR.hdr.append_to_reply("X-Rc: " .. rc .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "Continued")
    return
  end
  local u = KSR.kx.get_ruser()
  if u == "tnames" then
    KSR.hdr.append_to_reply("X-Before: id_index=" .. v("$T(id_index)") .. " id_label=" .. v("$T(id_label)") .. " " .. tnames() .. "\\r\\n")
    local created = type(KSR.pv.get("$T(id_label_n)"))
    KSR.hdr.append_to_reply("X-After: id_label_n=" .. created .. " id_index=" .. type(KSR.pv.get("$T(id_index)"))
      .. " same=" .. tostring(v("$T(id_index_n)") == v("$T(id_index)")) .. " " .. tnames() .. "\\r\\n")
    KSR.tm.t_reply(486, "Names")
    return
  end
  local before = v("$T(id_index)")
  if u ~= "nofail" then KSR.tm.t_on_failure("ksr_failure") end
  if u == "timeout" then KSR.tm.t_set_fr(1000, 1000) end
  local rc = KSR.tmx.t_suspend()
  KSR.pv.sets("$shv(tindex)", v("$T(id_index)"))
  KSR.pv.sets("$shv(tlabel)", v("$T(id_label)"))
  KSR.pv.sets("$shv(info)", "rc=" .. rc .. " before=" .. before .. " index=" .. type(KSR.pv.get("$T(id_index)"))
    .. " label=" .. type(KSR.pv.get("$T(id_label)")))
end

function ksr_cont_relay()
  KSR.hdr.append("X-Cont: failure_route=" .. KSR.tmx.t_is_failure_route() .. " request_route=" .. KSR.tmx.t_is_request_route()
    .. " same=" .. tostring(v("$T(id_index)") == v("$shv(tindex)") and v("$T(id_label)") == v("$shv(tlabel)"))
    .. " ru=" .. v("$ru") .. "\\r\\n")
  KSR.hdr.append("X-Cont-T: " .. tnames() .. " T_branch(flags)=" .. v("$T_branch(flags)") .. "\\r\\n")
  KSR.hdr.append("X-Suspend: " .. v("$shv(info)") .. "\\r\\n")
  KSR.tm.t_on_reply("ksr_onreply")
  KSR.setbflag(3)
  KSR.setdsturi("sip:127.0.0.1:${uasPort}")
  rec("relay=" .. KSR.tm.t_relay())
end

function ksr_cont_reply()
  KSR.tm.t_reply(480, "Later " .. KSR.tmx.t_is_failure_route())
end

function ksr_cont_nothing()
  rec("nothing")
end

function ksr_onreply()
  rec("onreply " .. v("$rs") .. " last=" .. v("$T_reply_last") .. " T_branch(uri)=" .. v("$T_branch(uri)")
    .. " T_branch(flags)=" .. v("$T_branch(flags)") .. " " .. tnames())
end

function ksr_failure()
  rec("failure " .. tnames() .. " T_branch(flags)=" .. v("$T_branch(flags)") .. " T_branch(uri)=" .. v("$T_branch(uri)") .. " branch_timeout=" .. KSR.tm.t_branch_timeout() .. " branch_replied=" .. KSR.tm.t_branch_replied()
    .. " status408=" .. KSR.tm.t_check_status("408") .. " is_failure_route=" .. KSR.tmx.t_is_failure_route())
  local all = KSR.pv.get("$(avp(r)[*])")
  local i = 0
  for part in string.gmatch(all, "[^,]+") do
    i = i + 1
    KSR.hdr.append_to_reply(string.format("X-R%02d: %s\\r\\n", i, (part:gsub("^%s+", ""))))
  end
  KSR.tm.t_reply(404, "From Failure")
end
`;

interface Uas {
  sock: Socket;
  port: number;
  got: string[];
}

/** Answers an INVITE 180 then 486 (To tag uas1); keeps every request it gets. */
async function uasServer(): Promise<Uas> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const got: string[] = [];
  sock.on('message', (m, from) => {
    const t = m.toString('latin1');
    if (!/^[A-Z]+ /.test(t)) return;
    got.push(t);
    if (!t.startsWith('INVITE ')) return;
    const keep = t.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
    const reply = (code: string): string => `SIP/2.0 ${code}\r\n${keep.map((h) => (/^To:/i.test(h) ? `${h};tag=uas1` : h)).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
    sock.send(reply('180 Ringing'), from.port, from.address);
    setTimeout(() => sock.send(reply('486 Busy Here'), from.port, from.address), 50);
  });
  return { sock, port: (sock.address() as { port: number }).port, got };
}

/** A UAC for one INVITE: every reply it gets, the ACK sent for a final one. */
async function uac(port: number, user: string): Promise<{ replies: string[]; final: Promise<string>; close(): void }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const lp = (sock.address() as { port: number }).port;
  const common = [`From: <sip:alice@kemi.test>;tag=a-${user}`, `Call-ID: async-diff-${user}@kemi.test`];
  const invite = [`INVITE sip:${user}@kemi.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bKad${user}`, 'Max-Forwards: 70', ...common,
    `To: <sip:${user}@kemi.test>`, 'CSeq: 1 INVITE', `Contact: <sip:alice@127.0.0.1:${lp}>`, 'Content-Length: 0', '', ''].join('\r\n');
  const replies: string[] = [];
  const final = new Promise<string>((resolve) => {
    sock.on('message', (m) => {
      const s = m.toString('latin1');
      replies.push(s);
      const code = Number(/^SIP\/2\.0 (\d{3})/.exec(s)?.[1] ?? 0);
      if (code < 300) {
        if (code >= 200) resolve(s);
        return;
      }
      const to = /^To:.*$/im.exec(s)?.[0] ?? `To: <sip:${user}@kemi.test>`;
      const ack = [`ACK sip:${user}@kemi.test SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bKad${user}`, 'Max-Forwards: 70', ...common, to, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n');
      sock.send(ack, port, '127.0.0.1');
      resolve(s);
    });
  });
  sock.send(invite, port, '127.0.0.1');
  return { replies, final, close: () => sock.close() };
}

function cont(route: string): string {
  return ['MESSAGE sip:service@kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKcont' + route + Date.now(), 'Max-Forwards: 70',
    'From: <sip:alice@kemi.test>;tag=m1', 'To: <sip:service@kemi.test>', `Call-ID: cont-${route}-${Date.now()}@kemi.test`, 'CSeq: 1 MESSAGE',
    `X-Route: ${route}`, 'Content-Length: 0', '', ''].join('\r\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What one flow shows: the UAC's replies (status line, X- headers), t_continue's codes, what the UAS got. */
async function flow(port: number, uas: Uas, user: string, routes: string[]): Promise<string[]> {
  const out: string[] = [];
  const c = await uac(port, user);
  const seen = uas.got.length;
  try {
    await sleep(300);
    for (const r of routes) {
      const ex = await udpRequest(port, cont(r), 3000);
      out.push(`continue ${r}: ${ex.replies.map((x) => `${x.split('\r\n')[0]} ${/^X-Rc:.*$/m.exec(x)?.[0] ?? ''}`).join(' | ')}`);
    }
    const fin = await Promise.race([c.final, sleep(6000).then(() => 'none')]);
    out.push(`final: ${fin.split('\r\n').filter((l) => /^SIP\/|^X-/.test(l)).join(' / ')}`);
    // A continue after the end gets the code of a transaction no longer suspended.
    if (user === 'timeout' || user === 'nothing') {
      const ex = await udpRequest(port, cont('ksr_cont_reply'), 3000);
      out.push(`late continue: ${ex.replies.map((x) => `${x.split('\r\n')[0]} ${/^X-Rc:.*$/m.exec(x)?.[0] ?? ''}`).join(' | ')}`);
    }
    await sleep(200);
    out.push(`uac: ${[...new Set(c.replies.map((r) => r.split('\r\n')[0]))].join(' | ')}`);
    for (const m of uas.got.slice(seen)) {
      out.push(`uas: ${m.replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY').replace(new RegExp(`\\b${uas.port}\\b`, 'g'), 'UAS')
        .replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=*').replace(/127\.0\.0\.1:\d+;branch=z9hG4bKad/, '127.0.0.1:UAC;branch=z9hG4bKad')
        .replace(/sip:alice@127\.0\.0\.1:\d+/, 'sip:alice@UAC')}`);
    }
  } finally {
    c.close();
  }
  return out;
}

async function run(target: 'kemi' | 'kamailio', user: string, routes: string[]): Promise<string[]> {
  const uas = await uasServer();
  const port = await freePort();
  const h = await targets.start(target, writeScript(script(uas.port)), { port, kamailioModules: process.env.KAM_DEBUG ? `debug=${process.env.KAM_DEBUG}` : '' });
  try {
    const out = await flow(port, uas, user, routes);
    if (process.env.ASYNC_DIFF_LOG) (await import('node:fs')).writeFileSync(`${process.env.ASYNC_DIFF_LOG}-${target}-${user}.log`, h.output());
    if (out.some((l) => l === 'final: none')) throw new Error(`${target}: no final reply\n${out.join('\n')}\n${h.output().slice(-3000)}`);
    return out;
  } finally {
    uas.sock.close();
  }
}

describe('t_suspend / t_continue next to Kamailio 5.6', () => {
  const cases: [string, string, string[]][] = [
    ['continued and relayed; the UAS answers 486, the failure route armed before t_suspend runs', 'relay', ['ksr_cont_relay', 'ksr_cont_relay']],
    ['continued and relayed without a failure route: the 486 goes back', 'nofail', ['ksr_cont_relay']],
    ['answered from the continue route', 'reply', ['ksr_cont_reply']],
    ['the continue route does nothing: tm kills the transaction', 'nothing', ['ksr_cont_nothing']],
    ['never continued: 408 when its timer fires, the failure route runs', 'timeout', []],
    ['$T(...) names before and after the transaction exists', 'tnames', []],
  ];
  for (const [title, user, routes] of cases) {
    it(title, async () => {
      const { kemi, kam } = await targets.onBoth((t) => run(t, user, routes));
      expect(kemi.join('\n')).toContain('final: SIP/2.0');
      if (process.env.ASYNC_DIFF_SHOW) console.log(kemi.join('\n'));
      expect(kemi).toEqual(kam);
    }, 60_000);
  }
});
