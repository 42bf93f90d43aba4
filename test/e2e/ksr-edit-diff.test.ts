/**
 * Message edits and kx getters next to Kamailio 5.6: one script reads every kx getter, then edits
 * the request with hdr, textops, textopsx, siputils, rr and core functions, records the return
 * codes, and forwards it statelessly to a UDP sink. kemi-proxy and Kamailio must return the same
 * values and the sink must receive the same message from both (ports, branch and the Via
 * parameters that hold them masked): lumps applied in Kamailio's order, spacing, Content-Length.
 */
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { udpSink, useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (sinkPort: number): string => `
local out = {}
local function r(name, v) out[#out + 1] = name .. "=" .. tostring(v) end

function ksr_request_route()
  out = {}
  for _, f in ipairs({"get_ruri", "get_ruser", "getw_ruser", "gete_ruser", "get_rhost", "get_ouri",
      "get_furi", "get_fuser", "get_fhost", "get_turi", "get_tuser", "get_thost", "get_duri",
      "gete_duri", "getw_duri", "get_cturi", "get_nhuri", "get_ua", "get_srcip",
      "get_rcvip", "get_proto", "get_protoid", "get_au", "gete_au", "getw_au", "get_method",
      "get_status", "gets_status", "get_body", "get_bodylen", "get_callid", "get_msglen",
      "get_msgtype"}) do
    r("kx." .. f, KSR.kx[f]())
  end
  r("kx.get_def missing", KSR.kx.get_def("NOT_DEFINED_HERE"))
  r("kx.ifdef", KSR.kx.ifdef("NOT_DEFINED_HERE"))
  r("kx.ifndef", KSR.kx.ifndef("NOT_DEFINED_HERE"))
  r("hdr.get X-Multi", KSR.hdr.get("X-Multi"))
  r("hdr.get_idx 1", KSR.hdr.get_idx("X-Multi", 1))
  r("hdr.get_idx -1", KSR.hdr.get_idx("X-Multi", -1))
  r("hdr.gete none", KSR.hdr.gete("X-None"))
  r("hdr.getw none", KSR.hdr.getw("X-None"))
  r("hdr.match_content", KSR.hdr.match_content("Subject", "fm", "hello*", "a"))

  r("hdr.append", KSR.hdr.append("X-App: 1\\r\\n"))
  r("hdr.insert", KSR.hdr.insert("X-Ins: 2\\r\\n"))
  r("hdr.append_after", KSR.hdr.append_after("X-After: 3\\r\\n", "Subject"))
  r("hdr.insert_before", KSR.hdr.insert_before("X-Before: 4\\r\\n", "Subject"))
  r("hdr.rmappend", KSR.hdr.rmappend("User-Agent", "User-Agent: edited/2\\r\\n"))
  r("hdr.remove X-Drop", KSR.hdr.remove("X-Drop"))
  r("textops.remove_hf_re", KSR.textops.remove_hf_re("^X-Gone"))
  r("textops.remove_hf_idx", KSR.textops.remove_hf_idx("X-Multi", 1))
  r("textops.subst_hf", KSR.textops.subst_hf("Subject", "/world/there/", "a"))
  r("textops.replace", KSR.textops.replace("keep-me", "kept"))
  r("textops.subst_body", KSR.textops.subst_body("/body/BODY/"))
  r("textops.search_append", KSR.textops.search_append("X-Tail: t", ";appended"))
  r("siputils.add_uri_param", KSR.siputils.add_uri_param("nat=yes"))
  r("rr.record_route", KSR.rr.record_route())
  r("setuser", KSR.setuser("carol"))
  r("$ru after setuser", KSR.pv.get("$ru"))
  r("hdr.get X-App same route", KSR.hdr.get("X-App"))
  r("textopsx.msg_apply_changes", KSR.textopsx.msg_apply_changes())
  r("hdr.get X-App after apply", KSR.hdr.get("X-App"))
  r("$hdr(Subject) after apply", KSR.pv.get("$hdr(Subject)"))
  r("kx.get_msglen after apply", KSR.kx.get_msglen())
  r("textops.is_present_hf X-Ins", KSR.textops.is_present_hf("X-Ins"))
  r("textops.set_body", KSR.textops.set_body("v=0\\r\\nnew body\\r\\n", "application/sdp"))
  for i, line in ipairs(out) do
    KSR.hdr.append(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.forward_uri("sip:127.0.0.1:${sinkPort}")
end
`;

const REQUEST = [
  'MESSAGE sip:bob@kemi.test;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKedit1;rport',
  'Max-Forwards: 20',
  'From: "Alice A" <sip:alice@kemi.test>;tag=fromtag1',
  'To: Bob <sip:bob@kemi.test>',
  'Call-ID: ksr-edit-1@kemi.test',
  'CSeq: 7 MESSAGE',
  'Contact: <sip:alice@127.0.0.1:5999>',
  'User-Agent: diff-ua/1.0',
  'Subject: hello world',
  'X-Multi: a',
  'X-Multi: b, c',
  'X-Drop: x',
  'X-Gone-1: y',
  'x-gone-2: z',
  'X-Keep: keep-me',
  'X-Tail: t',
  'Content-Type: text/plain',
  'Content-Length: 12',
  '',
  'body of text',
].join('\r\n');

/** What the sink received, with the run's ports and our Via's branch masked. */
async function relayed(target: 'kemi' | 'kamailio'): Promise<string> {
  const sink = await udpSink(target);
  const sinkPort = sink.port;
  const port = await freePort();
  const file = writeScript(script(sinkPort));
  const h = await targets.start(target, file, { port });
  let clientPort: number;
  const sent = udpRequest(port, REQUEST.replace('$LPORT', '$LPORT'), 1500);
  let text: string;
  try {
    text = await sink.first;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${h.output().slice(-3000)}`);
  } finally {
    sink.close();
  }
  await sent;
  clientPort = Number(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:(\d+);[^\r\n]*branch=z9hG4bKedit1/m.exec(text)?.[1] ?? 0);
  if (!clientPort) throw new Error(`${target}: the client's Via is missing:\n${text}`);
  return text
    .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY')
    .replace(new RegExp(`\\b${sinkPort}\\b`, 'g'), 'SINK')
    .replace(new RegExp(`\\b${clientPort}\\b`, 'g'), 'CLIENT')
    .replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=z9hG4bK*')
    .replace(/;i=[0-9a-f]+/, '');
}

describe('message edits next to Kamailio 5.6', () => {
  it('the same kx values, edit return codes and relayed message', async () => {
    const { kemi, kam } = await targets.onBoth((t) => relayed(t));
    expect(kemi.split('\r\n')).toEqual(kam.split('\r\n'));
  }, 60_000);
});
