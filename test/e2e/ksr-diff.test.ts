/**
 * KSR return values next to Kamailio 5.6: one script evaluates a battery of KSR calls on the same
 * request (pv reads and writes, hdr, textops, siputils, corex, maxfwd, core tests) and answers
 * with every result in a header; kemi-proxy and Kamailio must answer the same. This pins down the
 * conventions the unit tests can only assume: int vs bool results, nil vs "" for missing values,
 * what a header added in the same route shows to $hdr, what pv writes show to later reads.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

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

/** Extra modules on both sides: Kamailio's loadmodule/modparam lines and kemi-proxy's equivalent. */
interface Extra {
  kamailio: string;
  modules: string[];
  modparams: Record<string, Record<string, string | number>>;
}

async function results(target: 'kemi' | 'kamailio', text = SCRIPT, extra?: Extra): Promise<string[]> {
  const script = writeScript(text);
  const port = await freePort();
  let args: string[] = [];
  if (extra) {
    const cfg = join(tempDir('kemi-ksrdiff-'), 'kemi.json');
    writeFileSync(cfg, JSON.stringify({ modparams: extra.modparams }));
    args = ['-c', cfg];
  }
  const h = await targets.start(target, script, {
    port, kemiArgs: args, kemiModules: extra ? [...DEFAULT_MODULES, ...extra.modules] : undefined, kamailioModules: extra?.kamailio,
  });
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
    const { kemi, kam } = await targets.onBoth((t) => results(t));
    expect(kemi.length).toBeGreaterThan(90);
    expect(kemi).toEqual(kam);
  }, 60_000);

  it('transformations ({s.*}, {uri.*}, {param.*}, {nameaddr.*}, {tobody.*}) give the same values on both', async () => {
    const { kemi, kam } = await targets.onBoth((t) => results(t, TRANSFORMS_SCRIPT));
    expect(kemi.length).toBeGreaterThan(50);
    expect(kemi).toEqual(kam);
  }, 60_000);

  it('htable, siputils and corex return the same values on both', async () => {
    const extra: Extra = {
      kamailio: 'loadmodule "htable.so"\nmodparam("htable", "htable", "t=>size=4;")\nmodparam("htable", "htable", "e=>size=2;autoexpire=60;initval=7")',
      modules: ['htable'],
      modparams: { htable: { htable: 't=>size=4;', htable2: 'e=>size=2;autoexpire=60;initval=7' } },
    };
    const { kemi, kam } = await targets.onBoth((t) => results(t, MODULES_SCRIPT, extra));
    expect(kemi.length).toBeGreaterThan(60);
    expect(kemi).toEqual(kam);
  }, 60_000);
});

const TRANSFORMS_SCRIPT = `
local out = {}
local function r(spec) out[#out + 1] = spec .. "=" .. tostring(KSR.pv.get(spec)) end

function ksr_request_route()
  out = {}
  KSR.pv.sets("$var(s)", "  Hello,World;x=1  ")
  KSR.pv.sets("$var(p)", "a=1;b=2;c")
  KSR.pv.sets("$var(sep)", ",")
  KSR.pv.sets("$var(u)", "sip:alice:pw@example.com:5070;transport=tcp;lr;x=y?subject=hi")
  KSR.pv.sets("$var(na)", '"Alice A" <sip:alice@example.com;p=1>;tag=t1;expires=5')
  for _, spec in ipairs({
    "$(var(s){s.len})", "$(var(s){s.trim})", "$(var(s){s.trim}{s.len})", "$(var(s){s.tolower})",
    "$(var(s){s.toupper})", "$(var(s){s.substr,2,5})", "$(var(s){s.substr,-4,0})",
    "$(var(s){s.substr,50,1})", "$(var(s){s.select,0,,})", "$(var(s){s.select,1,;})",
    "$(var(s){s.select,-1,,})", "$(var(s){s.select,$var(n),,})", "$(var(s){s.strip,2})",
    "$(var(s){s.striptail,3})", "$(var(s){s.md5})", "$(var(s){s.encode.hexa})",
    "$(var(s){s.encode.hexa}{s.decode.hexa})", "$(var(s){s.int})", "$(cs{s.int})",
    "$(ci{s.len})", "$(rU{s.len})", "$(ru{uri.user})", "$(ru{uri.host})", "$(ru{uri.port})",
    "$(var(u){uri.user})", "$(var(u){uri.passwd})", "$(var(u){uri.host})", "$(var(u){uri.port})",
    "$(var(u){uri.params})", "$(var(u){uri.param,transport})", "$(var(u){uri.param,lr})",
    "$(var(u){uri.param,none})", "$(var(u){uri.transport})", "$(var(u){uri.headers})",
    "$(var(u){uri.scheme})", "$(var(p){param.value,b})", "$(var(p){param.value,c})",
    "$(var(p){param.value,z})", "$(var(p){param.count})", "$(var(p){param.name,1})",
    "$(var(p){param.valueat,0})", "$(var(na){nameaddr.name})", "$(var(na){nameaddr.uri})",
    "$(var(na){nameaddr.len})", "$(var(na){tobody.uri})", "$(var(na){tobody.tag})",
    "$(var(na){tobody.user})", "$(var(na){tobody.host})", "$(var(na){tobody.display})",
    "$(fu{uri.user})", "$(hdr(From){tobody.tag})", "$(hdr(X-Multi){s.len})", "$(avp(none){s.len})",
  }) do
    r(spec)
  end
  for i, line in ipairs(out) do
    KSR.hdr.append_to_reply(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.sl.sl_send_reply(200, "Results")
end
`;

const MODULES_SCRIPT = `
local out = {}
local function r(name, v) out[#out + 1] = name .. "=" .. tostring(v) end
local H = KSR.htable

function ksr_request_route()
  out = {}
  r("sets", H.sht_sets("t", "a", "x"))
  r("seti", H.sht_seti("t", "n", 5))
  r("get a", H.sht_get("t", "a"))
  r("get n", H.sht_get("t", "n"))
  r("get none", H.sht_get("t", "none"))
  r("gete none", H.sht_gete("t", "none"))
  r("getw none", H.sht_getw("t", "none"))
  r("get initval", H.sht_get("e", "none"))
  r("inc n", H.sht_inc("t", "n"))
  r("dec n", H.sht_dec("t", "n"))
  r("inc new", H.sht_inc("t", "newkey"))
  r("inc string", H.sht_inc("t", "a"))
  r("get a after inc", H.sht_get("t", "a"))
  r("inc initval", H.sht_inc("e", "k"))
  r("is_null none", H.sht_is_null("t", "zzz"))
  r("is_null a", H.sht_is_null("t", "a"))
  r("match_name eq", H.sht_match_name("t", "eq", "a"))
  r("match_name eq no", H.sht_match_name("t", "eq", "q"))
  r("match_name re", H.sht_match_name("t", "re", "^n"))
  r("match_name sw", H.sht_match_name("t", "sw", "new"))
  r("match_str_value eq", H.sht_match_str_value("t", "eq", "x"))
  r("match_str_value re", H.sht_match_str_value("t", "re", "^x$"))
  r("setex", H.sht_setex("t", "a", 100))
  r("setxs", H.sht_setxs("t", "b", "y", 60))
  r("setxi", H.sht_setxi("t", "c", 7, 60))
  r("get c", H.sht_get("t", "c"))
  r("$sht(t=>a)", KSR.pv.get("$sht(t=>a)"))
  KSR.pv.sets("$sht(t=>p)", "v")
  r("$sht(t=>p)", KSR.pv.get("$sht(t=>p)"))
  KSR.pv.seti("$sht(t=>q)", 3)
  r("$sht(t=>q)", KSR.pv.get("$sht(t=>q)"))
  r("$shtcn(t=>a)", KSR.pv.get("$shtcn(t=>a)"))
  r("$shtcv(t=>x)", KSR.pv.get("$shtcv(t=>x)"))
  r("$shtinc(t=>q)", KSR.pv.get("$shtinc(t=>q)"))
  r("$shtdec(t=>q)", KSR.pv.get("$shtdec(t=>q)"))
  r("rm", H.sht_rm("t", "b"))
  r("rm none", H.sht_rm("t", "b"))
  r("rm_name_re", H.sht_rm_name_re("t", "^c"))
  r("rm_value_re", H.sht_rm_value_re("t", "^v$"))
  r("rm_name sw", H.sht_rm_name("t", "sw", "new"))
  r("rm_value eq", H.sht_rm_value("t", "eq", "3"))
  local keys = {}
  r("iterator_start", H.sht_iterator_start("i", "t"))
  while H.sht_iterator_next("i") > 0 do
    keys[#keys + 1] = KSR.pv.get("$shtitkey(i)") .. ":" .. tostring(KSR.pv.get("$shtitval(i)"))
  end
  r("iterator_end", H.sht_iterator_end("i"))
  table.sort(keys)
  r("items", table.concat(keys, ","))
  r("reset", H.sht_reset("t"))
  r("get a after reset", H.sht_get("t", "a"))
  r("sets unknown table", H.sht_sets("nosuch", "a", "b"))
  r("get unknown table", H.sht_get("nosuch", "a"))

  local S = KSR.siputils
  r("is_reply", S.is_reply())
  r("is_first_hop", S.is_first_hop())
  r("is_uri good", S.is_uri("sip:a@b.c"))
  r("is_uri bad", S.is_uri("not a uri"))
  r("is_tel_number", S.is_tel_number("+49301234"))
  r("is_tel_number no", S.is_tel_number("49a"))
  r("is_numeric", S.is_numeric("0123"))
  r("is_numeric no", S.is_numeric("12a"))
  r("is_alphanum", S.is_alphanum("ab12"))
  r("is_alphanum no", S.is_alphanum("ab-12"))
  r("is_alphanumex", S.is_alphanumex("ab-12", "-"))
  r("cmp_uri same", S.cmp_uri("sip:Alice@Kemi.test;transport=udp", "sip:Alice@kemi.test;transport=UDP"))
  r("cmp_uri user case", S.cmp_uri("sip:alice@kemi.test", "sip:Alice@kemi.test"))
  r("cmp_aor", S.cmp_aor("sip:alice@kemi.test:5060", "sip:alice@kemi.test"))
  r("cmp_hdr_name", S.cmp_hdr_name("From", "f"))
  r("cmp_hdr_name no", S.cmp_hdr_name("From", "To"))
  r("is_gruu", S.is_gruu())
  r("is_user", S.is_user("bob"))

  local C = KSR.corex
  r("is_faked_msg", C.is_faked_msg())
  r("isxflagset 4", C.isxflagset(4))
  r("setxflag 4", C.setxflag(4))
  r("isxflagset 4 after", C.isxflagset(4))
  r("resetxflag 4", C.resetxflag(4))
  r("isxflagset 4 reset", C.isxflagset(4))
  r("append_branch_uri", C.append_branch_uri("sip:x@kemi.test"))
  r("append_branch_uri_q", C.append_branch_uri_q("sip:y@kemi.test", "0.5"))
  r("$branch(uri)", KSR.pv.get("$branch(uri)"))
  r("$(branch(uri)[1])", KSR.pv.get("$(branch(uri)[1])"))
  r("$branch(q)[1]", KSR.pv.get("$(branch(q)[1])"))
  r("$branch(count)", KSR.pv.get("$branch(count)"))
  for i, line in ipairs(out) do
    KSR.hdr.append_to_reply(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.sl.sl_send_reply(200, "Results")
end
`;
