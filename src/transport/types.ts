/**
 * Transport-layer types: listen specifications, listen sockets and send targets.
 */
import type { PeerCertificate } from 'node:tls';
import { nameTable } from '../lib/name-table.js';

export type Proto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' | 'sctp';

/** The protocols kemi-proxy can listen on (one Transport each, src/transport/manager.ts). */
export type ListenProto = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export const LISTEN_PROTOS: readonly ListenProto[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** Where a message arrived: its source and the local socket that received it. */
export interface ReceiveInfo {
  readonly proto: Proto;
  readonly srcAddress: string;
  readonly srcPort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** 4 or 6: family of the receiving socket. */
  readonly family: 4 | 6;
  /** Connection id (TCP, TLS, WS, WSS), for replies over the same connection. */
  readonly connId?: number;
}

export interface ListenSpec {
  proto: ListenProto;
  address: string;
  port: number;
}

export interface ListenSocket {
  readonly proto: ListenProto;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** Stable id, `udp:127.0.0.1:5060` / `tcp:[::1]:5060`. */
  readonly id: string;
}

export interface SendTarget {
  proto: Proto;
  address: string;
  port: number;
  /** Connection to use (replies go back on the connection the request came on). */
  connId?: number;
  /** Only reuse an existing connection, never open one. */
  noConnect?: boolean;
  /** Close the connection after this message. */
  closeAfter?: boolean;
  /** ListenSocket id to send from. */
  local?: string;
  /** TLS: the name the server's certificate must carry (the URI host); the address when absent. */
  serverName?: string;
}

/** The TLS facts of one connection, for $tls_* and KSR.tls (kemi/tls.ts). */
export interface TlsConnInfo {
  /** The peer's certificate was verified against our CA (client certificates: clientCert request/require). */
  verified: boolean;
  /** Why not, when not (OpenSSL's error code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT). */
  verifyError: string | null;
  /** 'TLSv1.3' ... */
  version: string | null;
  cipher: { name: string; standardName: string; version: string; bits: number } | null;
  /** Empty object when the peer sent none. */
  peerCert: PeerCertificate | null;
  localCert: PeerCertificate | null;
  /** SNI the client asked for (incoming) or we sent (outgoing). */
  serverName: string | null;
}

/** The protocol and TLS facts of a connection ($tls_*, KSR.tls, $ws_conid). */
export interface ConnInfo {
  proto: Proto;
  tls?: TlsConnInfo;
}

/**
 * What KSR modules may ask of the instance's transports about connections (ProxyServices.transports):
 * TLS facts by connection id, and closing a WebSocket connection (KSR.websocket.close*).
 */
export interface ConnectionQueries {
  connInfo(connId: number): ConnInfo | undefined;
  /**
   * Closes a WebSocket connection with a close frame (status, reason): ours, or another worker's
   * by a hand-over. False when no WebSocket connection has that id.
   */
  closeWebSocket(connId: number, status: number, reason: string): boolean;
}

const PROTO_NAMES = new Map<string, Proto>([['udp', 'udp'], ['tcp', 'tcp'], ['tls', 'tls'], ['ws', 'ws'], ['wss', 'wss'], ['sctp', 'sctp']]);

/**
 * The protocol a transport name (any case) stands for, as the one constant string; undefined for
 * any other name ("constructor" included: a lookup in an object literal would find its prototype's).
 */
export function protoNamed(name: string): Proto | undefined {
  return PROTO_NAMES.get(name.toLowerCase());
}

/** Kamailio's PROTO_* ids by protocol name ($prid, $snd(proto), KSR.kx.get_protoid, nathelper's alias). */
export const PROTO_IDS = nameTable({ udp: 1, tcp: 2, tls: 3, sctp: 4, ws: 5, wss: 6 });

export function socketId(proto: string, address: string, port: number): string {
  return `${proto}:${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:0.0.0.0:5061`, `wss:127.0.0.1:8443`. */
export function parseListen(spec: string): ListenSpec {
  const m = /^(udp|tcp|tls|ws|wss):(\[[^\]]+\]|[^:]+):(\d{1,5})$/i.exec(spec.trim());
  if (!m) throw new Error(`bad listen spec '${spec}' (want proto:address:port, proto one of ${LISTEN_PROTOS.join('|')}, e.g. udp:127.0.0.1:5060)`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`bad port in '${spec}'`);
  return { proto: m[1]!.toLowerCase() as ListenProto, address: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** IPv4-mapped IPv6 source addresses are reported as plain IPv4. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * Kamailio's socket specification `[proto:]host[:port]` (set_send_socket, $fs): null when it does
 * not parse. An absent proto matches any; an absent port is the protocol's default.
 */
export function parseSocketSpec(spec: string): { proto: Proto | null; address: string; port: number } | null {
  const m = /^(?:(udp|tcp|tls|ws|wss|sctp):)?(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(spec.trim());
  if (!m) return null;
  const proto = m[1] ? (m[1].toLowerCase() as Proto) : null;
  const port = m[3] ? Number(m[3]) : proto === 'tls' || proto === 'wss' ? 5061 : 5060;
  if (port > 65535) return null;
  return { proto, address: m[2]!.replace(/^\[|\]$/g, '').toLowerCase(), port };
}

/** The listen socket a specification names (Kamailio's grep_sock_info), if there is one. */
export function findSocket(sockets: readonly ListenSocket[], spec: { proto: Proto | null; address: string; port: number }): ListenSocket | undefined {
  return sockets.find((s) => s.address.toLowerCase() === spec.address && s.port === spec.port && (spec.proto === null || s.proto === spec.proto));
}

/**
 * With workers (src/ops/cluster.ts): the stream connections (tcp, tls, ws, wss) that other worker
 * processes hold. A TLS or WebSocket client's connection lives in the worker that accepted it; a
 * message for that client relayed by another worker (a call from a UDP peer, handled by its
 * Call-ID's owner) is handed to the holder, which writes it on the connection.
 */
export interface PeerConnections {
  /** The other worker holding a connection that `t` names (its connId, else its peer), if any. */
  holder(t: SendTarget): number | undefined;
  /** Hands the send to that worker; false when it cannot be handed over. */
  handOver(worker: number, t: SendTarget, data: Buffer): boolean;
  /** The protocol and TLS facts another worker announced for its connection, if any. */
  connInfo(connId: number): ConnInfo | undefined;
  /** Hands the closing of a WebSocket connection to the worker holding it; false when none does. */
  closeHeld(connId: number, status: number, reason: string): boolean;
  /**
   * This process accepted or opened / lost a stream connection: the other workers learn it, and
   * its TLS facts when it has them (announced again once an opened connection's handshake is done).
   */
  opened(proto: Proto, connId: number, address: string, port: number, tls?: TlsConnInfo): void;
  closed(proto: Proto, connId: number, address: string, port: number): void;
  /**
   * Where what the other workers hand over lands: sends on this process's connections and the
   * closing of its WebSocket connections, and the closing of theirs (tm ends the branches that
   * wait on a connection).
   */
  serve(here: {
    send(t: SendTarget, data: Buffer): boolean;
    closed(proto: Proto, connId: number, address: string, port: number): void;
    closeWebSocket(connId: number, status: number, reason: string): boolean;
  }): void;
}

/**
 * How a UDP listener binds: the cluster primary's shared handle, or a socket of its own beside the
 * other workers' (SO_REUSEPORT or SO_REUSEADDR; src/ops/cluster.ts chooses).
 */
export type UdpBind = 'shared' | 'reuseport' | 'reuseaddr';
