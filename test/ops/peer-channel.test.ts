import { describe, expect, it } from 'vitest';
import { PeerChannel, decodeBatch, decodeHandOver, encodeHead, type HandOver } from '../../src/ops/peer-channel.js';

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

  it('carry the closing of a WebSocket connection with its status and reason', () => {
    const close: HandOver = { kind: 'close', connId: 4_000_000_003, status: 1001, data: Buffer.from('going away \u00e9', 'utf8') };
    expect(roundTrip(close)).toEqual(close);
    const head = encodeHead(close)!;
    expect(decodeHandOver(head.subarray(0, 5), 0)).toBeNull();
  });

  it('refuse what does not fit and read nothing from a cut or unknown datagram', () => {
    expect(encodeHead({ kind: 'send', data: Buffer.alloc(0), target: { proto: 'tcp', address: 'x'.repeat(256), port: 1 } })).toBeNull();
    const head = encodeHead({ kind: 'send', data: Buffer.alloc(0), target: { proto: 'tcp', address: 'peer.example', port: 5060 } })!;
    expect(decodeHandOver(head.subarray(0, head.length - 2), 0)).toBeNull();
    expect(decodeHandOver(Buffer.from([9, 0, 0]), 0)).toBeNull();
  });

  it('send what one poll phase queued as one datagram per worker, in order, and split a batch that would not fit', async () => {
    const secret = '0123456789abcdef';
    const got: HandOver[] = [];
    const a = new PeerChannel(secret, () => undefined);
    const b = new PeerChannel(secret, (h) => got.push(h));
    let datagrams = 0;
    b.socket.on('message', () => datagrams++);
    try {
      const ports = [await a.bind(), await b.bind()];
      a.setPorts(ports);
      b.setPorts(ports);
      const rcv = { proto: 'udp' as const, srcAddress: '127.0.0.1', srcPort: 5070, localAddress: '127.0.0.1', localPort: 5060, family: 4 as const };
      const msgs = ['ACK', 'BYE', 'INVITE'].map((m) => Buffer.from(`${m} sip:b@127.0.0.1 SIP/2.0\r\n\r\n`));
      for (const data of msgs) expect(a.queue(1, { kind: 'received', rcv, data })).toBe(true);
      expect(a.queue(5, { kind: 'received', rcv, data: msgs[0]! })).toBe(false); // no such worker
      a.flush();
      a.flush(); // nothing left: sends nothing
      await waitUntil(() => got.length === 3);
      expect(datagrams).toBe(1);
      expect(got.map((h) => (h.kind === 'received' ? h.data.toString() : ''))).toEqual(msgs.map(String));
      expect(got[0]).toEqual({ kind: 'received', rcv, data: msgs[0] });
      // Three 30000-byte messages: two datagrams, the order kept.
      got.length = 0;
      datagrams = 0;
      const big = [1, 2, 3].map((n) => Buffer.alloc(30_000, 48 + n));
      for (const data of big) expect(a.queue(1, { kind: 'received', rcv, data })).toBe(true);
      a.flush();
      await waitUntil(() => got.length === 3);
      expect(datagrams).toBe(2);
      expect(got.map((h) => h.data[0])).toEqual([49, 50, 51]);
      // One message sent at once (a send on another worker's connection): its own datagram.
      const target = { proto: 'tcp' as const, address: '127.0.0.1', port: 5070, connId: 3 };
      expect(a.send(1, { kind: 'send', target, data: msgs[1]! })).toBe(true);
      await waitUntil(() => got.length === 4);
      // /metrics counts each hand-over and each datagram once on each side.
      expect(a.stats).toEqual({ messagesSent: 7, datagramsSent: 4, messagesReceived: 0, datagramsReceived: 0 });
      expect(b.stats).toEqual({ messagesSent: 0, datagramsSent: 0, messagesReceived: 7, datagramsReceived: 4 });
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  it('read a batch up to an item cut short', () => {
    const rcv = { proto: 'udp' as const, srcAddress: '127.0.0.1', srcPort: 1, localAddress: '127.0.0.1', localPort: 2, family: 4 as const };
    const item = (s: string): Buffer => {
      const head = encodeHead({ kind: 'received', rcv, data: Buffer.from(s) })!;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(head.length + s.length);
      return Buffer.concat([len, head, Buffer.from(s)]);
    };
    const whole = Buffer.concat([item('one'), item('two')]);
    expect(decodeBatch(whole, 0).map((h) => h.data.toString())).toEqual(['one', 'two']);
    expect(decodeBatch(whole.subarray(0, whole.length - 1), 0).map((h) => h.data.toString())).toEqual(['one']);
  });
});

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}
