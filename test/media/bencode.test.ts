import { describe, expect, it } from 'vitest';
import { bdecode, bencode, BencodeError, dictInt, dictStr } from '../../src/media/bencode.js';

describe('bencode', () => {
  it('encodes strings, integers, lists and dictionaries in insertion order', () => {
    expect(bencode('spam').toString()).toBe('4:spam');
    expect(bencode('').toString()).toBe('0:');
    expect(bencode(42).toString()).toBe('i42e');
    expect(bencode(-7).toString()).toBe('i-7e');
    expect(bencode(0).toString()).toBe('i0e');
    expect(bencode(['a', 1, []]).toString()).toBe('l1:ai1elee');
    const d = new Map<string, string | number | string[]>([['command', 'offer'], ['supports', ['load limit']], ['a', 1]]);
    expect(bencode(d).toString()).toBe('d7:command5:offer8:supportsl10:load limite1:ai1ee');
    expect(bencode({ z: 'x', b: 2 }).toString()).toBe('d1:z1:x1:bi2ee');
  });

  it('counts bytes, not UTF-16 units, and keeps every byte (latin1 strings)', () => {
    const body = 'v=0\r\ns=\xe9t\xe9\r\n';
    const enc = bencode(body);
    expect(enc.toString('latin1')).toBe(`${body.length}:${body}`);
    expect(bdecode(enc)).toBe(body);
    expect(bencode(Buffer.from([0xff, 0x00])).equals(Buffer.from([0x32, 0x3a, 0xff, 0x00]))).toBe(true);
  });

  it('refuses non-integers', () => {
    expect(() => bencode(1.5)).toThrow(BencodeError);
  });

  it('decodes what rtpengine sends', () => {
    const raw = Buffer.from('d6:result2:ok3:sdp10:v=0\r\ns=x\r\n6:totalsd3:RTPd5:bytesi100e7:packetsi3eeee', 'latin1');
    const v = bdecode(raw);
    expect(v).toBeInstanceOf(Map);
    expect(dictStr(v, 'result')).toBe('ok');
    expect(dictStr(v, 'sdp')).toBe('v=0\r\ns=x\r\n');
    const tot = (v as Map<string, unknown>).get('totals') as Map<string, unknown>;
    expect(dictInt(tot.get('RTP') as Map<string, never>, 'packets', -1)).toBe(3);
    expect(dictInt(tot.get('RTP') as Map<string, never>, 'missing', -1)).toBe(-1);
  });

  it('round-trips nested values', () => {
    const v = new Map<string, unknown>([['l', ['x', 5, new Map([['k', 'v']])]], ['n', -12]]);
    const back = bdecode(bencode(v as never));
    expect(back).toEqual(v);
  });

  it('a key named __proto__ is an ordinary key', () => {
    const v = bdecode(Buffer.from('d9:__proto__i1ee'));
    expect((v as Map<string, number>).get('__proto__')).toBe(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects malformed input with BencodeError, never anything else', () => {
    const bad = [
      '', 'i', 'i12', 'ie', 'i1.5e', 'i--1e', '5:abc', '3abc', 'l', 'li1e', 'd', 'd1:a', 'di1ei2ee',
      'x', '4:spamX', 'i1ei2e', '99999999999:a', 'd3:abce', 'l'.repeat(200) + 'e'.repeat(200),
    ];
    for (const b of bad) {
      expect(() => bdecode(Buffer.from(b, 'latin1')), JSON.stringify(b)).toThrow(BencodeError);
    }
  });

  it('survives random bytes', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = 'dlie0123456789:abc-';
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 20);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        bdecode(Buffer.from(s, 'latin1'));
      } catch (e) {
        expect(e).toBeInstanceOf(BencodeError);
      }
    }
  });
});
