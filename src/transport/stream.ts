/**
 * What every connection-oriented transport (tcp, tls, ws, wss) shares, in one place: the table
 * of connections by id and by peer address (Kamailio's connection aliases: a reply or a request to
 * `addr:port` reuses the connection from there), the limits that keep one peer from starving the
 * rest (global and per-source connection counts, idle and header-completion timeouts), and their
 * counters. ByteStreamTransport adds SIP framing over a byte stream for tcp and tls.
 */
import type { Socket, Server } from 'node:net';
import { StreamFramer } from './stream-framer.js';
import { familyOf, newCounters, type Transport, type TransportCounters, type TransportEnv } from './transport.js';
import { normalizeAddress, type ListenSocket, type ListenSpec, type Proto, type SendTarget, type TlsConnInfo } from './types.js';

/** Limits of one stream transport; config section `tcp` (README), applied to tcp, tls, ws, wss. */
export interface StreamLimits {
  /** Largest SIP message (or WebSocket message) accepted, bytes. */
  maxMessageSize: number;
  /** Open connections (accepted, opened and in handshake) at most. */
  maxConnections: number;
  /** Accepted connections from one source address at most; 0: no limit. */
  maxConnectionsPerSource: number;
  /** A connection with no complete message (or keep-alive) in or out this long is closed, ms. */
  idleTimeoutMs: number;
  /** An accepted connection must complete its first message's headers, and any later message's
   * headers once its first byte came, within this time, ms; 0: off. */
  headerTimeoutMs: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<StreamLimits> = {
  maxMessageSize: 65535,
  maxConnections: 2048,
  maxConnectionsPerSource: 256,
  idleTimeoutMs: 120_000,
  headerTimeoutMs: 10_000,
};

export interface StreamCounters extends TransportCounters {
  /** Connections closed for garbage or an oversize message. */
  framingErrors: number;
  connectionsOpen: number;
  connectionsAccepted: number;
  connectionsOpened: number;
  connectionsClosed: number;
  /** Incoming connections refused at maxConnections / maxConnectionsPerSource. */
  rejectedMaxConnections: number;
  rejectedPerSource: number;
  /** Connections closed by the idle / header-completion timers. */
  idleTimeouts: number;
  headerTimeouts: number;
  /** TLS handshakes (tls, wss) or HTTP upgrades (ws, wss) that failed. */
  handshakeErrors: number;
}

export function newStreamCounters(): StreamCounters {
  return {
    ...newCounters(), framingErrors: 0, connectionsOpen: 0, connectionsAccepted: 0, connectionsOpened: 0, connectionsClosed: 0,
    rejectedMaxConnections: 0, rejectedPerSource: 0, idleTimeouts: 0, headerTimeouts: 0, handshakeErrors: 0,
  };
}

/** One connection of a stream transport, as the table sees it. */
export abstract class StreamConn {
  /** Date.now() of the last complete message or keep-alive, in or out. */
  lastActive = Date.now();
  /** Date.now() since when a message's headers are awaited; 0 when none is. */
  headersSince = 0;
  /** Set when the connection is to be closed once its last answers are out (at closeAt). */
  closeAt = 0;

  constructor(
    readonly id: number,
    readonly local: ListenSocket,
    public remoteAddress: string,
    public remotePort: number,
  ) {}

  abstract write(data: Buffer): void;
  /** Graceful close; `thenDestroyAfterMs`: give up on a peer that does not close within that time. */
  abstract end(thenDestroyAfterMs?: number): void;
  abstract destroy(): void;
}

const peerKey = (address: string, port: number): string => `${address}|${port}`;

/** Connections by id and by peer, with the limits and the timer that enforces them. */
export class ConnTable<C extends StreamConn> {
  readonly conns = new Map<number, C>();
  private readonly byPeer = new Map<string, C>();
  private readonly perSource = new Map<string, number>();
  /** Connections counted against maxConnections: in the table or in a handshake. */
  private reserved = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limits: StreamLimits,
    readonly stats: StreamCounters,
  ) {}

  /** Room for one more incoming connection from `address`? Counts the refusal when not; reserves a slot when so. */
  admit(address: string): boolean {
    if (this.reserved >= this.limits.maxConnections) {
      this.stats.rejectedMaxConnections++;
      return false;
    }
    const n = this.perSource.get(address) ?? 0;
    if (this.limits.maxConnectionsPerSource > 0 && n >= this.limits.maxConnectionsPerSource) {
      this.stats.rejectedPerSource++;
      return false;
    }
    this.perSource.set(address, n + 1);
    this.reserved++;
    return true;
  }

  /** Gives back a slot taken by admit(), when the accepted socket closes. */
  releaseIncoming(address: string): void {
    this.reserved--;
    const n = (this.perSource.get(address) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(address);
    else this.perSource.set(address, n);
  }

  /** Room for one more outgoing connection (reserves it)? */
  reserveOutgoing(): boolean {
    if (this.reserved >= this.limits.maxConnections) return false;
    this.reserved++;
    return true;
  }

  releaseOutgoing(): void {
    this.reserved--;
  }

  /**
   * Adds a connection. Its slot (admit() or reserveOutgoing()) belongs to its socket and is given
   * back when the socket closes, so TLS handshakes in progress count too.
   */
  add(c: C, accepted: boolean): void {
    if (accepted && this.limits.headerTimeoutMs > 0) c.headersSince = Date.now();
    this.conns.set(c.id, c);
    this.byPeer.set(peerKey(c.remoteAddress, c.remotePort), c);
    this.stats.connectionsOpen = this.conns.size;
    if (accepted) this.stats.connectionsAccepted++;
    else this.stats.connectionsOpened++;
    this.timer ??= this.startTimer();
  }

  remove(c: C): void {
    if (!this.conns.delete(c.id)) return;
    this.unalias(c);
    this.stats.connectionsClosed++;
    this.stats.connectionsOpen = this.conns.size;
    if (this.conns.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** New messages to this peer will not use `c` (it is closing). */
  unalias(c: C): void {
    const k = peerKey(c.remoteAddress, c.remotePort);
    if (this.byPeer.get(k) === c) this.byPeer.delete(k);
  }

  /** The connection a message to `t` goes on: the one named, else the one from/to its address. */
  find(t: SendTarget): C | undefined {
    const c = t.connId !== undefined ? this.conns.get(t.connId) : undefined;
    return c ?? this.byPeer.get(peerKey(normalizeAddress(t.address), t.port));
  }

  /** Closes connections past their timers; runs from one interval per table, not a timer per connection. */
  sweep(now: number): void {
    const { idleTimeoutMs, headerTimeoutMs } = this.limits;
    for (const c of this.conns.values()) {
      if (c.closeAt > 0) {
        if (now >= c.closeAt) {
          this.remove(c);
          c.end(CLOSE_GRACE_MS);
        }
        continue;
      }
      if (headerTimeoutMs > 0 && c.headersSince > 0 && now - c.headersSince >= headerTimeoutMs) {
        this.stats.headerTimeouts++;
        this.remove(c);
        c.destroy();
      } else if (now - c.lastActive >= idleTimeoutMs) {
        this.stats.idleTimeouts++;
        this.remove(c);
        c.destroy();
      }
    }
  }

  private startTimer(): NodeJS.Timeout {
    const shortest = Math.min(this.limits.idleTimeoutMs, this.limits.headerTimeoutMs || Infinity);
    const t = setInterval(() => this.sweep(Date.now()), Math.max(20, Math.min(1000, shortest / 4)));
    t.unref();
    return t;
  }

  closeAll(): void {
    for (const c of [...this.conns.values()]) {
      this.remove(c);
      c.destroy();
    }
  }
}

/** Time a connection that stopped framing stays open for the answers to what it sent before, ms. */
export const CLOSE_GRACE_MS = 1000;

/** A SIP connection over a byte stream (net.Socket or tls.TLSSocket). */
export class ByteStreamConn extends StreamConn {
  readonly framer: StreamFramer;
  connected: boolean;
  pending: Buffer[] = [];

  constructor(id: number, local: ListenSocket, remoteAddress: string, remotePort: number, readonly sock: Socket, connected: boolean, maxMessageSize: number) {
    super(id, local, remoteAddress, remotePort);
    this.framer = new StreamFramer(maxMessageSize);
    this.connected = connected;
  }

  write(data: Buffer): void {
    if (!this.connected) this.pending.push(data);
    else this.sock.write(data);
  }

  end(thenDestroyAfterMs?: number): void {
    this.sock.end();
    // Read on: a paused socket never sees the peer's FIN.
    this.sock.resume();
    if (thenDestroyAfterMs !== undefined) setTimeout(() => this.sock.destroy(), thenDestroyAfterMs).unref();
  }

  destroy(): void {
    this.sock.destroy();
  }
}

interface StreamListener {
  info: ListenSocket;
  server: Server;
}

/**
 * TCP and TLS: listen, accept within the limits, frame SIP messages (RFC 3261 18.3), answer
 * CRLF keep-alives, send on the peer's connection or open one. Subclasses make the sockets.
 */
export abstract class ByteStreamTransport implements Transport {
  readonly stats = newStreamCounters();
  protected readonly table: ConnTable<ByteStreamConn>;
  protected readonly listeners: StreamListener[] = [];
  /** Every accepted socket, so close() ends those still in a TLS handshake too. */
  private readonly raw = new Set<Socket>();
  private infos: ListenSocket[] = [];

  constructor(
    readonly proto: Proto & ('tcp' | 'tls'),
    protected readonly env: TransportEnv,
    limits: StreamLimits,
  ) {
    this.table = new ConnTable(limits, this.stats);
  }

  /** A listening server; `onSocket` gets each connection ready for SIP (after the TLS handshake). */
  protected abstract createServer(spec: ListenSpec, onSocket: (sock: Socket, rawRemote: { address: string; port: number }) => void): Server;
  /** An outgoing connection to `t`, and the event that says it is ready. */
  protected abstract connectSocket(t: SendTarget, address: string): { sock: Socket; readyEvent: string };

  sockets(): readonly ListenSocket[] {
    return this.infos;
  }

  async listen(s: ListenSpec): Promise<ListenSocket> {
    const family = familyOf(s.address);
    let info: ListenSocket | undefined;
    const server = this.createServer(s, (sock, raw) => {
      if (info) this.adopt(sock, info, raw.address, raw.port, true);
      else sock.destroy();
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ port: s.port, host: s.address, ipv6Only: family === 6 }, () => {
        server.off('error', rej);
        res();
      });
    });
    const port = (server.address() as { port: number }).port;
    info = { proto: this.proto, address: s.address, port, family, id: `${this.proto}:${family === 6 ? `[${s.address}]` : s.address}:${port}` };
    const where = info.id;
    server.on('error', (e) => this.env.error(e, `${this.proto} ${where}`));
    this.listeners.push({ info, server });
    this.infos = [...this.infos, info];
    return info;
  }

  /**
   * Limit check for a new raw incoming socket (before any TLS handshake): destroys it when over a
   * limit, else holds its slot until it closes.
   */
  protected admit(sock: Socket): boolean {
    const address = normalizeAddress(sock.remoteAddress ?? '');
    if (!this.table.admit(address)) {
      sock.destroy();
      return false;
    }
    this.raw.add(sock);
    sock.once('close', () => {
      this.raw.delete(sock);
      this.table.releaseIncoming(address);
    });
    return true;
  }

  protected adopt(sock: Socket, local: ListenSocket, address: string, port: number, accepted: boolean): ByteStreamConn {
    const c = new ByteStreamConn(this.env.nextConnId(), local, normalizeAddress(address), port, sock, accepted, this.table.limits.maxMessageSize);
    this.table.add(c, accepted);
    this.env.connOpened?.(this.proto, c.id, c.remoteAddress, c.remotePort, accepted ? this.tlsFacts(sock) : undefined);
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(c, chunk));
    sock.on('error', (e) => this.env.error(e, `${this.proto} connection ${c.remoteAddress}:${c.remotePort}`));
    sock.on('close', () => {
      this.table.remove(c);
      this.env.connClosed?.(this.proto, c.id, c.remoteAddress, c.remotePort);
    });
    return c;
  }

  private onData(c: ByteStreamConn, chunk: Buffer): void {
    this.stats.bytesReceived += chunk.length;
    if (c.closeAt > 0) return;
    const { frames, error } = c.framer.push(chunk);
    for (const f of frames) {
      c.lastActive = Date.now();
      if (f.kind === 'ping') {
        c.write(Buffer.from('\r\n'));
        continue;
      }
      this.stats.received++;
      this.env.deliver(f.data, {
        proto: this.proto, srcAddress: c.remoteAddress, srcPort: c.remotePort, localAddress: c.local.address, localPort: c.local.port,
        family: c.local.family, connId: c.id,
      });
    }
    if (error) {
      // Garbage or an oversize message: what came before it is answered, then the connection closes.
      this.stats.framingErrors++;
      this.env.error(error, `${this.proto} framing from ${c.remoteAddress}:${c.remotePort}`);
      if (frames.some((f) => f.kind === 'message')) {
        c.closeAt = Date.now() + CLOSE_GRACE_MS;
        c.headersSince = 0;
        c.sock.pause();
        this.table.unalias(c);
      } else {
        this.table.remove(c);
        c.destroy();
      }
      return;
    }
    if (c.framer.headersPending) {
      if (c.headersSince === 0 && this.table.limits.headerTimeoutMs > 0) c.headersSince = Date.now();
    } else c.headersSince = 0;
  }

  holds(t: SendTarget): boolean {
    return this.table.find(t) !== undefined;
  }

  send(t: SendTarget, data: Buffer): boolean {
    let c = this.table.find(t);
    if (!c) {
      if (t.noConnect) return false;
      c = this.connect(t);
      if (!c) {
        this.stats.sendErrors++;
        return false;
      }
    }
    this.stats.sent++;
    this.stats.bytesSent += data.length;
    c.lastActive = Date.now();
    c.write(data);
    if (t.closeAfter) c.end();
    return true;
  }

  /** The TLS facts of a connection whose handshake is done (TLS transports), for the other workers. */
  protected tlsFacts(_sock: Socket): TlsConnInfo | undefined {
    return undefined;
  }

  private connect(t: SendTarget): ByteStreamConn | undefined {
    const address = normalizeAddress(t.address);
    const family = familyOf(address);
    const l = this.listeners.find((x) => (t.local ? x.info.id === t.local : x.info.family === family)) ?? this.listeners.find((x) => x.info.family === family);
    if (!l || !this.table.reserveOutgoing()) return undefined;
    let made: { sock: Socket; readyEvent: string };
    try {
      made = this.connectSocket(t, address);
    } catch (e) {
      this.table.releaseOutgoing();
      this.env.error(e instanceof Error ? e : new Error(String(e)), `${this.proto} connect to ${address}:${t.port}`);
      return undefined;
    }
    made.sock.once('close', () => this.table.releaseOutgoing());
    const c = this.adopt(made.sock, l.info, address, t.port, false);
    made.sock.once(made.readyEvent, () => {
      c.connected = true;
      // Announced again with the facts of its handshake, only where other workers listen.
      if (this.env.connOpened) {
        const tls = this.tlsFacts(made.sock);
        if (tls) this.env.connOpened(this.proto, c.id, c.remoteAddress, c.remotePort, tls);
      }
      for (const d of c.pending) made.sock.write(d);
      c.pending = [];
    });
    return c;
  }

  async close(): Promise<void> {
    this.table.closeAll();
    for (const r of this.raw) r.destroy();
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.server.close(() => r()))));
    this.listeners.length = 0;
    this.infos = [];
  }
}
