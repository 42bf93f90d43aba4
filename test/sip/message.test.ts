/**
 * The SIP message layer: parsing, lazy header values, URIs (RFC 3261 19.1.4 comparison),
 * name-addr, edits spliced into the original bytes, reply building and stream framing.
 */
import { describe, expect, it } from 'vitest';
import {
  SipFramingError, SipMessage, SipParseError, buildReply, findMessageEnd, formatUri, parseNameAddr, parseUri, unescape, uriEquals,
} from '../../src/sip/index.js';

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds ,SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bK1;received=10.0.0.1',
  'Max-Forwards: 70',
  't: Bob <sip:bob@biloxi.example.com>',
  'f: "Alice, \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774',
  'i: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'm: <sip:alice@pc33.atlanta.example.com>;expires=60, "Other, Name" <sip:o@x.example.com>',
  'Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>',
  'Subject: folded',
  '  value',
  'X-Unknown:   keep   spacing  ',
  'c: application/sdp',
  'l: 3',
  '',
  'v=0',
].join('\r\n');

const parse = (s: string, datagram = true): SipMessage => SipMessage.parse(Buffer.from(s, 'latin1'), { datagram });

describe('SipMessage parsing', () => {
  const m = parse(INVITE);

  it('reads the start line and compact headers', () => {
    expect(m.isRequest).toBe(true);
    expect(m.method).toBe('INVITE');
    expect(m.ruri).toBe('sip:bob@biloxi.example.com');
    expect(m.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.maxForwards).toBe(70);
    expect(m.contentType).toBe('application/sdp');
    expect(m.body.toString()).toBe('v=0');
    expect(m.header('CALL-ID')).toBe(m.header('i'));
  });

  it('splits multi-value headers around quotes and <...>', () => {
    const vias = m.vias();
    expect(vias.map((v) => [v.transport, v.host, v.port, v.branch])).toEqual([
      ['UDP', 'pc33.atlanta.example.com', undefined, 'z9hG4bK776asdhds'],
      ['TCP', 'proxy.example.com', 5070, 'z9hG4bK1'],
    ]);
    expect(vias[1]!.received).toBe('10.0.0.1');
    expect(m.contacts().map((c) => c.uri)).toEqual(['sip:alice@pc33.atlanta.example.com', 'sip:o@x.example.com']);
    expect(m.contacts()[1]!.displayName).toBe('Other, Name');
    expect(m.routes().map((r) => r.uri)).toEqual(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    expect(m.from.displayName).toBe('Alice, "A"');
    expect(m.from.tag).toBe('1928301774');
    expect(m.to.tag).toBeUndefined();
  });

  it('unfolds folded lines and keeps unknown headers', () => {
    expect(m.header('subject')).toBe('folded value');
    expect(m.header('x-unknown')).toBe('keep   spacing');
  });

  it('caches parsed values', () => {
    expect(m.from).toBe(m.from);
    expect(m.topVia).toBe(m.topVia);
  });

  it('bounds the body by Content-Length and the datagram', () => {
    const extra = parse(INVITE + 'JUNK');
    expect(extra.body.toString()).toBe('v=0');
    expect(() => parse(INVITE.replace('l: 3', 'l: 40'))).toThrow(SipParseError);
    const noCl = parse(INVITE.replace('l: 3\r\n', ''));
    expect(noCl.body.toString()).toBe('v=0');
    expect(() => parse(INVITE.replace('l: 3\r\n', ''), false)).toThrow(/Content-Length/);
  });

  it('skips leading CRLFs and gives responses their status', () => {
    const r = parse('\r\n\r\nSIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n');
    expect(r.isRequest).toBe(false);
    expect([r.status, r.reason, r.method]).toEqual([180, 'Ringing', 'INVITE']);
    expect(r.to.tag).toBe('2');
  });

  it('rejects with the status a request deserves, drops bad responses', () => {
    const err = (s: string): number => {
      try {
        parse(s);
      } catch (e) {
        return (e as SipParseError).status;
      }
      return -1;
    };
    expect(err(INVITE.replace('SIP/2.0\r\nv:', 'SIP/3.0\r\nv:'))).toBe(505);
    expect(err('SIP/2.0 99999 Big\r\n\r\n')).toBe(0);
    expect(err('garbage\r\n\r\n')).toBe(0);
    expect(err(INVITE.replace('Max-Forwards: 70', 'Max Forwards 70'))).toBe(400);
  });
});

describe('URIs', () => {
  it('parses every part', () => {
    const u = parseUri('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y');
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: '[2001:db8::1]', port: 5061 });
    expect([...u.params]).toEqual([['transport', 'tcp'], ['lr', null]]);
    expect([...u.headers]).toEqual([['subject', 'hi'], ['x', 'y']]);
    expect(parseUri('tel:+1-201-555-0123;phone-context=x').host).toBe('+1-201-555-0123');
    expect(formatUri(parseUri('sip:a@b.example.com:5070;lr'))).toBe('sip:a@b.example.com:5070;lr');
    expect(unescape('v%61lue%2541')).toBe('value%41');
    expect(() => parseUri('sip:a@b:99999')).toThrow(SipParseError);
    expect(() => parseUri('foo:bar')).toThrow(expect.objectContaining({ status: 416 }) as Error);
  });

  it('compares per RFC 3261 19.1.4', () => {
    const eq: [string, string][] = [
      ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
      ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
      ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ];
    const ne: [string, string][] = [
      ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
      ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
      ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ];
    for (const [a, b] of eq) expect(uriEquals(a, b), `${a} == ${b}`).toBe(true);
    for (const [a, b] of ne) expect(uriEquals(a, b), `${a} != ${b}`).toBe(false);
  });
});

describe('name-addr', () => {
  it('reads quoted and token display names, addr-spec parameters and *', () => {
    expect(parseNameAddr('Bob Smith <sip:bob@x>;tag=9')).toMatchObject({ displayName: 'Bob Smith', uri: 'sip:bob@x', tag: '9' });
    expect(parseNameAddr('sip:bob@x;tag=9')).toMatchObject({ displayName: undefined, uri: 'sip:bob@x', tag: '9' });
    expect(parseNameAddr('"a \\"q\\"" <sip:x@y>').displayName).toBe('a "q"');
    expect(parseNameAddr('*').uri).toBe('*');
    expect(() => parseNameAddr('"open <sip:x@y>')).toThrow(SipParseError);
    expect(() => parseNameAddr('< sip:x@y >')).toThrow(SipParseError);
  });
});

describe('edits', () => {
  it('serializes an unchanged message byte for byte', () => {
    const buf = Buffer.from(INVITE, 'latin1');
    expect(SipMessage.parse(buf).serialize().equals(buf)).toBe(true);
  });

  it('splices header edits, a new R-URI and Vias into the original bytes', () => {
    const m = parse(INVITE);
    m.ruri = 'sip:bob@192.0.2.4';
    m.prependVia('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew');
    m.appendHeader('X-Added: 1\r\n');
    m.removeHeaders('subject');
    const f = m.headerFields.find((h) => h.lname === 'max-forwards')!;
    m.insertBefore(f, `${f.name}: 69\r\n`);
    m.removeHeader(f);
    const out = m.serialize().toString('latin1');
    expect(out.startsWith('INVITE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew\r\nv: SIP/2.0/UDP pc33')).toBe(true);
    expect(out).toContain('Max-Forwards: 69\r\nt: Bob');
    expect(out).not.toContain('Subject');
    expect(out).toContain('X-Unknown:   keep   spacing  \r\n');
    expect(out).toContain('l: 3\r\nX-Added: 1\r\n\r\nv=0');
    // Reads still see the received message (Kamailio's lumps), except the R-URI.
    expect(m.header('subject')).toBe('folded value');
    expect(m.ruri).toBe('sip:bob@192.0.2.4');
  });

  it('parses again from the bytes what dropParsedValues forgot, edits kept', () => {
    const m = parse(INVITE);
    m.ruri = 'sip:bob@192.0.2.4';
    m.appendHeader('X-Added: 1\r\n');
    const before = { out: m.serialize().toString('latin1'), via: m.topVia, from: m.from.tag, cseq: m.cseq, fields: m.headerFields.length, body: m.body.toString() };
    m.dropParsedValues();
    expect(m.topVia).not.toBe(before.via);
    expect(m.topVia).toEqual(before.via);
    expect({ from: m.from.tag, cseq: m.cseq, fields: m.headerFields.length, body: m.body.toString() }).toEqual(
      { from: before.from, cseq: before.cseq, fields: before.fields, body: before.body });
    expect(m.originalRuri).toBe('sip:bob@biloxi.example.com');
    expect(m.ruri).toBe('sip:bob@192.0.2.4');
    expect(m.header('subject')).toBe('folded value');
    expect(m.serialize().toString('latin1')).toBe(before.out);
    expect(m.clone().serialize().toString('latin1')).toBe(before.out);
  });

  it('retires a message: reads as before, no serialize or clone, the edits gone', () => {
    const m = parse(INVITE);
    m.ruri = 'sip:bob@192.0.2.4';
    m.appendHeader('X-Added: 1\r\n');
    m.retire();
    expect(m.hasEdits).toBe(true); // the new R-URI stays
    expect(m.ruri).toBe('sip:bob@192.0.2.4');
    expect(m.header('subject')).toBe('folded value');
    expect(() => m.serialize()).toThrow(/SipMessage.serialize: this INVITE was retired/);
    expect(() => m.clone()).toThrow(/SipMessage.clone: this INVITE was retired/);
  });

  it('removes and replaces only the top Via value', () => {
    const m = parse(INVITE);
    m.removeTopVia();
    const out = SipMessage.parse(m.serialize());
    expect(out.vias().map((v) => v.host)).toEqual(['proxy.example.com']);
    const r = parse(INVITE);
    r.replaceTopVia('SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.9');
    const again = SipMessage.parse(r.serialize());
    expect(again.vias().map((v) => v.received)).toEqual(['192.0.2.9', '10.0.0.1']);
  });

  it('keeps Content-Length right when the body changes or it was absent', () => {
    const m = parse(INVITE);
    m.setBody('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n', 'application/sdp');
    const out = SipMessage.parse(m.serialize());
    expect(out.contentLength).toBe(31);
    expect(out.header('content-length')).toBe('31');
    const noCl = parse(INVITE.replace('l: 3\r\n', ''));
    expect(noCl.serialize().toString()).toContain('Content-Length: 3\r\n\r\nv=0');
  });

  it('adds no Content-Length for a datagram destination when the message had none (Kamailio adjust_clen)', () => {
    const raw = INVITE.replace('l: 3\r\n', '');
    const noCl = parse(raw);
    expect(noCl.serialize({ stream: false }).toString('latin1')).toBe(raw);
    noCl.appendHeader('X-A: 1\r\n');
    noCl.setBody('v=1\r\n');
    const udp = noCl.serialize({ stream: false }).toString('latin1');
    expect(udp).not.toMatch(/\r\n(?:Content-Length|l):/i);
    expect(udp.endsWith('X-A: 1\r\n\r\nv=1\r\n')).toBe(true);
    expect(noCl.serialize({ stream: true }).toString('latin1')).toContain('Content-Length: 5\r\n\r\nv=1');
    // A Content-Length that is there is made right whatever the destination.
    const withCl = parse(INVITE);
    withCl.setBody('v=22\r\n');
    expect(withCl.serialize({ stream: false }).toString('latin1')).toMatch(/\r\nl: 6\r\n/);
  });

  it('gives clones their own edits', () => {
    const m = parse(INVITE);
    m.appendHeader('X-A: 1\r\n');
    const c = m.clone();
    c.appendHeader('X-B: 2\r\n');
    c.ruri = 'sip:other@x';
    expect(m.serialize().toString()).toContain('X-A: 1');
    expect(m.serialize().toString()).not.toContain('X-B');
    expect(c.serialize().toString()).toContain('X-A: 1\r\nX-B: 2');
    expect(m.ruri).toBe('sip:bob@biloxi.example.com');
  });
});

describe('buildReply', () => {
  it('copies Vias, From, To, Call-ID and CSeq and adds a To tag above 100', () => {
    const m = parse(INVITE);
    const r = SipMessage.parse(buildReply(m, 486, 'Busy Here', { toTag: 'abc', headers: 'Retry-After: 60\r\n', body: 'x', contentType: 'text/plain' }));
    expect([r.status, r.reason]).toEqual([486, 'Busy Here']);
    expect(r.vias().map((v) => v.branch)).toEqual(['z9hG4bK776asdhds', 'z9hG4bK1']);
    expect(r.to.tag).toBe('abc');
    expect(r.from.tag).toBe('1928301774');
    expect(r.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(r.header('retry-after')).toBe('60');
    expect(r.body.toString()).toBe('x');
    const t = SipMessage.parse(buildReply(m, 100, 'Trying', { toTag: 'abc' }));
    expect(t.to.tag).toBeUndefined();
  });
});

describe('findMessageEnd', () => {
  it('frames whole messages and waits for partial ones', () => {
    const one = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc';
    const two = Buffer.from(one + one);
    expect(findMessageEnd(two, 0)).toBe(one.length);
    expect(findMessageEnd(two, one.length)).toBe(two.length);
    expect(findMessageEnd(Buffer.from(one.slice(0, 20)), 0)).toBe(-1);
    expect(findMessageEnd(Buffer.from(one.slice(0, one.length - 1)), 0)).toBe(-1);
    expect(() => findMessageEnd(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX: y\r\n\r\n'), 0)).toThrow(SipParseError);
  });

  it('refuses negative, non-numeric and conflicting Content-Length, naming where the headers end (RFC 4475 ncl, mcl01)', () => {
    const frame = (head: string): unknown => {
      try {
        return findMessageEnd(Buffer.from(`${head}\r\n\r\nbody body body`, 'latin1'), 0);
      } catch (e) {
        return e;
      }
    };
    const start = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1';
    for (const [head, why] of [
      [`${start}\r\nContent-Length: -999`, /bad Content-Length '-999'/],
      [`${start}\r\nl: five`, /bad Content-Length 'five'/],
      [`${start}\r\nContent-Length: 13\r\nMax-Forwards: 60\r\nContent-Length: 5`, /conflicting Content-Length/],
      [start, /missing Content-Length/],
    ] as const) {
      const e = frame(head);
      expect(e, head).toBeInstanceOf(SipFramingError);
      expect((e as SipFramingError).status).toBe(400);
      expect((e as SipFramingError).reason).toMatch(why);
      expect((e as SipFramingError).headerEnd).toBe(head.length + 4);
    }
    // The same value twice frames as that value; trailing blanks are allowed.
    expect(frame(`${start}\r\nl: 4 \r\nContent-Length: 4`)).toBe(`${start}\r\nl: 4 \r\nContent-Length: 4`.length + 8);
  });
});
