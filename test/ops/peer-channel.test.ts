import { describe, expect, it } from 'vitest';
import { decodeHandOver, encodeHead, type HandOver } from '../../src/ops/peer-channel.js';

const roundTrip = (h: HandOver): HandOver | null => {
  const head = encodeHead(h);
  if (!head) return null;
  return decodeHandOver(Buffer.concat([Buffer.alloc(3, 7), head, h.data]), 3);
};

describe('worker hand-over datagrams', () => {
  it('carry a received message with its protocol, addresses, ports and connection id', () => {
    const data = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    const udp: HandOver = { kind: 'received', data, rcv: { proto: 'udp', srcAddress: '192.0.2.7', srcPort: 5062, localAddress: '127.0.0.1', localPort: 5060, family: 4 } };
    expect(roundTrip(udp)).toEqual(udp);
    const ws: HandOver = { kind: 'received', data, rcv: { proto: 'wss', srcAddress: '2001:db8::1', srcPort: 40000, localAddress: '::', localPort: 8443, family: 6, connId: 4_000_000_001 } };
    expect(roundTrip(ws)).toEqual(ws);
  });

  it('carry a send with its target, flags, socket and TLS server name', () => {
    const data = Buffer.from('INVITE sip:w@127.0.0.1 SIP/2.0\r\n\r\n');
    const plain: HandOver = { kind: 'send', data, target: { proto: 'ws', address: '127.0.0.1', port: 40100 } };
    expect(roundTrip(plain)).toEqual(plain);
    const full: HandOver = { kind: 'send', data, target: { proto: 'tls', address: '198.51.100.2', port: 5061, connId: 7, noConnect: true, closeAfter: true, local: 'tls:127.0.0.1:5061', serverName: 'phone.example' } };
    expect(roundTrip(full)).toEqual(full);
  });

  it('refuse what does not fit and read nothing from a cut or unknown datagram', () => {
    expect(encodeHead({ kind: 'send', data: Buffer.alloc(0), target: { proto: 'tcp', address: 'x'.repeat(256), port: 1 } })).toBeNull();
    const head = encodeHead({ kind: 'send', data: Buffer.alloc(0), target: { proto: 'tcp', address: 'peer.example', port: 5060 } })!;
    expect(decodeHandOver(head.subarray(0, head.length - 2), 0)).toBeNull();
    expect(decodeHandOver(Buffer.from([9, 0, 0]), 0)).toBeNull();
  });
});
