/**
 * The contract of one transport protocol (udp, tcp, tls, ws, wss): the manager (manager.ts) owns
 * one Transport per protocol and only dispatches to it, as undici's Agent delegates to its
 * per-origin pools. A new transport is one file implementing this plus its line in manager.ts.
 */
import type { ListenSocket, ListenSpec, Proto, ReceiveInfo, SendTarget, TlsConnInfo } from './types.js';

/** What a transport gets from its owner: where messages and errors go, and connection ids. */
export interface TransportEnv {
  /** A complete SIP message arrived. */
  deliver(data: Buffer, rcv: ReceiveInfo): void;
  /** Something went wrong on a socket; logged by the owner. */
  error(e: Error, where: string): void;
  /** Connection ids are unique across all transports of one manager (Kamailio's tcp conn id). */
  nextConnId(): number;
  /**
   * A stream connection (tcp, tls, ws, wss) was accepted or opened (other workers learn of it),
   * with its TLS facts once its handshake is done (an opened TLS connection is announced again then).
   */
  connOpened?(proto: Proto, connId: number, address: string, port: number, tls?: TlsConnInfo): void;
  /** A stream connection (tcp, tls, ws, wss) closed, for whatever waits on it (tm branches). */
  connClosed?(proto: Proto, connId: number, address: string, port: number): void;
}

/** Counters every transport keeps; stream transports add theirs (stream.ts). */
export interface TransportCounters {
  /** SIP messages received / sent. */
  received: number;
  sent: number;
  bytesReceived: number;
  bytesSent: number;
  sendErrors: number;
}

export interface Transport {
  readonly proto: Proto;
  /** Opens one listening socket. */
  listen(spec: ListenSpec): Promise<ListenSocket>;
  /** Sends one message; false only on an immediate failure (later failures go to env.error). */
  send(t: SendTarget, data: Buffer): boolean;
  /** Stream transports: a connection of this process carries sends to `t` (its connId or peer). */
  holds?(t: SendTarget): boolean;
  sockets(): readonly ListenSocket[];
  close(): Promise<void>;
  readonly stats: TransportCounters;
}

export function newCounters(): TransportCounters {
  return { received: 0, sent: 0, bytesReceived: 0, bytesSent: 0, sendErrors: 0 };
}

export function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}
