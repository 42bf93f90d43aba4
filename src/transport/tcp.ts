/**
 * TCP (RFC 3261 18.3): the framing, limits and connection reuse are ByteStreamTransport's; this
 * file only makes plain sockets.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ByteStreamTransport, type StreamLimits } from './stream.js';
import type { TransportEnv } from './transport.js';
import type { ListenSpec, SendTarget } from './types.js';

export class TcpTransport extends ByteStreamTransport {
  constructor(env: TransportEnv, limits: StreamLimits) {
    super('tcp', env, limits);
  }

  protected createServer(_spec: ListenSpec, onSocket: (sock: Socket, raw: { address: string; port: number }) => void): Server {
    const server = createServer({ noDelay: true });
    server.on('connection', (sock) => {
      if (this.admit(sock)) onSocket(sock, { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 });
    });
    return server;
  }

  protected connectSocket(t: SendTarget, address: string): { sock: Socket; readyEvent: string } {
    return { sock: createConnection({ host: address, port: t.port, noDelay: true }), readyEvent: 'connect' };
  }
}
