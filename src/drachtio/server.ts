/**
 * The drachtio control port: apps connect (drachtio-srf's `srf.connect({host, port, secret})`),
 * authenticate with the shared secret and their tags, route verbs, ping, and exchange `sip` and
 * `proxy` messages with the bridge. Bad input closes that connection only and is counted.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { AppConnection } from './app-connection.js';
import type { DrachtioBridge } from './bridge.js';
import type { WireMessage } from './wire.js';

/** What we tell apps we are: srf parses `v<major>.<minor>.<patch>` (pings from v0.8.2 on). */
export const SERVER_VERSION = 'v0.9.3-kemi-proxy';

export interface DrachtioServerOptions {
  /** `address:port` to listen on (`127.0.0.1:9022`, `[::1]:9022`). */
  listen?: string;
  secret: string;
  /** Close a connection that has not authenticated after this long (ms). */
  authTimeoutMs?: number;
  /** Largest frame accepted (bytes). */
  maxFrame?: number;
}

export class DrachtioServer {
  private server: Server | null = null;
  private nextId = 0;
  /** Outbound connections by `host:port`: one per app listener, reused while it stays up. */
  private readonly outbound = new Map<string, Promise<AppConnection | null>>();
  /** Every open connection, authenticated or not (closed at shutdown). */
  private readonly conns = new Set<AppConnection>();
  readonly authTimeoutMs: number;
  readonly maxFrame: number;

  constructor(
    private readonly bridge: DrachtioBridge,
    private readonly opts: DrachtioServerOptions,
  ) {
    this.authTimeoutMs = opts.authTimeoutMs ?? 5000;
    this.maxFrame = opts.maxFrame ?? 1024 * 1024;
  }

  /** Listens; resolves with the bound port. */
  listen(): Promise<number> {
    const spec = parseHostPort(this.opts.listen ?? '127.0.0.1:9022');
    const server = createServer((sock) => this.accept(sock, false));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.bridge.host.log('err', `drachtio: ${e.message}`));
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : spec.port);
      });
    });
  }

  /** A connection to an app, inbound (it connected) or outbound (we connected to its listener). */
  accept(sock: Socket, outbound: boolean): AppConnection {
    const app = new AppConnection(++this.nextId, sock, {
      onMessage: (a, m) => this.onMessage(a, m),
      onBad: (a, reason) => {
        this.bridge.metrics.badConnections++;
        this.bridge.host.log('warn', `drachtio: closing connection ${a.id} from ${a.remote}: ${reason}`);
      },
      onClose: (a) => {
        this.conns.delete(a);
        if (a.authenticated) {
          this.bridge.metrics.connectedApps--;
          this.bridge.host.log('info', `drachtio: app ${a.id} (${a.remote}) disconnected`);
          this.bridge.appGone(a);
        }
      },
    }, this.maxFrame, this.authTimeoutMs, outbound);
    this.conns.add(app);
    return app;
  }

  /**
   * An authenticated connection to an app listening at `host:port` (srf.listen): opened when there
   * is none; the app authenticates on it as it would on ours. null when it cannot be reached or
   * does not authenticate in time.
   */
  connectOut(addr: string): Promise<AppConnection | null> {
    const key = addr.replace(/^tcp:\/\//i, '');
    const have = this.outbound.get(key);
    if (have) return have;
    let spec: { host: string; port: number };
    try {
      spec = parseHostPort(key);
    } catch (e) {
      this.bridge.host.log('err', `drachtio: ${e instanceof Error ? e.message : String(e)}`);
      return Promise.resolve(null);
    }
    const p = new Promise<AppConnection | null>((resolve) => {
      const sock = connect({ host: spec.host, port: spec.port });
      const failed = (): void => {
        this.outbound.delete(key);
        resolve(null);
      };
      sock.once('error', (e) => {
        this.bridge.host.log('warn', `drachtio: cannot reach app at ${key}: ${e.message}`);
        failed();
      });
      sock.once('connect', () => {
        const app = this.accept(sock, true);
        void app.ready.then((ok) => {
          if (!ok) return failed();
          sock.once('close', () => {
            if (this.outbound.get(key) === p) this.outbound.delete(key);
          });
          resolve(app);
        });
      });
    });
    this.outbound.set(key, p);
    return p;
  }

  private onMessage(app: AppConnection, m: WireMessage): void {
    try {
      this.handle(app, m);
    } catch (e) {
      // An app's message we could not act on: answered NOK, logged; the connection stays.
      this.bridge.host.log('warn', `drachtio: app ${app.id}: '${m.type}' failed: ${e instanceof Error ? e.message : String(e)}`);
      app.respond(m.msgId, false, 'request failed');
    }
  }

  private handle(app: AppConnection, m: WireMessage): void {
    switch (m.type) {
      case 'authenticate':
        this.authenticate(app, m);
        return;
      case 'ping':
        app.respond(m.msgId, true, 'pong');
        return;
      case 'route': {
        const verb = (m.tokens[2] ?? '').toLowerCase();
        if (!verb) {
          app.respond(m.msgId, false, 'Route request includes unsupported verb');
          return;
        }
        app.routes.add(verb);
        app.respond(m.msgId, true);
        this.bridge.host.log('info', `drachtio: app ${app.id} routes ${verb}`);
        return;
      }
      case 'remove_route':
        app.routes.delete((m.tokens[2] ?? '').toLowerCase());
        app.respond(m.msgId, true);
        return;
      case 'sip':
        this.bridge.onAppSip(app, m);
        return;
      case 'proxy':
        this.bridge.onAppProxy(app, m);
        return;
      default:
        app.respond(m.msgId, false, 'Unknown message type');
        app.fail(`unknown message type '${m.type.slice(0, 40)}'`);
    }
  }

  private authenticate(app: AppConnection, m: WireMessage): void {
    if (app.authenticated) {
      app.respond(m.msgId, false, 'already authenticated');
      return;
    }
    const secret = m.tokens[2] ?? '';
    if (secret !== this.opts.secret) {
      app.respond(m.msgId, false, 'incorrect secret');
      this.bridge.metrics.badConnections++;
      this.bridge.host.log('warn', `drachtio: wrong secret from ${app.remote}`);
      app.end();
      return;
    }
    for (const t of (m.tokens[3] ?? '').split(',')) if (t) app.tags.add(t);
    app.authOk();
    this.bridge.registry.add(app);
    this.bridge.metrics.connectedApps++;
    const hps = this.bridge.host.sockets().map((s) => `${s.proto}/${s.family === 6 ? `[${s.address}]` : s.address}:${s.port}`).join(',');
    app.respond(m.msgId, true, `${hps}|${SERVER_VERSION}|${hps}`);
    this.bridge.host.log('info', `drachtio: app ${app.id} (${app.remote}) connected, tags [${[...app.tags].join(',')}]`);
  }

  async close(): Promise<void> {
    for (const a of [...this.conns]) a.close();
    for (const p of this.outbound.values()) void p.then((a) => a?.close());
    this.outbound.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

export function parseHostPort(spec: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(spec.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`bad drachtio address '${spec}' (want address:port)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
