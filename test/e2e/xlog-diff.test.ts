/**
 * xlog format strings next to Kamailio 5.6: the same KSR.xlog.xerr lines (PVs, PVs with
 * transformations and indexes, unknown and null variables, `$$`, text around them) must expand
 * to the same text in both proxies' logs. Kamailio's debug level in the test config is 0, so the
 * lines go out at err level.
 */
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const LINES = [
  'ru=$ru rU=$rU fu=$fu ft=$ft ci=$ci',
  'mixed:$rm/$cs;$$literal dollars$$',
  'null avp=[$avp(none)] var=[$var(none)] hdr=[$hdr(X-None)]',
  'hdr=[$hdr(X-Multi)] idx=[$(hdr(X-Multi)[1])] cnt=$hdrc(X-Multi)',
  'tr=[$(ru{uri.user}{s.toupper})] len=$(ci{s.len})',
  'avp=[$avp(a)] all=[$(avp(a)[*])]',
  'trailing text without pv',
  'dotted var=[$var(x.y)] shv=[$shv(a.b)] after=$var(x.y).tail len=$(var(x.y){s.len}) sp=[$(var(x.y){s.select,1,.})]',
  'nested treq=[$T_req($hdr(X-Multi))] hdr.dot=[$hdr(X-Dot.Name)] last=[$(hdr(X-Multi)[-1])] brace=$(ci{s.substr,0,4}){x} paren=($rm)',
  // Kamailio's PV names include '.': these name PVs that do not exist, so nothing is logged.
  'ru.dot=$ru.end',
  'ci.cs=$ci.$cs',
  'rU_=$rU_x',
];

const SCRIPT = `
function ksr_request_route()
  KSR.pv.sets("$avp(a)", "one")
  KSR.pv.sets("$avp(a)", "two")
  KSR.pv.sets("$var(x.y)", "v.x.y")
  KSR.pv.sets("$shv(a.b)", "s.a.b")
${LINES.map((l, i) => `  KSR.pv.sets("$var(rc${i})", tostring(KSR.xlog.xerr("XL${i}: ${l}\\n")))`).join('\n')}
  KSR.xlog.xerr("XR: ${LINES.map((_, i) => `$var(rc${i})`).join(' ')}\\n")
  KSR.sl.sl_send_reply(200, "Logged")
end
`;

const REQUEST = [
  'OPTIONS sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKxlog1',
  'Max-Forwards: 70',
  'From: <sip:alice@kemi.test>;tag=x1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: xlog-diff-1@kemi.test',
  'CSeq: 3 OPTIONS',
  'X-Multi: a',
  'X-Multi: b',
  'X-Dot.Name: dotted',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function lines(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const port = await freePort();
  const file = writeScript(SCRIPT);
  const h = await targets.start(target, file, { port });
  const ex = await udpRequest(port, REQUEST);
  expect(ex.final).toBe(200);
  await new Promise((r) => setTimeout(r, 200));
  // The text after "XLn: " up to the end of the line; kemi-proxy's lines end with the Call-ID.
  return [...h.output().matchAll(/(?:<script>: |ERR: )X(L\d+|R): ([^\n]*)/g)].map((m) => `${m[1]}: ${m[2]!.replace(/ callId=\S+\s*$/, '').replace(/\s+$/, '')}`);
}

describe('xlog next to Kamailio 5.6', () => {
  it('expands format strings the same way', async () => {
    const { kemi, kam } = await targets.onBoth((t) => lines(t));
    expect(kemi).toHaveLength(LINES.length - 3 + 1);
    expect(kemi.at(-1)).toMatch(/ -1 -1 -1$/);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
