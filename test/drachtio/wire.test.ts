import { describe, expect, it } from 'vitest';
import { FrameDecoder, WireError, frame, parseBody } from '../../src/drachtio/wire.js';

describe('drachtio framing', () => {
  it('length counts the bytes after #, UTF-8 included', () => {
    const f = frame('id|sip|||\r\nINVITE sip:é@x SIP/2.0\r\n');
    const s = f.toString('utf8');
    const n = Number(s.slice(0, s.indexOf('#')));
    expect(n).toBe(Buffer.byteLength(s.slice(s.indexOf('#') + 1)));
    expect(new FrameDecoder(1000).push(f)).toEqual(['id|sip|||\r\nINVITE sip:é@x SIP/2.0\r\n']);
  });

  it('reassembles frames split anywhere, several per read', () => {
    const all = Buffer.concat([frame('a|ping'), frame('b|route|invite'), frame('c|sip|t|d\r\nBYE sip:x SIP/2.0\r\n\r\n')]);
    for (let cut = 1; cut < all.length; cut++) {
      const d = new FrameDecoder(1000);
      const out = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(out).toEqual(['a|ping', 'b|route|invite', 'c|sip|t|d\r\nBYE sip:x SIP/2.0\r\n\r\n']);
      expect(d.buffered).toBe(0);
    }
    const d = new FrameDecoder(1000);
    const bytes: string[] = [];
    for (const b of all) bytes.push(...d.push(Buffer.from([b])));
    expect(bytes).toHaveLength(3);
  });

  it('garbage, a missing length and an oversized frame are errors', () => {
    expect(() => new FrameDecoder(1000).push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(WireError);
    expect(() => new FrameDecoder(1000).push(Buffer.from('#abc'))).toThrow(WireError);
    expect(() => new FrameDecoder(1000).push(Buffer.from('0#'))).toThrow(WireError);
    expect(() => new FrameDecoder(1000).push(Buffer.from('5000#abc'))).toThrow(/exceeds/);
    expect(() => new FrameDecoder(1000).push(Buffer.from('123456789'))).toThrow(WireError);
    // A length that is too short leaves the rest to be read as the next frame: garbage there.
    expect(() => new FrameDecoder(1000).push(Buffer.from('3#a|pingxx|y'))).toThrow(WireError);
  });

  it('parses the leading tokens and the SIP text', () => {
    const m = parseBody('id1|sip|txn|dlg\r\nSIP/2.0 200 OK\r\n\r\n');
    expect(m.msgId).toBe('id1');
    expect(m.type).toBe('sip');
    expect(m.tokens).toEqual(['id1', 'sip', 'txn', 'dlg']);
    expect(m.sip).toBe('SIP/2.0 200 OK\r\n\r\n');
    expect(() => parseBody('nothing')).toThrow(WireError);
  });
});
