/**
 * The kernel's receive queue of our UDP sockets, read from /proc/net/udp (Linux): the parser on a
 * captured table, and a live socket whose buffer is filled before the event loop reads it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { parseProcUdp, UdpQueueProbe } from '../../src/transport/udp-queue.js';

const TABLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 9636: 0100007F:13C4 00000000:0000 07 00000000:00075300 00:00000000 00000000     0        0 893118 2 000000006aacb5f6 12
 9637: 0100007F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 893119 2 000000006aacb5f7 0
 9700: 0100007F:D481 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 893200 2 000000006aacb5f8 0
`;

const bound = (s: Socket): Promise<number> => new Promise((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));

describe('UDP receive queue probe', () => {
  it('parses the lines of our ports: queued bytes, inode and drops', () => {
    expect(parseProcUdp(TABLE, 4, new Set([5060]))).toEqual([
      { family: 4, port: 5060, inode: 893118, queued: 0x75300, drops: 12 },
      { family: 4, port: 5060, inode: 893119, queued: 0, drops: 0 },
    ]);
    expect(parseProcUdp(TABLE, 4, new Set([1]))).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('tells how full a socket is before the loop reads it, and empty after', async () => {
    const rx = createSocket({ type: 'udp4', recvBufferSize: 65536 });
    const tx = createSocket('udp4');
    try {
      const port = await bound(rx);
      let got = 0;
      rx.on('message', () => got++);
      const probe = new UdpQueueProbe(() => [{ port, family: 4, bufferBytes: rx.getRecvBufferSize() }]);
      expect(probe.fullest()?.fullness).toBe(0);
      const payload = Buffer.alloc(1000, 65);
      for (let i = 0; i < 300; i++) tx.send(payload, port, '127.0.0.1');
      // dgram sends after a nextTick (its address lookup); the loop reads rx only in its poll phase.
      await new Promise((r) => process.nextTick(r));
      const r = probe.fullest()!;
      expect(r.fullness).toBeGreaterThan(0.5);
      // The bytes are the kernel's count of the same queue: the fullness is their share of the buffer.
      expect(r.bytes).toBeGreaterThan(0.5 * rx.getRecvBufferSize());
      expect(r.bytes / rx.getRecvBufferSize()).toBe(r.fullness);
      const until = Date.now() + 5000;
      while (got === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toBeGreaterThan(0);
      expect(probe.fullest()?.fullness).toBe(0);
    } finally {
      rx.close();
      tx.close();
    }
  });
});
