/**
 * A UDP link for loss tests: the proxy sends to `port`, the link passes datagrams on to the target
 * from its own inner socket and passes the target's answers back. Per Call-ID, the first datagram
 * matching each `dropFirst` pattern is dropped (deterministic loss).
 */
import { createSocket, type Socket } from 'node:dgram';

export class LossyUdpLink {
  dropped = 0;
  private readonly seen = new Set<string>();
  private peer: { address: string; port: number } | null = null;

  private constructor(
    private readonly outer: Socket,
    private readonly inner: Socket,
    readonly port: number,
    private readonly targetPort: number,
    private readonly patterns: RegExp[],
  ) {
    outer.on('message', (m, r) => {
      this.peer = { address: r.address, port: r.port };
      if (!this.drop(m)) inner.send(m, this.targetPort, '127.0.0.1');
    });
    inner.on('message', (m) => {
      if (this.peer && !this.drop(m)) outer.send(m, this.peer.port, this.peer.address);
    });
  }

  static async start(targetPort: number, opts: { dropFirst: RegExp[] }): Promise<LossyUdpLink> {
    const bind = (s: Socket): Promise<number> =>
      new Promise((res) => s.bind(0, '127.0.0.1', () => res(s.address().port)));
    const outer = createSocket('udp4');
    const inner = createSocket('udp4');
    const port = await bind(outer);
    await bind(inner);
    return new LossyUdpLink(outer, inner, port, targetPort, opts.dropFirst);
  }

  private drop(m: Buffer): boolean {
    const text = m.toString('latin1');
    const callId = /\r\n(?:Call-ID|i)\s*:\s*([^\r\n]+)/i.exec(text)?.[1] ?? '';
    for (let i = 0; i < this.patterns.length; i++) {
      if (!this.patterns[i]!.test(text)) continue;
      const key = `${i}\u0001${callId}`;
      if (this.seen.has(key)) return false;
      this.seen.add(key);
      this.dropped++;
      return true;
    }
    return false;
  }

  async stop(): Promise<void> {
    await Promise.all([new Promise<void>((r) => this.outer.close(() => r())), new Promise<void>((r) => this.inner.close(() => r()))]);
  }
}
