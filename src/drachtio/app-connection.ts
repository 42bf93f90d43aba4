/**
 * One drachtio app connected over TCP (inbound: it connected to us; outbound: we connected to it):
 * framing, authentication state, its tags and routed verbs, and sending frames to it.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, WireError, frame, newMsgId, parseBody, type WireMessage } from './wire.js';

export interface AppConnectionEvents {
  onMessage(app: AppConnection, m: WireMessage): void;
  /** Protocol error: the connection is closed and counted. */
  onBad(app: AppConnection, reason: string): void;
  onClose(app: AppConnection): void;
}

export class AppConnection {
  authenticated = false;
  readonly tags = new Set<string>();
  /** Verbs it routes, lower case (`invite`, `options`, `cdr:attempt`...). */
  readonly routes = new Set<string>();
  closed = false;
  private readonly decoder: FrameDecoder;
  private authTimer: NodeJS.Timeout | null = null;
  private settleAuth: (ok: boolean) => void = () => undefined;
  /** Resolves true once authenticated, false if it closes first. */
  readonly ready: Promise<boolean> = new Promise((r) => (this.settleAuth = r));

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly events: AppConnectionEvents,
    maxFrame: number,
    authTimeoutMs: number,
    readonly outbound = false,
  ) {
    this.decoder = new FrameDecoder(maxFrame);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    this.authTimer = setTimeout(() => {
      if (!this.authenticated) this.fail('did not authenticate in time');
    }, authTimeoutMs);
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  hasTag(tag: string): boolean {
    return !tag || this.tags.has(tag);
  }

  authOk(): void {
    this.authenticated = true;
    this.settleAuth(true);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
  }

  /** Sends `<msgId>|<body>`; returns the msgId. */
  send(body: string): string {
    const id = newMsgId();
    this.write(`${id}|${body}`);
    return id;
  }

  /** `response|<clientMsgId>|OK|...` / `NOK|reason`. */
  respond(clientMsgId: string, ok: boolean, data?: string): void {
    this.send(`response|${clientMsgId}|${ok ? 'OK' : 'NOK'}${data !== undefined && data !== '' ? `|${data}` : ''}`);
  }

  private write(body: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(frame(body));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let bodies: string[];
    try {
      bodies = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e instanceof WireError ? e.message : String(e));
      return;
    }
    for (const b of bodies) {
      if (this.closed) return;
      let m: WireMessage;
      try {
        m = parseBody(b);
      } catch (e) {
        this.fail(e instanceof Error ? e.message : String(e));
        return;
      }
      if (!this.authenticated && m.type !== 'authenticate') {
        this.fail(`'${m.type}' before authenticate`);
        return;
      }
      this.events.onMessage(this, m);
    }
  }

  /** Closes for a protocol error (counted by the owner). */
  fail(reason: string): void {
    if (this.closed) return;
    this.events.onBad(this, reason);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleAuth(false);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.socket.destroy();
    this.events.onClose(this);
  }

  /** Close after flushing what was written (a refused authenticate gets its answer first). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleAuth(false);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.events.onClose(this);
  }
}
