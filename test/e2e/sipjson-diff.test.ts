/**
 * sipjson next to Kamailio 5.6: sj_serialize with every mode character, before and after the
 * R-URI is rewritten, gives the same JSON text (put in headers of the relayed request).
 */
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { udpSink, useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (sinkPort: number): string => `
function ksr_request_route()
  local r1 = KSR.sipjson.sj_serialize("0", "$var(a)")
  KSR.hdr.append("X-J1: " .. r1 .. " " .. KSR.pv.get("$var(a)") .. "\\r\\n")
  KSR.setuser("carol")
  local r2 = KSR.sipjson.sj_serialize("Bct", "$avp(b)")
  KSR.hdr.append("X-J2: " .. r2 .. " " .. KSR.pv.get("$avp(b)") .. "\\r\\n")
  KSR.forward_uri("sip:127.0.0.1:${sinkPort}")
end
`;

const BODY = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns="quoted" \\ \t tab\r\n';
const REQUEST = [
  'INVITE sip:bob@kemi.test:5080;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKsj1',
  'Max-Forwards: 20',
  'From: "A" <sip:alice@example.org>;tag=f1',
  'To: <sips:bob@kemi.test>',
  'Call-ID: sipjson-1@kemi.test',
  'CSeq: 42 INVITE',
  'User-Agent: tester/1.0 (x"y)',
  'Content-Type: application/sdp',
  `Content-Length: ${BODY.length}`,
  '',
  BODY,
].join('\r\n');

async function relayed(target: 'kemi' | 'kamailio'): Promise<string> {
  const sink = await udpSink(target);
  const port = await freePort();
  const h = await targets.start(target, writeScript(script(sink.port)), {
    port,
    kemiModules: ['pv', 'hdr', 'kx', 'sl', 'sipjson'],
    kamailioModules: 'loadmodule "sipjson.so"',
  });
  void udpRequest(port, REQUEST, 500);
  let text: string;
  try {
    text = await sink.first;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${h.output().slice(-3000)}`);
  } finally {
    sink.close();
  }
  const sp = /"sp":(\d+)/.exec(text)?.[1] ?? 'none';
  return text
    .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY')
    .replace(new RegExp(`\\b${sink.port}\\b`, 'g'), 'SINK')
    .replace(new RegExp(`\\b${sp}\\b`, 'g'), 'CLIENT')
    .replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=z9hG4bK*')
    .replace(/;rport=\d+/, '');
}

describe('sipjson next to Kamailio 5.6', () => {
  it('the same serialization', async () => {
    const { kemi, kam } = await targets.onBoth((t) => relayed(t));
    expect(kemi).toContain('X-J1: 1 {"mt":2,"rm":"INVITE"');
    expect(kemi.split('\r\n')).toEqual(kam.split('\r\n'));
  }, 60_000);
});
