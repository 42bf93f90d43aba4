/**
 * Transports without sockets: listen addresses are only recorded, and every message the proxy
 * sends is kept, in order, for the test to look at.
 */
import type { CoreTransports, CoreTransportStats } from '../core/transports.js';
import { socketId, type ListenSocket, type ListenSpec, type SendTarget } from '../transport/types.js';

export interface CapturedSend {
  readonly target: SendTarget;
  readonly data: Buffer;
  /** Position among everything this instance sent (0-based). */
  readonly seq: number;
}

export class CaptureTransports implements CoreTransports {
  readonly stats: CoreTransportStats & { udpSent: number; tcpSent: number; udpReceived: number; tcpReceived: number } = {
    udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, framingErrors: 0, sendErrors: 0, connectionsOpen: 0,
  };
  readonly sent: CapturedSend[] = [];
  private listening: ListenSocket[] = [];

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    this.listening = specs.map((s) => ({
      proto: s.proto,
      address: s.address,
      port: s.port,
      family: s.address.includes(':') ? 6 : 4,
      id: socketId(s.proto, s.address, s.port),
    }));
  }

  sockets(): readonly ListenSocket[] {
    return this.listening;
  }

  send(target: SendTarget, data: Buffer): boolean {
    this.sent.push({ target: { ...target }, data: Buffer.from(data), seq: this.sent.length });
    if (target.proto === 'udp') this.stats.udpSent++;
    else this.stats.tcpSent++;
    return true;
  }

  /** No connections here: the harness has no streams to query, close or re-certify. */
  connInfo(): undefined {
    return undefined;
  }

  closeWebSocket(): boolean {
    return false;
  }

  reloadCertificates(): boolean {
    return false;
  }

  async close(): Promise<void> {
    this.listening = [];
  }
}
