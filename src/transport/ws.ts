/**
 * SIP over WebSocket (RFC 7118), ws and wss, with the `ws` library for the protocol (RFC 6455):
 * one WebSocket message is one SIP message. The HTTP request that opens a connection goes to the
 * core first (TransportOptions.onHttpRequest: Kamailio's ksr_xhttp_event, where the script calls
 * KSR.websocket.handle_handshake or KSR.xhttp.xhttp_reply); without that hook an upgrade asking for
 * the `sip` subprotocol is accepted and anything else is refused as Kamailio refuses it. Limits,
 * idle timer and aliases are stream.ts's; pings keep quiet connections checked.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConnTable, newStreamCounters, StreamConn, type StreamCounters, type StreamLimits } from './stream.js';
import type { WsSettings } from './settings.js';
import { tlsInfo, type TlsConnInfo, type TlsCredentials } from './tls.js';
import { familyOf, type Transport, type TransportEnv } from './transport.js';
import { normalizeAddress, socketId, type ListenSocket, type ListenSpec, type SendTarget } from './types.js';

/** An HTTP request on a ws/wss listener, as the core and the script see it ($hu, $hdr(...)). */
export interface HttpRequestView {
  readonly proto: 'ws' | 'wss';
  readonly method: string;
  /** Request target: path and query. */
  readonly url: string;
  readonly httpVersion: string;
  /** Header names in lower case; repeated headers joined by ", " (Node's rules). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Names and values as they came, in order. */
  readonly rawHeaders: readonly string[];
  /** Body of a plain HTTP request (empty for an upgrade). */
  readonly body: Buffer;
  /** An `Upgrade: websocket` request. */
  readonly upgrade: boolean;
  readonly srcAddress: string;
  readonly srcPort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** wss: the TLS facts of the connection. */
  readonly tls?: TlsConnInfo;
}

/**
 * What to do with it: accept the upgrade (handle_handshake), answer (xhttp_reply), or close
 * without an answer (a script that did neither).
 */
export type HttpDecision =
  | { action: 'accept' }
  | { action: 'close' }
  | { action: 'reply'; code: number; reason: string; headers?: Readonly<Record<string, string>>; body?: string | Buffer };

export type HttpHook = (req: HttpRequestView) => HttpDecision | Promise<HttpDecision>;

/** Counters of a ws/wss transport, over the stream ones. */
export interface WsCounters extends StreamCounters {
  /** HTTP requests (upgrades or not) answered with a status instead of an upgrade. */
  upgradesRefused: number;
  /** Connections closed for a frame that breaks RFC 6455 (1002) or is over maxFrameSize (1009). */
  frameErrors: number;
  oversizeFrames: number;
  /** Connections that missed a pong. */
  pingTimeouts: number;
}

/** Kamailio's answer to an upgrade without the `sip` subprotocol (websocket module, ws_handshake.c). */
type HttpReply = Extract<HttpDecision, { action: 'reply' }>;
const NO_SIP: HttpReply = { action: 'reply', code: 400, reason: 'Bad Request', headers: { 'Sec-WebSocket-Protocol': 'sip', 'Sec-WebSocket-Version': '13' } };

export function defaultHttpDecision(req: HttpRequestView): HttpDecision {
  if (!req.upgrade) return { action: 'reply', code: 404, reason: 'Not Found' };
  return { action: 'accept' };
}

function offersSip(req: IncomingMessage): boolean {
  const p = req.headers['sec-websocket-protocol'];
  return typeof p === 'string' && p.split(',').some((x) => x.trim().toLowerCase() === 'sip');
}

class WsConn extends StreamConn {
  awaitingPong = false;

  constructor(id: number, local: ListenSocket, remoteAddress: string, remotePort: number, readonly ws: WebSocket, readonly rawSocket: Socket) {
    super(id, local, remoteAddress, remotePort);
  }

  write(data: Buffer): void {
    // SIP is text; RFC 7118 allows either, browsers' SIP stacks expect text frames.
    this.ws.send(data, { binary: false });
  }

  end(thenDestroyAfterMs?: number): void {
    this.ws.close(1000);
    if (thenDestroyAfterMs !== undefined) setTimeout(() => this.ws.terminate(), thenDestroyAfterMs).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}

interface WsListener {
  info: ListenSocket;
  server: HttpServer;
}

export interface WsOptions {
  settings: WsSettings;
  onHttpRequest?: HttpHook;
  /** A WebSocket connection closed (Kamailio's ksr_websocket_event("websocket:closed")). */
  onClosed?: (connId: number, rcv: { proto: 'ws' | 'wss'; srcAddress: string; srcPort: number; localAddress: string; localPort: number }) => void;
}

export class WsTransport implements Transport {
  readonly stats: WsCounters = { ...newStreamCounters(), upgradesRefused: 0, frameErrors: 0, oversizeFrames: 0, pingTimeouts: 0 };
  private readonly table: ConnTable<WsConn>;
  private readonly listeners: WsListener[] = [];
  private infos: ListenSocket[] = [];
  private readonly wss: WebSocketServer;
  private pinger: NodeJS.Timeout | undefined;
  /** Sockets that delivered their HTTP request: the header timer leaves them alone. */
  private readonly requested = new WeakSet<Socket>();
  /** Every accepted socket, so close() ends those still in a handshake too. */
  private readonly raw = new Set<Socket>();

  constructor(
    readonly proto: 'ws' | 'wss',
    private readonly env: TransportEnv,
    limits: StreamLimits,
    private readonly opts: WsOptions,
    private readonly creds: TlsCredentials | null,
  ) {
    this.table = new ConnTable(limits, this.stats);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: opts.settings.maxFrameSize ?? limits.maxMessageSize,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
  }

  sockets(): readonly ListenSocket[] {
    return this.infos;
  }

  async listen(s: ListenSpec): Promise<ListenSocket> {
    const family = familyOf(s.address);
    let server: HttpServer;
    if (this.proto === 'wss') {
      if (!this.creds) throw new Error('wss needs the tls section (tls.cert, tls.key)');
      const hs = this.table.limits.headerTimeoutMs || 120_000;
      const https = createHttpsServer(this.creds.serverOptions(hs));
      this.creds.track(https);
      https.on('close', () => this.creds?.untrack(https));
      https.on('tlsClientError', (e: Error, sock: TLSSocket) => {
        this.stats.handshakeErrors++;
        this.env.error(e, `wss handshake from ${sock.remoteAddress}:${sock.remotePort}`);
        sock.destroy();
      });
      server = https as unknown as HttpServer;
    } else server = createHttpServer();
    server.maxHeadersCount = 100;
    // Our own header-completion timer on the raw connection (below) replaces Node's.
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ port: s.port, host: s.address, ipv6Only: family === 6 }, () => {
        server.off('error', rej);
        res();
      });
    });
    const port = (server.address() as { port: number }).port;
    const info: ListenSocket = { proto: this.proto, address: s.address, port, family, id: socketId(this.proto, s.address, port) };
    server.prependListener('connection', (raw: Socket) => this.onRawConnection(raw));
    // The socket 'upgrade' and 'request' see: the TLS one for wss (its handshake has its own time limit).
    if (this.proto === 'wss') server.on('secureConnection', (sock: TLSSocket) => this.armHeaderTimer(sock));
    server.on('upgrade', (req: IncomingMessage, sock: Socket, head: Buffer) => void this.onUpgrade(info, req, sock, head));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(info, req, res));
    server.on('clientError', (e: Error, sock: Socket) => {
      // wss: a TLS failure comes here too, after tlsClientError counted it.
      if (this.proto === 'wss' && (e as NodeJS.ErrnoException).code?.startsWith('ERR_SSL')) {
        sock.destroy();
        return;
      }
      this.stats.handshakeErrors++;
      this.env.error(e, `${this.proto} bad HTTP from ${sock.remoteAddress}:${sock.remotePort}`);
      if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else sock.destroy();
    });
    server.on('error', (e) => this.env.error(e, `${this.proto} ${info.id}`));
    this.listeners.push({ info, server });
    this.infos = [...this.infos, info];
    this.startPinger();
    return info;
  }

  /** Limits, and the time the HTTP request has to arrive, apply to the raw connection. */
  private onRawConnection(raw: Socket): void {
    const address = normalizeAddress(raw.remoteAddress ?? '');
    if (!this.table.admit(address)) {
      raw.destroy();
      return;
    }
    this.raw.add(raw);
    raw.once('close', () => {
      this.raw.delete(raw);
      this.table.releaseIncoming(address);
    });
    if (this.proto === 'ws') this.armHeaderTimer(raw);
  }

  private armHeaderTimer(sock: Socket): void {
    const ms = this.table.limits.headerTimeoutMs;
    if (ms <= 0) return;
    const t = setTimeout(() => {
      if (!sock.destroyed && !this.requested.has(sock)) {
        this.stats.headerTimeouts++;
        sock.destroy();
      }
    }, ms);
    t.unref();
    sock.once('close', () => clearTimeout(t));
  }

  private view(info: ListenSocket, req: IncomingMessage, body: Buffer, upgrade: boolean): HttpRequestView {
    const sock = req.socket;
    return {
      proto: this.proto, method: req.method ?? '', url: req.url ?? '/', httpVersion: req.httpVersion, headers: req.headers, rawHeaders: req.rawHeaders,
      body, upgrade, srcAddress: normalizeAddress(sock.remoteAddress ?? ''), srcPort: sock.remotePort ?? 0, localAddress: info.address, localPort: info.port,
      ...(this.proto === 'wss' ? { tls: tlsInfo(sock as TLSSocket) } : {}),
    };
  }

  private async decide(v: HttpRequestView): Promise<HttpDecision> {
    try {
      return await (this.opts.onHttpRequest ?? defaultHttpDecision)(v);
    } catch (e) {
      this.env.error(e instanceof Error ? e : new Error(String(e)), `${this.proto} HTTP hook`);
      return { action: 'reply', code: 500, reason: 'Internal Server Error' };
    }
  }

  private async onUpgrade(info: ListenSocket, req: IncomingMessage, sock: Socket, head: Buffer): Promise<void> {
    this.requested.add(sock);
    sock.on('error', () => undefined);
    const isWs = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    let d = await this.decide(this.view(info, req, Buffer.alloc(0), isWs));
    if (sock.destroyed) return;
    if (d.action === 'accept' && (!isWs || !offersSip(req))) d = NO_SIP;
    if (d.action === 'close') {
      this.stats.upgradesRefused++;
      sock.destroy();
      return;
    }
    if (d.action === 'reply') {
      this.refuse(sock, d);
      return;
    }
    this.wss.handleUpgrade(req, sock, head, (ws) => this.adopt(info, ws, sock));
  }

  /** A plain HTTP request: the hook answers it (xhttp_reply); an accept is meaningless here. */
  private async onRequest(info: ListenSocket, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requested.add(req.socket);
    const max = this.opts.settings.maxHttpBody ?? 65535;
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) {
          this.stats.upgradesRefused++;
          res.writeHead(413, 'Payload Too Large', { Connection: 'close', 'Content-Length': '0' }).end();
          req.socket.destroySoon();
          return;
        }
        parts.push(chunk);
      }
    } catch {
      return;
    }
    const decided = await this.decide(this.view(info, req, Buffer.concat(parts), false));
    this.stats.upgradesRefused++;
    if (decided.action === 'close') {
      req.socket.destroy();
      return;
    }
    const d = decided.action === 'accept' ? NO_SIP : decided;
    const body = d.body === undefined ? Buffer.alloc(0) : Buffer.from(d.body);
    res.writeHead(d.code, d.reason, { ...d.headers, 'Content-Length': String(body.length) });
    res.end(body);
  }

  private refuse(sock: Socket, d: HttpReply): void {
    this.stats.upgradesRefused++;
    const body = d.body === undefined ? Buffer.alloc(0) : Buffer.from(d.body);
    const hdrs = Object.entries({ ...d.headers, Connection: 'close', 'Content-Length': String(body.length) }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${d.code} ${d.reason}\r\n${hdrs}\r\n`, 'latin1'), body]));
  }

  private adopt(info: ListenSocket, ws: WebSocket, sock: Socket): void {
    const c = new WsConn(this.env.nextConnId(), info, normalizeAddress(sock.remoteAddress ?? ''), sock.remotePort ?? 0, ws, sock);
    this.table.add(c, true);
    this.env.connOpened?.(this.proto, c.id, c.remoteAddress, c.remotePort, this.proto === 'wss' ? tlsInfo(sock as TLSSocket) : undefined);
    c.headersSince = 0; // the HTTP request was the header block; frames are whole messages
    const rcv = { proto: this.proto, srcAddress: c.remoteAddress, srcPort: c.remotePort, localAddress: info.address, localPort: info.port, family: info.family, connId: c.id };
    ws.on('message', (data: Buffer) => {
      this.stats.bytesReceived += data.length;
      c.lastActive = Date.now();
      // CRLF keep-alives inside frames carry no message.
      if (data.length <= 4 && (data.length === 0 || data[0] === 13 || data[0] === 10)) return;
      this.stats.received++;
      this.env.deliver(data, rcv);
    });
    ws.on('pong', () => {
      c.awaitingPong = false;
      c.lastActive = Date.now();
    });
    ws.on('ping', () => (c.lastActive = Date.now()));
    ws.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.stats.oversizeFrames++;
      else this.stats.frameErrors++;
      this.env.error(e, `${this.proto} connection ${c.remoteAddress}:${c.remotePort}`);
    });
    ws.on('close', () => {
      this.table.remove(c);
      this.env.connClosed?.(this.proto, c.id, c.remoteAddress, c.remotePort);
      this.opts.onClosed?.(c.id, rcv);
    });
  }

  private startPinger(): void {
    const s = this.opts.settings.pingInterval ?? 30;
    if (s <= 0 || this.pinger) return;
    this.pinger = setInterval(() => {
      for (const c of this.table.conns.values()) {
        if (c.awaitingPong) {
          this.stats.pingTimeouts++;
          this.table.remove(c);
          c.destroy();
          continue;
        }
        c.awaitingPong = true;
        c.ws.ping();
      }
    }, s * 1000);
    this.pinger.unref();
  }

  /** The open connection a send to `t` goes on (not one that is closing). */
  private carrier(t: SendTarget): WsConn | undefined {
    const c = this.table.find(t);
    return c && c.closeAt === 0 ? c : undefined;
  }

  holds(t: SendTarget): boolean {
    return this.carrier(t) !== undefined;
  }

  send(t: SendTarget, data: Buffer): boolean {
    // Kamailio does not open WebSocket connections either: only the peer's own connection carries.
    const c = this.carrier(t);
    if (!c) {
      this.stats.sendErrors++;
      return false;
    }
    this.stats.sent++;
    this.stats.bytesSent += data.length;
    c.lastActive = Date.now();
    c.write(data);
    if (t.closeAfter) c.end();
    return true;
  }

  /** Closes a connection (KSR.websocket.close): status and reason go in the close frame. */
  closeConn(connId: number, status = 1000, reason = 'Normal closure'): boolean {
    const c = this.table.conns.get(connId);
    if (!c) return false;
    // ws throws for a status a close frame cannot carry (1005, 999, ...) and a reason over 123 bytes.
    let r = Buffer.from(reason, 'utf8');
    if (r.length > 123) r = Buffer.from(r.subarray(0, 123).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
    try {
      c.ws.close(status, r);
    } catch {
      return false;
    }
    return true;
  }

  /** Sends a ping or pong frame (KSR.websocket.ping/pong). */
  control(connId: number, kind: 'ping' | 'pong', data?: Buffer): boolean {
    const c = this.table.conns.get(connId);
    if (!c) return false;
    if (kind === 'ping') c.ws.ping(data);
    else c.ws.pong(data);
    return true;
  }

  connInfo(connId: number): { tls?: TlsConnInfo } | undefined {
    const c = this.table.conns.get(connId);
    if (!c) return undefined;
    return this.proto === 'wss' ? { tls: tlsInfo(c.rawSocket as TLSSocket) } : {};
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
    this.table.closeAll();
    for (const r of this.raw) r.destroy();
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((r) => {
            l.server.closeAllConnections();
            l.server.close(() => r());
          }),
      ),
    );
    this.listeners.length = 0;
    this.infos = [];
  }
}
