/**
 * UDP (RFC 3261 18): one datagram is one message. Sends go out from our listening socket of the
 * destination's family (or the one asked for), so replies and requests carry our listen port.
 * This is the hot path: no allocation per datagram beyond the ReceiveInfo handed to the core.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { familyOf, newCounters, type Transport, type TransportEnv } from './transport.js';
import { socketId, type ListenSocket, type ListenSpec, type SendTarget, type UdpBind } from './types.js';
import { UdpQueueProbe, type UdpQueueReading, type UdpQueueSocket } from './udp-queue.js';
import { sendLookup } from './literal-lookup.js';
import { Interner } from '../lib/interner.js';

interface UdpListener {
  info: ListenSocket;
  sock: Socket;
  queue: UdpQueueSocket;
}

export class UdpTransport implements Transport {
  readonly proto = 'udp' as const;
  readonly stats = newCounters();
  private readonly listeners: UdpListener[] = [];
  private infos: ListenSocket[] = [];
  private readonly queues = new UdpQueueProbe(() => this.listeners.map((l) => l.queue));
  /**
   * Source addresses as one string each (dgram makes a new one per datagram): the transactions,
   * records and dialogs that keep a peer's address for seconds then share it (issue 14: each kept
   * copy was one more object for the old generation's GC).
   */
  private readonly addresses = new Interner(4096);

  /**
   * @param bind 'shared': a plain bind (in a cluster worker, the primary's shared handle). Else each
   *   cluster worker binds its own socket on the listen port, exclusively, with SO_REUSEPORT
   *   ('reuseport', dgram `reusePort`, Node >= 22.12) or SO_REUSEADDR ('reuseaddr').
   */
  constructor(private readonly env: TransportEnv, private readonly bind: UdpBind = 'shared') {}

  sockets(): readonly ListenSocket[] {
    return this.infos;
  }

  async listen(s: ListenSpec): Promise<ListenSocket> {
    const family = isIPv6(s.address) ? 6 : 4;
    // Bursts at thousands of calls/s overflow the default receive buffer; the kernel caps the size
    // at net.core.rmem_max.
    // @types/node 20 does not know reusePort yet.
    const opts: SocketOptions & { reusePort?: boolean } = { type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20, lookup: sendLookup };
    if (this.bind === 'reuseport') opts.reusePort = true;
    if (this.bind === 'reuseaddr') opts.reuseAddr = true;
    const sock = createSocket(opts);
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind({ port: s.port, address: s.address, exclusive: this.bind !== 'shared' }, () => {
        sock.off('error', rej);
        res();
      });
    });
    const port = sock.address().port;
    const info: ListenSocket = { proto: 'udp', address: s.address, port, family, id: socketId('udp', s.address, port) };
    const { env, stats, addresses } = this;
    sock.on('error', (e) => env.error(e, `udp ${info.id}`));
    sock.on('message', (data, r) => {
      stats.received++;
      stats.bytesReceived += data.length;
      // RFC 5626 keep-alives over UDP carry no message.
      if (data.length <= 4 && (data[0] === 13 || data[0] === 10 || data.length === 0)) return;
      env.deliver(data, { proto: 'udp', srcAddress: addresses.intern(r.address), srcPort: r.port, localAddress: info.address, localPort: info.port, family });
    });
    this.listeners.push({ info, sock, queue: { port, family, bufferBytes: sock.getRecvBufferSize() } });
    this.infos = [...this.infos, info];
    this.queues.reset();
    return info;
  }

  /** The fullest receive buffer of our sockets: queued bytes and their share of its size; undefined where unknown (udp-queue.ts). */
  backlog(): UdpQueueReading | undefined {
    return this.queues.fullest();
  }

  send(t: SendTarget, data: Buffer): boolean {
    const l = this.listenerFor(t);
    if (!l) {
      this.stats.sendErrors++;
      return false;
    }
    // dgram throws at once for port 0 or an unusable address: a failed send, not an exception.
    if (!(t.port > 0 && t.port < 65536)) {
      this.stats.sendErrors++;
      return false;
    }
    try {
      l.sock.send(data, t.port, t.address, this.afterSend);
    } catch (e) {
      this.stats.sendErrors++;
      this.env.error(e instanceof Error ? e : new Error(String(e)), `udp send to ${t.address}:${t.port}`);
      return false;
    }
    this.stats.sent++;
    this.stats.bytesSent += data.length;
    return true;
  }

  /**
   * The callback of every send: one function, not a closure per datagram. Node reports a failed
   * send only to a callback (without one it is lost silently); its error names the address and port.
   */
  private readonly afterSend = (e: Error | null): void => {
    if (!e) return;
    this.stats.sendErrors++;
    this.env.error(e, 'udp send');
  };

  private listenerFor(t: SendTarget): UdpListener | undefined {
    const family = familyOf(t.address);
    let fallback: UdpListener | undefined;
    for (const l of this.listeners) {
      if (t.local && l.info.id === t.local) return l;
      if (l.info.family === family) fallback ??= l;
    }
    return fallback;
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.sock.close(() => r()))));
    this.listeners.length = 0;
    this.infos = [];
    this.queues.reset();
  }
}
