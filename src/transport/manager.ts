/**
 * The transports of one proxy instance, one per protocol (transport.ts), made when a listen spec
 * first names their protocol. The manager only dispatches by protocol; UDP, the hot path, is
 * reached through a field, without a map lookup.
 */
import type { StreamCounters, StreamLimits } from './stream.js';
import { streamLimits, type TcpSettings, type TlsSettings, type WsSettings } from './settings.js';
import { TcpTransport } from './tcp.js';
import type { Transport, TransportEnv } from './transport.js';
import { UdpTransport } from './udp.js';
import type { ListenProto, ListenSocket, ListenSpec, Proto, ReceiveInfo, SendTarget } from './types.js';

export interface TransportOptions {
  onMessage: (data: Buffer, rcv: ReceiveInfo) => void;
  onError?: (e: Error, where: string) => void;
  /** Config sections (settings.ts): stream limits, TLS certificates and policy, WebSocket. */
  tcp?: TcpSettings;
  tls?: TlsSettings;
  ws?: WsSettings;
  /** Three stream limits in code units (bytes, ms), over `tcp`: for tests and embedders. */
  maxMessageSize?: number;
  tcpIdleTimeoutMs?: number;
  maxTcpConnections?: number;
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
  sendErrors: number;
  byProto: Partial<Record<ListenProto, Readonly<Record<string, number>>>>;
}

type Factory = (env: TransportEnv, limits: StreamLimits) => Transport;

/** The registration of each transport: a new one is its file plus its line here. */
const FACTORIES: Partial<Record<ListenProto, Factory>> = {
  udp: (env) => new UdpTransport(env),
  tcp: (env, limits) => new TcpTransport(env, limits),
};

export class TransportManager {
  private readonly byProto = new Map<Proto, Transport>();
  /** The UDP transport, when listening on UDP: the fast path of send(). */
  private udp: UdpTransport | undefined;
  private listening: ListenSocket[] = [];
  private connIds = 0;
  private sendErrorsNoTransport = 0;
  private readonly env: TransportEnv;
  readonly limits: StreamLimits;

  constructor(private readonly opts: TransportOptions) {
    this.limits = {
      ...streamLimits(opts.tcp),
      ...(opts.maxMessageSize !== undefined ? { maxMessageSize: opts.maxMessageSize } : {}),
      ...(opts.tcpIdleTimeoutMs !== undefined ? { idleTimeoutMs: opts.tcpIdleTimeoutMs } : {}),
      ...(opts.maxTcpConnections !== undefined ? { maxConnections: opts.maxTcpConnections } : {}),
    };
    this.env = {
      deliver: opts.onMessage,
      error: (e, where) => opts.onError?.(e, where),
      nextConnId: () => ++this.connIds,
    };
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
      t = make(this.env, this.limits);
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

  /** Sends one message; false only on an immediate failure (async failures go to onError). */
  send(t: SendTarget, data: Buffer): boolean {
    if (t.proto === 'udp' && this.udp) return this.udp.send(t, data);
    const tr = this.byProto.get(t.proto);
    if (tr) return tr.send(t, data);
    this.sendErrorsNoTransport++;
    return false;
  }

  get stats(): TransportStats {
    const s: TransportStats = {
      udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, bytesReceived: 0, bytesSent: 0, framingErrors: 0,
      connectionsOpen: 0, connectionsAccepted: 0, connectionsOpened: 0, connectionsClosed: 0, rejectedMaxConnections: 0,
      rejectedPerSource: 0, idleTimeouts: 0, headerTimeouts: 0, sendErrors: this.sendErrorsNoTransport, byProto: {},
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
