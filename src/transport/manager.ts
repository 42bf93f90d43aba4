/**
 * The transports of one proxy instance, one per protocol (transport.ts), made when a listen spec
 * first names their protocol. The manager only dispatches by protocol; UDP, the hot path, is
 * reached through a field, without a map lookup.
 */
import type { StreamCounters, StreamLimits } from './stream.js';
import { streamLimits, type TcpSettings, type TlsSettings, type WsSettings } from './settings.js';
import { TcpTransport } from './tcp.js';
import { TlsCredentials, TlsTransport } from './tls.js';
import type { Transport, TransportEnv } from './transport.js';
import { UdpTransport } from './udp.js';
import type { UdpQueueReading } from './udp-queue.js';
import type { UdpBind } from './types.js';
import { WsTransport, type HttpHook, type WsOptions } from './ws.js';
import type { ConnectionQueries, ConnInfo, ListenProto, ListenSocket, ListenSpec, PeerConnections, Proto, ReceiveInfo, SendTarget } from './types.js';

export interface TransportOptions {
  onMessage: (data: Buffer, rcv: ReceiveInfo) => void;
  onError?: (e: Error, where: string) => void;
  /** Config sections (settings.ts): stream limits, TLS certificates and policy, WebSocket. */
  tcp?: TcpSettings;
  tls?: TlsSettings;
  ws?: WsSettings;
  /**
   * An HTTP request on a ws/wss listener (upgrade or not): the core runs the script's
   * ksr_xhttp_event and says accept (handle_handshake) or reply (xhttp_reply). Default: accept an
   * upgrade offering the `sip` subprotocol, 404 for anything else.
   */
  onHttpRequest?: HttpHook;
  /** A ws/wss connection closed (ksr_websocket_event "websocket:closed"). */
  onWsClosed?: WsOptions['onClosed'];
  /** Any stream connection (tcp, tls, ws, wss) closed: tm ends the branches waiting on it. */
  onConnClosed?: TransportEnv['connClosed'];
  /** Three stream limits in code units (bytes, ms), over `tcp`: for tests and embedders. */
  maxMessageSize?: number;
  tcpIdleTimeoutMs?: number;
  maxTcpConnections?: number;
  /** How UDP listeners bind: a cluster worker's own sockets or the shared handle (udp.ts). */
  udpBind?: UdpBind;
  /** With workers: the stream connections the other workers hold, and where their hand-overs land. */
  peers?: PeerConnections;
  /**
   * Connection ids `first + step * n` (n = 1, 2, ...): a worker's ids are `index + workers * n`,
   * unique across the workers, and the id names the worker holding it. Default 0 and 1.
   */
  connIds?: { first: number; step: number };
}

/** Totals over all transports (the metrics read these names), and each transport's own counters. */
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
  rejectedMaxConnections: number;
  rejectedPerSource: number;
  idleTimeouts: number;
  headerTimeouts: number;
  handshakeErrors: number;
  sendErrors: number;
  byProto: Partial<Record<ListenProto, Readonly<Record<string, number>>>>;
}

/** What a transport may need besides its env, made on demand. */
interface TransportDeps {
  limits: StreamLimits;
  /** The instance's certificates (throws when the tls section has none). */
  tls(): TlsCredentials;
  ws: WsOptions;
  udpBind: UdpBind;
}

type Factory = (env: TransportEnv, deps: TransportDeps) => Transport;

/** The registration of each transport: a new one is its file plus its line here. */
const FACTORIES: Record<ListenProto, Factory> = {
  udp: (env, d) => new UdpTransport(env, d.udpBind),
  tcp: (env, d) => new TcpTransport(env, d.limits),
  tls: (env, d) => new TlsTransport(env, d.limits, d.tls()),
  ws: (env, d) => new WsTransport('ws', env, d.limits, d.ws, null),
  wss: (env, d) => new WsTransport('wss', env, d.limits, d.ws, d.tls()),
};

export type { ConnInfo } from './types.js';
export type { UdpBind } from './types.js';

export class TransportManager implements ConnectionQueries {
  private readonly byProto = new Map<Proto, Transport>();
  /** The UDP transport, when listening on UDP: the fast path of send(). */
  private udp: UdpTransport | undefined;
  private listening: ListenSocket[] = [];
  private connIds = 0;
  private sendErrorsNoTransport = 0;
  private readonly env: TransportEnv;
  readonly limits: StreamLimits;
  private creds: TlsCredentials | undefined;
  private readonly peers: PeerConnections | undefined;

  constructor(private readonly opts: TransportOptions) {
    this.limits = {
      ...streamLimits(opts.tcp),
      ...(opts.maxMessageSize !== undefined ? { maxMessageSize: opts.maxMessageSize } : {}),
      ...(opts.tcpIdleTimeoutMs !== undefined ? { idleTimeoutMs: opts.tcpIdleTimeoutMs } : {}),
      ...(opts.maxTcpConnections !== undefined ? { maxConnections: opts.maxTcpConnections } : {}),
    };
    const { first, step } = opts.connIds ?? { first: 0, step: 1 };
    const peers = (this.peers = opts.peers);
    this.env = {
      deliver: opts.onMessage,
      error: (e, where) => opts.onError?.(e, where),
      nextConnId: () => first + step * ++this.connIds,
      connOpened: peers ? (proto, id, address, port, tls) => peers.opened(proto, id, address, port, tls) : undefined,
      connClosed: peers
        ? (proto, id, address, port) => {
          peers.closed(proto, id, address, port);
          opts.onConnClosed?.(proto, id, address, port);
        }
        : opts.onConnClosed,
    };
    peers?.serve({
      send: (t, data) => this.sendHere(t, data),
      closed: (proto, id, address, port) => opts.onConnClosed?.(proto, id, address, port),
      closeWebSocket: (id, status, reason) => this.closeOwnWebSocket(id, status, reason),
    });
  }

  sockets(): readonly ListenSocket[] {
    return this.listening;
  }

  /** The transport of a protocol, made on first use. */
  transport(proto: ListenProto): Transport {
    let t = this.byProto.get(proto);
    if (!t) {
      const make = FACTORIES[proto];
      if (!make) throw new Error(`no ${proto} transport in this build`);
      t = make(this.env, {
        limits: this.limits,
        tls: () => (this.creds ??= new TlsCredentials(this.opts.tls ?? {})),
        ws: { settings: this.opts.ws ?? {}, onHttpRequest: this.opts.onHttpRequest, onClosed: this.opts.onWsClosed },
        udpBind: this.opts.udpBind ?? 'shared',
      });
      this.byProto.set(proto, t);
      if (t instanceof UdpTransport) this.udp = t;
    }
    return t;
  }

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const s of specs) {
      const info = await this.transport(s.proto).listen(s);
      this.listening = [...this.listening, info];
    }
  }

  /** The fullest UDP receive buffer (queued bytes, share of its size); undefined without UDP or where the OS does not tell. */
  udpBacklog(): UdpQueueReading | undefined {
    return this.udp?.backlog();
  }

  /** Sends one message; false only on an immediate failure (async failures go to onError). */
  send(t: SendTarget, data: Buffer): boolean {
    if (t.proto === 'udp' && this.udp) return this.udp.send(t, data);
    if (this.peers && !this.byProto.get(t.proto)?.holds?.(t)) {
      // No connection of ours carries it: another worker's may (a WebSocket client it accepted).
      const w = this.peers.holder(t);
      if (w !== undefined) return this.peers.handOver(w, t, data);
    }
    return this.sendHere(t, data);
  }

  /** Sends on this process's own sockets and connections (opening one where the protocol may). */
  private sendHere(t: SendTarget, data: Buffer): boolean {
    const tr = this.byProto.get(t.proto);
    if (tr) return tr.send(t, data);
    this.sendErrorsNoTransport++;
    return false;
  }

  /**
   * Re-reads the TLS certificate files (call on script reload); the listeners use the new ones for
   * new handshakes. Throws, keeping the old ones, when a file is missing or a key does not match.
   * False when no TLS is in use.
   */
  reloadCertificates(): boolean {
    if (!this.creds) return false;
    this.creds.load();
    return true;
  }

  /** The protocol and TLS facts of a connection by id (any transport), undefined when it is gone. */
  connInfo(connId: number): ConnInfo | undefined {
    for (const [proto, t] of this.byProto) {
      if (t instanceof TlsTransport) {
        const tls = t.connInfo(connId);
        if (tls) return { proto, tls };
      } else if (t instanceof WsTransport) {
        const i = t.connInfo(connId);
        if (i) return { proto, ...i };
      }
    }
    // Another worker's connection: what it announced (the TLS facts of its handshake).
    return this.peers?.connInfo(connId);
  }

  /** Closes a WebSocket connection (KSR.websocket.close*): ours, else by the worker holding it. */
  closeWebSocket(connId: number, status: number, reason: string): boolean {
    return this.closeOwnWebSocket(connId, status, reason) || (this.peers?.closeHeld(connId, status, reason) ?? false);
  }

  private closeOwnWebSocket(connId: number, status: number, reason: string): boolean {
    for (const t of this.byProto.values()) if (t instanceof WsTransport && t.connInfo(connId)) return t.closeConn(connId, status, reason);
    return false;
  }

  get stats(): TransportStats {
    const s: TransportStats = {
      udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, bytesReceived: 0, bytesSent: 0, framingErrors: 0,
      connectionsOpen: 0, connectionsAccepted: 0, connectionsOpened: 0, connectionsClosed: 0, rejectedMaxConnections: 0,
      rejectedPerSource: 0, idleTimeouts: 0, headerTimeouts: 0, handshakeErrors: 0, sendErrors: this.sendErrorsNoTransport, byProto: {},
    };
    for (const [proto, t] of this.byProto) {
      const c = t.stats;
      s.byProto[proto as ListenProto] = { ...c };
      s.bytesReceived += c.bytesReceived;
      s.bytesSent += c.bytesSent;
      s.sendErrors += c.sendErrors;
      if (proto === 'udp') {
        s.udpReceived += c.received;
        s.udpSent += c.sent;
        continue;
      }
      if (proto === 'tcp') {
        s.tcpReceived += c.received;
        s.tcpSent += c.sent;
      }
      if (isStream(c)) {
        s.framingErrors += c.framingErrors;
        s.connectionsOpen += c.connectionsOpen;
        s.connectionsAccepted += c.connectionsAccepted;
        s.connectionsOpened += c.connectionsOpened;
        s.connectionsClosed += c.connectionsClosed;
        s.rejectedMaxConnections += c.rejectedMaxConnections;
        s.rejectedPerSource += c.rejectedPerSource;
        s.idleTimeouts += c.idleTimeouts;
        s.headerTimeouts += c.headerTimeouts;
        s.handshakeErrors += c.handshakeErrors;
      }
    }
    return s;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byProto.values()].map((t) => t.close()));
    this.byProto.clear();
    this.udp = undefined;
    this.listening = [];
  }
}

function isStream(c: Transport['stats']): c is StreamCounters {
  return 'connectionsOpen' in c;
}
