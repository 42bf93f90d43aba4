/**
 * The parser's allocation-light fast paths (status line, request line, common header and
 * parameter names, Via sent-by, hex formatting) give what the general paths gave: the same values
 * for the usual shapes, and the general path's answer (or error) for anything else.
 */
import { describe, expect, it } from 'vitest';
import { SipMessage, SipParseError } from '../../src/sip/index.js';
import { parseHeaderParams } from '../../src/sip/nameaddr.js';
import { parseOneVia } from '../../src/sip/via.js';
import { hex8, stableHash } from '../../src/sip/branch.js';

const HEADERS = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
const parse = (startLine: string, headers = HEADERS): SipMessage => SipMessage.parse(Buffer.from(`${startLine}\r\n${headers}`));

describe('status line', () => {
  it('reads code and reason, an empty reason, and a reason with spaces', () => {
    expect([parse('SIP/2.0 180 Ringing').status, parse('SIP/2.0 180 Ringing').reason]).toEqual([180, 'Ringing']);
    expect([parse('SIP/2.0 200').status, parse('SIP/2.0 200').reason]).toEqual([200, '']);
    expect(parse('SIP/2.0 200 ').reason).toBe('');
    expect(parse('SIP/2.0 486 Busy  Here ').reason).toBe('Busy  Here ');
  });
  it('refuses what the general path refuses', () => {
    for (const bad of ['SIP/2.0 2000 OK', 'SIP/2.0 20 OK', 'SIP/2.0  200 OK', 'SIP/2.0 099 Low', 'SIP/3.0 200 OK', 'SIP/2.0 2x0 OK']) {
      expect(() => parse(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('request line', () => {
  it('gives a known method its one string, and an unknown token method as written', () => {
    const m = parse('INVITE sip:b@h SIP/2.0');
    expect(m.method).toBe('INVITE');
    expect(m.version).toBe('SIP/2.0');
    const x = parse('FOO sip:b@h SIP/2.0', HEADERS.replace('1 INVITE', '1 FOO'));
    expect(x.method).toBe('FOO');
    expect(x.cseq).toEqual({ seq: 1, method: 'FOO' });
    // Methods are case-sensitive: "invite" is an extension method, not INVITE.
    expect(parse('invite sip:b@h SIP/2.0', HEADERS.replace('1 INVITE', '1 invite')).method).toBe('invite');
  });
  it('answers a bad version with 505 or 400, and white space or brackets in the URI with 400', () => {
    expect(() => parse('INVITE sip:b@h SIP/3.0')).toThrow(expect.objectContaining({ status: 505 }));
    expect(() => parse('INVITE sip:b@h SIP/2')).toThrow(expect.objectContaining({ status: 400 }));
    expect(parse('INVITE sip:b@h sip/2.0').version).toBe('sip/2.0');
    for (const uri of ['sip:b@h\u00a0x', 'sip:<b>@h', 'sip:b@h\tx']) expect(() => parse(`INVITE ${uri} SIP/2.0`), uri).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('header names', () => {
  it('keeps the name as received and canonicalises any case and compact forms', () => {
    const m = parse('OPTIONS sip:b@h SIP/2.0', 'VIA: SIP/2.0/UDP h;branch=z9hG4bK1\r\nfrom: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\nCall-Id: c\r\nCSEQ: 1 OPTIONS\r\nX-Foo: 1\r\n\r\n');
    expect(m.headerFields.map((f) => [f.name, f.lname])).toEqual([
      ['VIA', 'via'], ['from', 'from'], ['t', 'to'], ['Call-Id', 'call-id'], ['CSEQ', 'cseq'], ['X-Foo', 'x-foo'],
    ]);
  });
  it('folds only letters: a name with a CR where a common name has its hyphen is no such header', () => {
    // CR (0x0d) | 0x20 is '-' (0x2d): a case fold by |0x20 alone took "Call\rID" for Call-ID.
    expect(() => parse('OPTIONS sip:b@h SIP/2.0', HEADERS.replace('Call-ID: c', 'Call\rID: c'))).toThrow(/bad header name/);
    expect(() => parseOneVia('SIP/2.0/U\x04P h')).not.toThrow();
    expect(parseOneVia('SIP/2.0/U\x04P h').transport).toBe('U\x04P');
  });
  it('ends the header block at the first empty line, CRLF or bare LF, and leaves the body alone', () => {
    const m = SipMessage.parse(Buffer.from('MESSAGE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Length: 12\n\nX: y\r\n\r\nabcd'));
    expect(m.headerFields.map((f) => f.lname)).toEqual(['via', 'from', 'to', 'call-id', 'cseq', 'content-length']);
    expect(m.body.toString()).toBe('X: y\r\n\r\nabcd');
  });
});

describe('header parameters', () => {
  it('lowercases names (common ones and others), trims around = and keeps quoted semicolons', () => {
    expect([...parseHeaderParams(';BRANCH=z9hG4bKx ; Tag = 7 ;RPort;x-Y="a;b";lr')]).toEqual([
      ['branch', 'z9hG4bKx'], ['tag', '7'], ['rport', null], ['x-y', '"a;b"'], ['lr', null],
    ]);
    expect([...parseHeaderParams(';tagx=1;ta=2')]).toEqual([['tagx', '1'], ['ta', '2']]);
    expect(() => parseHeaderParams(';a="x')).toThrow(SipParseError);
  });
});

describe('Via sent-by', () => {
  it('reads transport in any case, host and port', () => {
    const v = parseOneVia('SIP/2.0/udp host-1.example_x.com:5070;branch=z9hG4bK1;rport');
    expect([v.transport, v.host, v.port, v.branch, v.rport]).toEqual(['UDP', 'host-1.example_x.com', 5070, 'z9hG4bK1', null]);
    expect(parseOneVia('SIP/2.0/Sctp h').transport).toBe('SCTP');
    expect(parseOneVia('SIP/2.0/FOO h').transport).toBe('FOO');
    expect(parseOneVia('SIP/2.0/UDP [::1]:5060').host).toBe('[::1]');
    expect(parseOneVia('SIP/2.0/UDP h ;branch=z9hG4bK1').branch).toBe('z9hG4bK1');
  });
  it('refuses a bad host or port', () => {
    for (const bad of ['SIP/2.0/UDP h:;branch=1', 'SIP/2.0/UDP h:65536', 'SIP/2.0/UDP h:123456', 'SIP/2.0/UDP h:5o60', 'SIP/2.0/UDP h*x']) {
      expect(() => parseOneVia(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('hex', () => {
  it('formats as toString(16) padded to 8 digits, above 2^31 too', () => {
    for (const n of [0, 1, 0xabc, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff, -1]) expect(hex8(n)).toBe((n >>> 0).toString(16).padStart(8, '0'));
  });
  it('gives stable hashes of 16 hex digits, different for a moved separator', () => {
    // The values of the toString(16) formatting before: branches and sl To-tags did not change.
    expect(stableHash('ab', 'c')).toBe('457bbfaa391ec7d4');
    expect(stableHash('z9hG4bK1', 'call', '1', 'sip:b@h', '127.0.0.1:5060')).toBe('ba2f6509947b07e5');
    expect(stableHash('ab', 'c')).toBe(stableHash('ab', 'c'));
    expect(stableHash('ab', 'c')).not.toBe(stableHash('a', 'bc'));
  });
});

describe('parameter maps', () => {
  it('behave as the Map they replace: a repeated name keeps its place with the last value, iteration in order', () => {
    const p = parseHeaderParams(';a=1;lr;A=2;b');
    expect(p.size).toBe(3);
    expect([p.get('a'), p.get('lr'), p.get('b'), p.get('c')]).toEqual(['2', null, null, undefined]);
    expect([p.has('lr'), p.has('x')]).toEqual([true, false]);
    expect([...p]).toEqual([['a', '2'], ['lr', null], ['b', null]]);
    expect([...p.keys()]).toEqual(['a', 'lr', 'b']);
    expect([...p.values()]).toEqual(['2', null, null]);
    const seen: string[] = [];
    p.forEach((v, k) => seen.push(`${k}=${v}`));
    expect(seen).toEqual(['a=2', 'lr=null', 'b=null']);
    expect(new Map(p)).toEqual(new Map([['a', '2'], ['lr', null], ['b', null]]));
  });
  it('in URIs too, with empty parameters skipped', () => {
    const u = SipMessage.parse(Buffer.from(`INVITE sip:b@h;Transport=TCP;;LR;x=1;x=2 SIP/2.0\r\n${HEADERS}`)).parsedRuri();
    expect([...u.params]).toEqual([['transport', 'TCP'], ['lr', null], ['x', '2']]);
  });
  it('hold many parameters the same way (past the flat list, a Map), flags before and after values', () => {
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const text = names.map((n, i) => (i % 3 === 0 ? `${n}=v${i}` : n)).join(';') + ';P0=last';
    const want = names.map((n, i) => [n, n === 'p0' ? 'last' : i % 3 === 0 ? `v${i}` : null]);
    expect([...parseHeaderParams(`;${text}`)]).toEqual(want);
    const u = SipMessage.parse(Buffer.from(`INVITE sip:b@h;${text} SIP/2.0\r\n${HEADERS}`)).parsedRuri();
    expect([...u.params]).toEqual(want);
  });
});
