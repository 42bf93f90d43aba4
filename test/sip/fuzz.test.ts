/**
 * Seeded random mutations of valid messages, bounded in count: the parser, every hot getter,
 * validation and serialization either work or throw SipParseError, never anything else.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SipMessage, SipParseError, validateRequest } from '../../src/sip/index.js';

const DIR = fileURLToPath(new URL('../fixtures/sip-torture/', import.meta.url));
const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as { messages: { file: string; verdict: string }[] };
const seeds = manifest.messages.filter((m) => m.verdict === 'valid').map((m) => readFileSync(DIR + m.file));
seeds.push(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5070;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\nTo: "x" <sip:c@d>;tag=2\r\nCall-ID: q\r\nCSeq: 7 INVITE\r\nRecord-Route: <sip:p;lr>\r\nContent-Length: 2\r\n\r\nhi'));

/** mulberry32: small, seeded, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [13, 10, 0, 34, 60, 62, 44, 58, 59, 32, 9, 92, 0xff];

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 5);
  const at = Math.floor(rnd() * b.length);
  switch (kind) {
    case 0:
      b[at] = Math.floor(rnd() * 256);
      return b;
    case 1:
      return b.subarray(0, at);
    case 2: {
      const len = Math.floor(rnd() * 40);
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    case 3:
      return Buffer.concat([b.subarray(0, at), Buffer.from([SPECIAL[Math.floor(rnd() * SPECIAL.length)]!]), b.subarray(at)]);
    default: {
      const len = Math.floor(rnd() * 20);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
    }
  }
}

function exercise(buf: Buffer): void {
  const m = SipMessage.parse(buf, { datagram: true });
  const touch = [
    () => m.topVia, () => m.vias(), () => m.from.tag, () => m.to.tag, () => m.callId, () => m.cseq, () => m.maxForwards,
    () => m.routes(), () => m.recordRoutes(), () => m.contacts(), () => (m.isRequest ? m.parsedRuri() : null),
    () => validateRequest(m),
  ];
  for (const t of touch) {
    try {
      t();
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
  m.appendHeader('X-Fuzz: 1\r\n');
  try {
    m.removeTopVia();
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
  }
  SipMessage.parse(m.serialize(), { datagram: true });
}

describe('parser fuzz', () => {
  it('survives 20000 seeded mutations with only SipParseError', () => {
    const rnd = prng(4475);
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      let buf: Buffer = seeds[i % seeds.length]!;
      const rounds = 1 + Math.floor(rnd() * 3);
      for (let r = 0; r < rounds; r++) buf = mutate(buf, rnd);
      try {
        exercise(buf);
      } catch (e) {
        if (!(e instanceof SipParseError)) throw new Error(`mutation ${i} threw ${String(e)}: ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`);
        rejected++;
      }
    }
    // Mutations do break messages; a fuzzer that never hits an error is not exercising anything.
    expect(rejected).toBeGreaterThan(1000);
  }, 60_000);
});
