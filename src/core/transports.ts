/**
 * What the core uses of its transports: the socket-level TransportManager in production, a
 * capturing one in the offline test harness (src/testing). Received messages come back through
 * the `onMessage` callback the core hands to the transports it makes itself, or through
 * KemiProxy.onMessage for transports made outside.
 */
import type { ConnectionQueries, ListenSocket, ListenSpec, SendTarget } from '../transport/types.js';
import type { QueueReading } from './overload.js';

/** The transport counters the metrics read. */
export interface CoreTransportStats {
  readonly udpReceived: number;
  readonly udpSent: number;
  readonly tcpReceived: number;
  readonly tcpSent: number;
  readonly framingErrors: number;
  readonly sendErrors: number;
  readonly connectionsOpen: number;
}

export interface CoreTransports extends ConnectionQueries {
  readonly stats: CoreTransportStats;
  /** Re-reads the TLS certificate files (after a script reload); false when no TLS is in use. */
  reloadCertificates(): boolean;
  listen(specs: readonly ListenSpec[]): Promise<void>;
  sockets(): readonly ListenSocket[];
  /**
   * The fullest UDP receive buffer (its queued bytes and their share of its size), for the
   * overload guard; undefined where the OS does not tell. Optional: transports without kernel
   * sockets (the offline harness) have none.
   */
  udpBacklog?(): QueueReading | undefined;
  /** Sends one message; false when it could not be sent. */
  send(target: SendTarget, data: Buffer): boolean;
  close(): Promise<void>;
}
