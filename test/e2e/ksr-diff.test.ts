/**
 * KSR return values next to Kamailio 5.6: one script evaluates a battery of KSR calls on the same
 * request (pv reads and writes, hdr, textops, siputils, corex, maxfwd, core tests) and answers
 * with every result in a header; kemi-proxy and Kamailio must answer the same. This pins down the
 * conventions the unit tests can only assume: int vs bool results, nil vs "" for missing values,
 * what a header added in the same route shows to $hdr, what pv writes show to later reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startProxy, writeScript } from './harness.js';
import { startKamailio } from './kamailio.js';
import { udpRequest } from './udp-client.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

const SCRIPT = `
local out = {}
local function r(name, v) out[#out + 1] = name .. "=" .. tostring(v) end

function ksr_request_route()
  out = {}
  r("is_OPTIONS", KSR.is_OPTIONS())
  r("is_method_in OI", KSR.is_method_in("OI"))
  r("is_method_in IR", KSR.is_method_in("IR"))
  r("is_myself_ruri", KSR.is_myself_ruri())
  r("is_myself_furi", KSR.is_myself_furi())
  r("is_myself_turi", KSR.is_myself_turi())
  for _, pv in ipairs({"$ru", "$rU", "$rd", "$rp", "$rz", "$fu", "$fU", "$fd", "$fn", "$ft",
      "$tu", "$tU", "$td", "$tn", "$tt", "$ci", "$cs", "$rm", "$ua", "$si", "$pr", "$proto",
      "$cl", "$ct", "$du", "$hdr(X-Multi)", "$hdr(x-multi)", "$hdr(X-None)", "$hdrc(X-Multi)",
      "$(hdr(X-Multi)[1])", "$(hdr(X-Multi)[-1])", "$hdr(Subject)", "$rb", "$mi", "$var(unset)",
      "$avp(unset)", "$xavp(none=>x)", "$T_branch_idx", "$Ri", "$Rp"}) do
    r("pv.get " .. pv, KSR.pv.get(pv))
  end
  r("pv.gete $avp(unset)", KSR.pv.gete("$avp(unset)"))
  r("pv.getvn $var(unset)", KSR.pv.getvn("$var(unset)", 5))
  r("pv.getvs $avp(unset)", KSR.pv.getvs("$avp(unset)", "dflt"))
  r("pv.getw $avp(unset)", KSR.pv.getw("$avp(unset)"))
  r("pv.is_null $avp(unset)", KSR.pv.is_null("$avp(unset)"))
  r("pv.is_null $var(unset)", KSR.pv.is_null("$var(unset)"))
  KSR.pv.sets("$avp(a)", "one")
  KSR.pv.sets("$avp(a)", "two")
  r("$avp(a) after two sets", KSR.pv.get("$avp(a)"))
  r("$(avp(a)[1])", KSR.pv.get("$(avp(a)[1])"))
  KSR.pv.seti("$var(n)", 41)
  r("$var(n)", KSR.pv.get("$var(n)"))
  KSR.pv.sets("$var(n)", "text")
  r("$var(n) as string", KSR.pv.get("$var(n)"))
  KSR.pv.unset("$avp(a)")
  r("$avp(a) after unset", KSR.pv.get("$avp(a)"))
  KSR.pv.sets("$avp(b)", "1")
  KSR.pv.sets("$avp(b)", "2")
  KSR.pv.sets("$avp(b)", "3")
  r("$(avp(b)[*])", KSR.pv.get("$(avp(b)[*])"))
  r("$(avp(b)[-1])", KSR.pv.get("$(avp(b)[-1])"))
  KSR.pv.unset("$(avp(b)[*])")
  r("$avp(b) after unset all", KSR.pv.get("$avp(b)"))
  KSR.pv.sets("$xavp(x=>a)", "1")
  KSR.pv.sets("$xavp(x[0]=>b)", "2")
  r("$xavp(x=>a)", KSR.pv.get("$xavp(x=>a)"))
  r("$xavp(x=>b)", KSR.pv.get("$xavp(x=>b)"))
  KSR.pv.sets("$xavp(x=>a)", "3")
  r("$xavp(x=>a) new item", KSR.pv.get("$xavp(x=>a)"))
  r("$xavp(x[1]=>a)", KSR.pv.get("$xavp(x[1]=>a)"))
  r("$xavp(x[0]=>b) new item", KSR.pv.get("$xavp(x[0]=>b)"))
  KSR.pv.sets("$xavp(x[1]=>a)", "4")
  r("$xavp(x[1]=>a[0])", KSR.pv.get("$xavp(x[1]=>a[0])"))
  r("$xavp(x[1]=>a[1])", KSR.pv.get("$xavp(x[1]=>a[1])"))
  KSR.pv.unset("$xavp(x[1]=>a)")
  r("$xavp(x[1]=>a) after unset", KSR.pv.get("$xavp(x[1]=>a)"))
  KSR.pv.unset("$xavp(x)")
  r("$xavp(x=>a) after unset root", KSR.pv.get("$xavp(x=>a)"))
  r("siputils.uri_param_any", KSR.siputils.uri_param_any("transport"))
  r("siputils.uri_param_value", KSR.siputils.uri_param_value("transport", "udp"))
  KSR.pv.sets("$ru", "sip:carol@kemi.test:5070;transport=udp")
  r("$ru after set", KSR.pv.get("$ru"))
  r("$rU after set", KSR.pv.get("$rU"))
  r("$rp after set", KSR.pv.get("$rp"))
  r("is_myself_ruri after set", KSR.is_myself_ruri())
  KSR.pv.sets("$rU", "dave")
  r("$ru after $rU", KSR.pv.get("$ru"))
  KSR.setdsturi("sip:127.0.0.1:5999")
  r("$du", KSR.pv.get("$du"))
  r("isdsturiset", KSR.isdsturiset())
  KSR.resetdsturi()
  r("$du after reset", KSR.pv.get("$du"))
  r("isdsturiset after reset", KSR.isdsturiset())
  r("hdr.is_present X-Multi", KSR.hdr.is_present("X-Multi"))
  r("hdr.is_present X-None", KSR.hdr.is_present("X-None"))
  r("hdr.append", KSR.hdr.append("X-Added: 1\\r\\n"))
  r("$hdr(X-Added) same route", KSR.pv.get("$hdr(X-Added)"))
  r("hdr.is_present X-Added", KSR.hdr.is_present("X-Added"))
  r("hdr.remove X-Multi", KSR.hdr.remove("X-Multi"))
  r("$hdr(X-Multi) after remove", KSR.pv.get("$hdr(X-Multi)"))
  r("hdr.remove X-None", KSR.hdr.remove("X-None"))
  r("textops.search", KSR.textops.search("^X-Multi: b"))
  r("textops.search no", KSR.textops.search("nomatch-xyz"))
  r("textops.is_present_hf", KSR.textops.is_present_hf("Subject"))
  r("textops.is_present_hf_re", KSR.textops.is_present_hf_re("^X-M"))
  r("textops.has_body", KSR.textops.has_body())
  r("textops.search_hf", KSR.textops.search_hf("Subject", "hel+o", "a"))
  r("textops.cmp_str", KSR.textops.cmp_str("abc", "abd"))
  r("textops.starts_with", KSR.textops.starts_with("$rU", "da"))
  r("textops.subst_hf", KSR.textops.subst_hf("Subject", "/hello/bye/", "a"))
  r("$hdr(Subject) after subst_hf", KSR.pv.get("$hdr(Subject)"))
  r("siputils.has_totag", KSR.siputils.has_totag())
  r("siputils.is_request", KSR.siputils.is_request())
  r("siputils.uri_param", KSR.siputils.uri_param("transport"))
  r("siputils.is_user", KSR.siputils.is_user("alice"))
  r("corex.has_ruri_user", KSR.corex.has_ruri_user())
  r("corex.has_user_agent", KSR.corex.has_user_agent())
  r("maxfwd.is_maxfwd_lt 80", KSR.maxfwd.is_maxfwd_lt(80))
  r("maxfwd.is_maxfwd_lt 10", KSR.maxfwd.is_maxfwd_lt(10))
  r("maxfwd.process_maxfwd", KSR.maxfwd.process_maxfwd(10))
  r("maxfwd again", KSR.maxfwd.process_maxfwd(10))
  r("isflagset 3", KSR.isflagset(3))
  KSR.setflag(3)
  r("isflagset 3 after set", KSR.isflagset(3))
  r("isbflagset 2", KSR.isbflagset(2))
  KSR.setbflag(2)
  r("isbflagset 2 after set", KSR.isbflagset(2))
  r("sanity_check", KSR.sanity.sanity_check(1511, 7))
  r("x.modf", KSR.x.modf("is_present_hf", "Subject"))
  for i, line in ipairs(out) do
    KSR.hdr.append_to_reply(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.sl.sl_send_reply(200, "Results")
end
`;

const REQUEST = [
  'OPTIONS sip:bob@kemi.test;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKksrdiff1;rport',
  'Max-Forwards: 20',
  'From: "Alice A" <sip:alice@kemi.test>;tag=fromtag1',
  'To: Bob <sip:bob@kemi.test>',
  'Call-ID: ksr-diff-1@kemi.test',
  'CSeq: 42 OPTIONS',
  'User-Agent: diff-ua/1.0',
  'Subject: hello world',
  'X-Multi: a',
  'X-Multi: b, c',
  'Content-Type: text/plain',
  'Content-Length: 5',
  '',
  'body!',
].join('\r\n');

async function results(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const script = writeScript(SCRIPT);
  const port = await freePort();
  const h = target === 'kemi'
    ? await startProxy({ script, port, protos: ['udp'], extraArgs: ['--alias', 'kemi.test'] })
    : await startKamailio(script, { port, children: 1 });
  running.push(h);
  const ex = await udpRequest(port, REQUEST);
  const reply = ex.replies.find((r) => r.startsWith('SIP/2.0 200'));
  if (!reply) throw new Error(`${target}: no 200 reply: ${ex.replies.join('\n') || '(nothing)'}\n${h.output().slice(-3000)}`);
  const client = /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:(\d+)/m.exec(reply)?.[1];
  if (!client) throw new Error(`${target}: no Via in the reply:\n${reply}`);
  // The reply's own headers (Server aside) and every result; the run's ports masked.
  return reply.split('\r\n').filter((l) => l && !/^(Server|Content-Length):/i.test(l))
    .map((l) => (l.startsWith('X-R') ? l.slice(l.indexOf(':') + 2) : l)
      .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PORT').replace(new RegExp(`\\b${client}\\b`, 'g'), 'CLIENT')
      .replace(/;tag=[0-9a-f.-]+$/, ';tag=OURS'));
}

describe('KSR results next to Kamailio 5.6', () => {
  it('a battery of KSR calls returns the same values on both', async () => {
    const kemi = await results('kemi');
    await Promise.all(running.map((h) => h.stop()));
    running = [];
    const kam = await results('kamailio');
    expect(kemi.length).toBeGreaterThan(90);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
