/**
 * Parser benchmark (not a test): parse + read the hot headers + one change + serialize, for a
 * SIPp INVITE and a 200 OK, with kemi-proxy's SipMessage and with drachtio-srf's bundled parser
 * (Srf.SipMessage) on the same messages. Prints messages/s for each and the ratio.
 *
 *   npm run bench:parser
 */
import { createRequire } from 'node:module';
import { SipMessage } from '../src/sip/index.js';

const require = createRequire(import.meta.url);

interface DrachtioMessage {
  get(h: string): string;
  getParsedHeader(h: string): unknown;
  set(h: string, v: string): void;
  toString(): string;
}
const Srf = require('drachtio-srf') as { SipMessage: new (raw: string) => DrachtioMessage };

const INVITE =
  'INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-8023-1-0\r\n' +
  'From: sipp <sip:sipp@127.0.0.1:5061>;tag=8023SIPpTag001\r\n' +
  'To: service <sip:service@127.0.0.1:5060>\r\n' +
  'Call-ID: 1-8023@127.0.0.1\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'Contact: sip:sipp@127.0.0.1:5061\r\n' +
  'Max-Forwards: 70\r\n' +
  'Route: <sip:127.0.0.1:5060;lr>\r\n' +
  'Subject: Performance Test\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 129\r\n\r\n' +
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

const OK200 =
  'SIP/2.0 200 OK\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKab12cd34, SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-8023-1-0\r\n' +
  'Record-Route: <sip:127.0.0.1:5060;lr;ftag=8023SIPpTag001>\r\n' +
  'From: sipp <sip:sipp@127.0.0.1:5061>;tag=8023SIPpTag001\r\n' +
  'To: service <sip:service@127.0.0.1:5060>;tag=8020SIPpTag011\r\n' +
  'Call-ID: 1-8023@127.0.0.1\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'Contact: <sip:127.0.0.1:5062;transport=UDP>\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 129\r\n\r\n' +
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

let sink = 0;

function kemiInvite(buf: Buffer): void {
  const m = SipMessage.parse(buf);
  sink += m.topVia.branch!.length + (m.from.tag?.length ?? 0) + (m.to.tag?.length ?? 0) + m.callId.length + m.cseq.seq + (m.maxForwards ?? 0) + m.routes().length;
  m.prependVia('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbench1');
  sink += m.serialize().length;
}

function kemiReply(buf: Buffer): void {
  const m = SipMessage.parse(buf);
  sink += m.topVia.branch!.length + (m.from.tag?.length ?? 0) + (m.to.tag?.length ?? 0) + m.callId.length + m.cseq.seq;
  m.removeTopVia();
  sink += m.serialize().length;
}

function drachtioInvite(raw: string): void {
  const m = new Srf.SipMessage(raw);
  const via = m.getParsedHeader('via') as { params?: { branch?: string } }[];
  const from = m.getParsedHeader('from') as { params?: { tag?: string } };
  const to = m.getParsedHeader('to') as { params?: { tag?: string } };
  sink += (via[0]?.params?.branch?.length ?? 0) + (from.params?.tag?.length ?? 0) + (to.params?.tag?.length ?? 0);
  sink += m.get('call-id').length + parseInt(m.get('cseq'), 10) + parseInt(m.get('max-forwards'), 10) + (m.get('route') ? 1 : 0);
  m.set('via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbench1');
  sink += m.toString().length;
}

function drachtioReply(raw: string): void {
  const m = new Srf.SipMessage(raw);
  const via = m.getParsedHeader('via') as { params?: { branch?: string } }[];
  const from = m.getParsedHeader('from') as { params?: { tag?: string } };
  const to = m.getParsedHeader('to') as { params?: { tag?: string } };
  sink += (via[0]?.params?.branch?.length ?? 0) + (from.params?.tag?.length ?? 0) + (to.params?.tag?.length ?? 0);
  sink += m.get('call-id').length + parseInt(m.get('cseq'), 10);
  m.set('via', 'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-8023-1-0');
  sink += m.toString().length;
}

/**
 * Messages per second of `a` and of `b`, measured in alternating 100 ms slices (20 of each after
 * a warm-up) so that the machine's changing speed hits both alike: the ratio is what matters.
 */
function measurePair(a: () => void, b: () => void, slices = 20, sliceMs = 100): [number, number] {
  for (let i = 0; i < 20_000; i++) {
    a();
    b();
  }
  const run = (fn: () => void): [number, number] => {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < sliceMs) {
      for (let i = 0; i < 500; i++) fn();
      n += 500;
      t = performance.now();
    }
    return [n, t - t0];
  };
  let na = 0;
  let ta = 0;
  let nb = 0;
  let tb = 0;
  for (let s = 0; s < slices; s++) {
    const [n1, t1] = run(a);
    const [n2, t2] = run(b);
    na += n1;
    ta += t1;
    nb += n2;
    tb += t2;
  }
  return [(na / ta) * 1000, (nb / tb) * 1000];
}

const inviteBuf = Buffer.from(INVITE, 'latin1');
const okBuf = Buffer.from(OK200, 'latin1');
const rows: [string, number, number][] = [
  ['INVITE (parse, hot headers, add Via, serialize)', ...measurePair(() => kemiInvite(inviteBuf), () => drachtioInvite(INVITE))],
  ['200 OK (parse, hot headers, drop top Via, serialize)', ...measurePair(() => kemiReply(okBuf), () => drachtioReply(OK200))],
];
for (const [name, k, d] of rows) {
  console.log(`${name}\n  kemi-proxy  ${Math.round(k).toLocaleString('en')} msg/s\n  drachtio    ${Math.round(d).toLocaleString('en')} msg/s\n  ratio       ${(k / d).toFixed(1)}x`);
}
if (sink === 42) console.log('');
