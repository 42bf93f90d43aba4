/**
 * UDP and TCP listeners on any number of sockets (IPv4 and IPv6), and sending (RFC 3261 18):
 * UDP goes out from our listening socket of the same family; TCP reuses a connection to the peer
 * (the one a request came on, or one we opened) and opens one when there is none.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { ReceiveInfo } from './types.js';
import { StreamFramer } from './stream-framer.js';
import { socketId, type ListenSocket, type ListenSpec, type SendTarget } from './types.js';

export interface TransportOptions {
  onMessage: (data: Buffer, rcv: ReceiveInfo) => void;
  onError?: (e: Error, where: string) => void;
  maxMessageSize?: number;
  tcpIdleTimeoutMs?: number;
  maxTcpConnections?: number;
}

export interface TransportStats {
  udpReceived: number;
  udpSent: number;
  tcpReceived: number;
  tcpSent: number;
  bytesReceived: number;
  bytesSent: number;
  framingErrors: number;
  connectionsOpen: number;
  connectionsAccepted: number;
  connectionsOpened: number;
  connectionsClosed: number;
  sendErrors: number;
}

interface UdpListener {
  info: ListenSocket;
  sock: UdpSocket;
}

interface TcpListener {
  info: ListenSocket;
  server: Server;
}

/** One TCP connection, accepted or opened; framed, with an idle timer. */
class TcpConn {
  readonly framer: StreamFramer;
  connected: boolean;
  pending: Buffer[] = [];

  constructor(
    readonly id: number,
    readonly sock: Socket,
    readonly local: ListenSocket,
    public remoteAddress: string,
    public remotePort: number,
    connected: boolean,
    maxMessageSize: number,
  ) {
    this.framer = new StreamFramer(maxMessageSize);
    this.connected = connected;
  }
}

const key = (address: string, port: number): string => `${address}|${port}`;

export class TransportManager {
  readonly stats: TransportStats = {
    udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, bytesReceived: 0, bytesSent: 0, framingErrors: 0,
    connectionsOpen: 0, connectionsAccepted: 0, connectionsOpened: 0, connectionsClosed: 0, sendErrors: 0,
  };
  private readonly udp: UdpListener[] = [];
  private readonly tcp: TcpListener[] = [];
  private listening: ListenSocket[] = [];
  private readonly conns = new Map<number, TcpConn>();
  private readonly byPeer = new Map<string, TcpConn>();
  private nextConnId = 1;
  private readonly maxMessageSize: number;
  private readonly idleMs: number;
  private readonly maxConns: number;

  constructor(private readonly opts: TransportOptions) {
    this.maxMessageSize = opts.maxMessageSize ?? 65535;
    this.idleMs = opts.tcpIdleTimeoutMs ?? 120_000;
    this.maxConns = opts.maxTcpConnections ?? 2048;
  }

  sockets(): readonly ListenSocket[] {
    return this.listening;
  }

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const s of specs) {
      if (s.proto === 'udp') await this.listenUdp(s);
      else await this.listenTcp(s);
    }
  }

  private async listenUdp(s: ListenSpec): Promise<void> {
    const family = isIPv6(s.address) ? 6 : 4;
    // Bursts at thousands of calls/s overflow the default receive buffer; the kernel caps the size
    // at net.core.rmem_max.
    const sock = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(s.port, s.address, () => {
        sock.off('error', rej);
        res();
      });
    });
    const port = sock.address().port;
    const info: ListenSocket = { proto: 'udp', address: s.address, port, family, id: socketId('udp', s.address, port) };
    sock.on('error', (e) => this.error(e, `udp ${info.id}`));
    sock.on('message', (data, r) => {
      this.stats.udpReceived++;
      this.stats.bytesReceived += data.length;
      // RFC 5626 keep-alives over UDP carry no message.
      if (data.length <= 4 && (data[0] === 13 || data[0] === 10 || data.length === 0)) return;
      this.opts.onMessage(data, { proto: 'udp', srcAddress: r.address, srcPort: r.port, localAddress: info.address, localPort: info.port, family });
    });
    this.udp.push({ info, sock });
    this.listening = [...this.listening, info];
  }

  private async listenTcp(s: ListenSpec): Promise<void> {
    const family = isIPv6(s.address) ? 6 : 4;
    const server = createServer({ noDelay: true });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ port: s.port, host: s.address, ipv6Only: family === 6 }, () => {
        server.off('error', rej);
        res();
      });
    });
    const port = (server.address() as { port: number }).port;
    const info: ListenSocket = { proto: 'tcp', address: s.address, port, family, id: socketId('tcp', s.address, port) };
    server.on('error', (e) => this.error(e, `tcp ${info.id}`));
    server.on('connection', (sock) => {
      if (this.conns.size >= this.maxConns) {
        sock.destroy();
        return;
      }
      this.stats.connectionsAccepted++;
      this.adopt(sock, info, sock.remoteAddress ?? '', sock.remotePort ?? 0, true);
    });
    this.tcp.push({ info, server });
    this.listening = [...this.listening, info];
  }

  private adopt(sock: Socket, local: ListenSocket, address: string, port: number, connected: boolean): TcpConn {
    const c = new TcpConn(this.nextConnId++, sock, local, normalize(address), port, connected, this.maxMessageSize);
    this.conns.set(c.id, c);
    this.byPeer.set(key(c.remoteAddress, c.remotePort), c);
    this.stats.connectionsOpen = this.conns.size;
    sock.setNoDelay(true);
    sock.setTimeout(this.idleMs, () => sock.destroy());
    sock.on('data', (chunk: Buffer) => this.onTcpData(c, chunk));
    sock.on('error', (e) => this.error(e, `tcp connection ${c.remoteAddress}:${c.remotePort}`));
    sock.on('close', () => this.dropConn(c));
    return c;
  }

  private onTcpData(c: TcpConn, chunk: Buffer): void {
    this.stats.bytesReceived += chunk.length;
    let frames;
    try {
      frames = c.framer.push(chunk);
    } catch (e) {
      // Garbage or an oversize message closes this connection only.
      this.stats.framingErrors++;
      this.error(e instanceof Error ? e : new Error(String(e)), `tcp framing from ${c.remoteAddress}:${c.remotePort}`);
      c.sock.destroy();
      return;
    }
    for (const f of frames) {
      if (f.kind === 'ping') {
        c.sock.write('\r\n');
        continue;
      }
      this.stats.tcpReceived++;
      this.opts.onMessage(f.data, {
        proto: 'tcp', srcAddress: c.remoteAddress, srcPort: c.remotePort, localAddress: c.local.address, localPort: c.local.port,
        family: c.local.family, connId: c.id,
      });
    }
  }

  private dropConn(c: TcpConn): void {
    if (!this.conns.delete(c.id)) return;
    const k = key(c.remoteAddress, c.remotePort);
    if (this.byPeer.get(k) === c) this.byPeer.delete(k);
    this.stats.connectionsClosed++;
    this.stats.connectionsOpen = this.conns.size;
  }

  /** Sends one message; false only on an immediate failure (async failures go to onError). */
  send(t: SendTarget, data: Buffer): boolean {
    if (t.proto === 'udp') return this.sendUdp(t, data);
    if (t.proto === 'tcp') return this.sendTcp(t, data);
    this.stats.sendErrors++;
    return false;
  }

  private sendUdp(t: SendTarget, data: Buffer): boolean {
    const l = this.udpFor(t);
    if (!l) {
      this.stats.sendErrors++;
      return false;
    }
    this.stats.udpSent++;
    this.stats.bytesSent += data.length;
    l.sock.send(data, t.port, t.address, (e) => {
      if (e) {
        this.stats.sendErrors++;
        this.error(e, `udp send to ${t.address}:${t.port}`);
      }
    });
    return true;
  }

  private udpFor(t: SendTarget): UdpListener | undefined {
    const family = t.address.includes(':') ? 6 : 4;
    let fallback: UdpListener | undefined;
    for (const l of this.udp) {
      if (t.local && l.info.id === t.local) return l;
      if (l.info.family === family) fallback ??= l;
    }
    return fallback;
  }

  private sendTcp(t: SendTarget, data: Buffer): boolean {
    const address = normalize(t.address);
    let c = t.connId !== undefined ? this.conns.get(t.connId) : undefined;
    c ??= this.byPeer.get(key(address, t.port));
    if (!c) {
      if (t.noConnect) return false;
      c = this.connect(address, t.port, t.local) ?? undefined;
      if (!c) {
        this.stats.sendErrors++;
        return false;
      }
    }
    this.stats.tcpSent++;
    this.stats.bytesSent += data.length;
    if (!c.connected) c.pending.push(data);
    else c.sock.write(data);
    if (t.closeAfter) c.sock.end();
    return true;
  }

  private connect(address: string, port: number, local: string | undefined): TcpConn | null {
    if (this.conns.size >= this.maxConns) return null;
    const family = address.includes(':') ? 6 : 4;
    const l = this.tcp.find((x) => (local ? x.info.id === local : x.info.family === family)) ?? this.tcp.find((x) => x.info.family === family);
    if (!l) return null;
    const sock = createConnection({ host: address, port, noDelay: true });
    const c = this.adopt(sock, l.info, address, port, false);
    this.stats.connectionsOpened++;
    sock.once('connect', () => {
      c.connected = true;
      for (const d of c.pending) sock.write(d);
      c.pending = [];
    });
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.conns.values()) c.sock.destroy();
    await Promise.all([
      ...this.udp.map((l) => new Promise<void>((r) => l.sock.close(() => r()))),
      ...this.tcp.map((l) => new Promise<void>((r) => l.server.close(() => r()))),
    ]);
    this.udp.length = 0;
    this.tcp.length = 0;
    this.listening = [];
  }

  private error(e: Error, where: string): void {
    this.opts.onError?.(e, where);
  }
}

/** IPv4-mapped IPv6 source addresses are reported as plain IPv4. */
function normalize(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
