import { describe, expect, it } from 'vitest';
import { protoNamed } from '../../src/transport/types.js';
import { Interner } from '../../src/lib/interner.js';
import { replyHopFromVia } from '../../src/core/forwarder.js';
import { SipMessage } from '../../src/sip/index.js';

describe('protocol names', () => {
  it('maps a transport name in any case to its constant, and nothing else to one', () => {
    expect(protoNamed('UDP')).toBe('udp');
    expect(protoNamed('Tls')).toBe('tls');
    expect(protoNamed('wss')).toBe('wss');
    // Names an object literal would answer from its prototype.
    for (const n of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'foo', '']) expect(protoNamed(n)).toBeUndefined();
  });

  it('a reply is not routed by a Via whose transport is no protocol, whatever its name', () => {
    const req = SipMessage.parse(Buffer.from('OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/CONSTRUCTOR 192.0.2.1:5070;branch=z9hG4bKx\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
    expect(replyHopFromVia(req.topVia)).toBeNull();
    const ok = SipMessage.parse(Buffer.from('OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bKx\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
    expect(replyHopFromVia(ok.topVia)).toEqual({ proto: 'tcp', address: '192.0.2.1', port: 5070 });
  });
});

describe('Interner', () => {
  it('holds each distinct value once and never more than its bound', () => {
    const i = new Interner(3);
    for (const v of ['a', 'b', 'a', 'b', 'a']) expect(i.intern(v)).toBe(v);
    expect(i.size).toBe(2);
    for (let n = 0; n < 100; n++) {
      expect(i.intern(`route_${n}`)).toBe(`route_${n}`);
      expect(i.size).toBeLessThanOrEqual(3);
    }
  });
});
