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
];

const SCRIPT = `
function ksr_request_route()
  KSR.pv.sets("$avp(a)", "one")
  KSR.pv.sets("$avp(a)", "two")
${LINES.map((l, i) => `  KSR.xlog.xerr("XL${i}: ${l}\\n")`).join('\n')}
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
  return [...h.output().matchAll(/XL(\d+): ([^\n]*)/g)].map((m) => `${m[1]}: ${m[2]!.replace(/ callId=\S+\s*$/, '').replace(/\s+$/, '')}`);
}

describe('xlog next to Kamailio 5.6', () => {
  it('expands format strings the same way', async () => {
    const { kemi, kam } = await targets.onBoth((t) => lines(t));
    expect(kemi).toHaveLength(LINES.length);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
