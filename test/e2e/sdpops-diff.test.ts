/**
 * sdpops and cfgutils next to Kamailio 5.6: one script runs a set of sdpops tests and edits chosen
 * by the request's X-Case header (return codes and AVPs recorded in X-R headers), plus cfgutils'
 * core_hash / rand_get_prob / lock codes, and forwards the request statelessly to a UDP sink.
 * Both must return the same codes and relay the same message (ports and branch masked).
 */
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (sinkPort: number): string => `
local out = {}
local function r(name, v) out[#out + 1] = name .. "=" .. tostring(v) end
local S = KSR.sdpops

function ksr_request_route()
  out = {}
  local case = KSR.hdr.get("X-Case")
  if case == "1" then
    r("remove_codecs_by_name", S.remove_codecs_by_name("PCMA,telephone-event", ""))
    r("with_codecs_by_name PCMU,G729", S.sdp_with_codecs_by_name("PCMU,G729"))
    r("with_codecs_by_name PCMU,GSM", S.sdp_with_codecs_by_name("PCMU,GSM"))
    r("with_codecs_by_name nope", S.sdp_with_codecs_by_name("nope"))
    r("with_codecs_by_id 0,99", S.sdp_with_codecs_by_id("0,99"))
    r("with_codecs_by_id 98", S.sdp_with_codecs_by_id("98"))
    r("with_media audio", S.sdp_with_media("audio"))
    r("with_media AUDIO", S.sdp_with_media("AUDIO"))
    r("with_media image", S.sdp_with_media("image"))
    r("with_active_media video", S.sdp_with_active_media("video"))
    r("with_active_media audio", S.sdp_with_active_media("audio"))
    r("with_transport", S.sdp_with_transport("RTP/AVP"))
    r("with_transport SAVP", S.sdp_with_transport("RTP/SAVP"))
    r("with_transport_like", S.sdp_with_transport_like("AVP"))
    r("with_ice", S.sdp_with_ice())
    r("content", S.sdp_content())
    r("content_flags 1", S.sdp_content_flags(1))
    r("core_hash", KSR.cfgutils.core_hash("alice@kemi.test", "x", 6))
    r("core_hash 0", KSR.cfgutils.core_hash("Bob", "", 0))
    r("rand_get_prob", KSR.cfgutils.rand_get_prob())
    r("lock", KSR.cfgutils.lock("k1"))
    r("trylock other", KSR.cfgutils.trylock("k2"))
    r("unlock", KSR.cfgutils.unlock("k1"))
    r("unlock k2", KSR.cfgutils.unlock("k2"))
  elseif case == "2" then
    r("keep_codecs_by_name PCMU,CN,PCMA", S.keep_codecs_by_name("PCMU,CN,PCMA", ""))
    r("get_line_startswith", S.sdp_get_line_startswith("$avp(l)", "a=rtpmap:101"))
    r("$avp(l)", KSR.pv.get("$avp(l)"))
    r("get_line_startswith none", S.sdp_get_line_startswith("$avp(l2)", "a=nothing"))
    r("sdp_get", S.sdp_get("$avp(s)"))
    r("#$avp(s)", #KSR.pv.get("$avp(s)"))
  elseif case == "3" then
    r("keep_codecs_by_id 8 audio", S.keep_codecs_by_id("8", "audio"))
    r("remove_line_by_prefix a=ptime", S.remove_line_by_prefix("a=ptime", ""))
  elseif case == "4" then
    r("remove_media video", S.remove_media("video"))
    r("remove_line_by_prefix a=rtcp audio", S.remove_line_by_prefix("a=rtcp", "audio"))
    r("remove_line_by_prefix a=rtpmap", S.remove_line_by_prefix("a=rtpmap", ""))
  elseif case == "5" then
    r("remove_codecs_by_id 0,101 audio", S.remove_codecs_by_id("0,101", "audio"))
    r("transport", S.sdp_transport("$avp(t)"))
    r("$avp(t)", KSR.pv.get("$avp(t)"))
    r("keep_codecs_by_name G729", S.keep_codecs_by_name("G729", "video"))
  else
    r("with_media no body", S.sdp_with_media("audio"))
    r("content no body", S.sdp_content())
    r("remove_codecs_by_id no body", S.remove_codecs_by_id("0", ""))
    r("sdp_get no body", S.sdp_get("$avp(x)"))
    r("with_codecs_by_id no body", S.sdp_with_codecs_by_id("0"))
    r("transport no body", S.sdp_transport("$avp(t)"))
  end
  for i, line in ipairs(out) do
    KSR.hdr.append(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.forward_uri("sip:127.0.0.1:${sinkPort}")
end
`;

const SDP = [
  'v=0',
  'o=- 123 456 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 13 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtcp:4001',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=inactive',
  'a=candidate:1 1 UDP 2130706431 127.0.0.1 4000 typ host',
  '',
].join('\r\n');

const request = (n: string, body: boolean): string => [
  'INVITE sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKsdp' + n,
  'Max-Forwards: 20',
  'From: <sip:alice@kemi.test>;tag=f' + n,
  'To: <sip:bob@kemi.test>',
  `Call-ID: sdpops-${n}@kemi.test`,
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@127.0.0.1:5999>',
  `X-Case: ${n}`,
  ...(body ? ['Content-Type: application/sdp', `Content-Length: ${SDP.length}`, '', SDP] : ['Content-Length: 0', '', '']),
].join('\r\n');

const CASES = ['1', '2', '3', '4', '5', '6'];

async function relayed(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const sinkPort = (sink.address() as { port: number }).port;
  const got: string[] = [];
  sink.on('message', (m) => got.push(m.toString('latin1')));
  const port = await freePort();
  const h = await targets.start(target, writeScript(script(sinkPort)), {
    port,
    kemiModules: ['pv', 'hdr', 'kx', 'sl', 'sdpops', 'cfgutils'],
    kamailioModules: 'loadmodule "sdpops.so"\nloadmodule "cfgutils.so"',
  });
  try {
    for (const n of CASES) {
      const before = got.length;
      void udpRequest(port, request(n, n !== '6'), 300);
      const until = Date.now() + 3000;
      while (got.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      if (got.length === before) throw new Error(`${target}: case ${n} reached no sink\n${h.output().slice(-3000)}`);
    }
  } finally {
    sink.close();
  }
  return got.map((t) => t
    .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY')
    .replace(new RegExp(`\\b${sinkPort}\\b`, 'g'), 'SINK')
    .replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=z9hG4bK*')
    .replace(/(Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5999;branch=z9hG4bKsdp\d)(;rport=\d+)?/, '$1'));
}

describe('sdpops and cfgutils next to Kamailio 5.6', () => {
  it('the same return codes, AVPs and edited SDP', async () => {
    const { kemi, kam } = await targets.onBoth((t) => relayed(t));
    expect(kemi.length).toBe(CASES.length);
    for (let i = 0; i < CASES.length; i++) expect(kemi[i]!.split('\r\n')).toEqual(kam[i]!.split('\r\n'));
  }, 60_000);
});
