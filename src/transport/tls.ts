/**
 * TLS (RFC 3261 26, RFC 5630): SIP over node:tls, with ByteStreamTransport's framing, limits and
 * connection reuse. TlsCredentials holds the certificates (config section `tls`, settings.ts) for
 * tls and wss listeners and for outgoing TLS, and reloads them from their files on demand
 * (TransportManager.reloadCertificates, called on script reload) without a restart.
 */
import { readFileSync } from 'node:fs';
import { isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { ByteStreamTransport, type StreamLimits } from './stream.js';
import type { TlsSettings } from './settings.js';
import type { TransportEnv } from './transport.js';
import type { ListenSpec, SendTarget, TlsConnInfo } from './types.js';

export type { TlsConnInfo } from './types.js';

export function tlsInfo(sock: TLSSocket): TlsConnInfo {
  const c = sock.getCipher() as { name: string; standardName?: string; version: string } | undefined;
  const peer = sock.getPeerCertificate();
  const local = sock.getCertificate();
  const err = sock.authorizationError as unknown;
  return {
    verified: sock.authorized,
    verifyError: err ? String(err instanceof Error ? (err as NodeJS.ErrnoException).code ?? err.message : err) : null,
    version: sock.getProtocol() ?? null,
    cipher: c ? { name: c.name, standardName: c.standardName ?? c.name, version: c.version, bits: cipherBits(sock) } : null,
    peerCert: peer && Object.keys(peer).length > 0 ? peer : null,
    localCert: local && 'subject' in local ? (local as PeerCertificate) : null,
    serverName: typeof sock.servername === 'string' ? sock.servername : null,
  };
}

function cipherBits(sock: TLSSocket): number {
  const name = sock.getCipher()?.name ?? '';
  const m = /(?:AES|CAMELLIA|ARIA)[_-]?(\d{3})/i.exec(name);
  if (m) return Number(m[1]);
  return /CHACHA20/i.test(name) ? 256 : 0;
}

interface Loaded {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
}

/** Certificates of one proxy instance, read from the files the `tls` section names. */
export class TlsCredentials {
  private main: Loaded | null = null;
  private sni = new Map<string, SecureContext>();
  private caBuf: Buffer | undefined;
  /** Servers to update on reload. */
  private readonly servers = new Set<{ setSecureContext(o: TlsOptions): void }>();

  constructor(readonly settings: TlsSettings) {
    this.load();
  }

  /** (Re)reads every file; on any failure the previous certificates stay and the error is thrown. */
  load(): void {
    const s = this.settings;
    const ca = s.ca ? readFileSync(s.ca) : undefined;
    const main = s.cert && s.key ? { cert: readFileSync(s.cert), key: readFileSync(s.key), ...(ca ? { ca } : {}) } : null;
    const sni = new Map<string, SecureContext>();
    for (const [name, f] of Object.entries(s.sni ?? {})) {
      const fca = f.ca ? readFileSync(f.ca) : ca;
      sni.set(name.toLowerCase(), createSecureContext({ ...this.common(), cert: readFileSync(f.cert), key: readFileSync(f.key), ...(fca ? { ca: fca } : {}) }));
    }
    if (main) createSecureContext({ ...this.common(), ...main }); // throws on a key that does not match its certificate
    this.main = main;
    this.sni = sni;
    this.caBuf = ca;
    for (const srv of this.servers) srv.setSecureContext(this.contextOptions());
  }

  private common(): { minVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string } {
    return { minVersion: this.settings.minVersion ?? 'TLSv1.2', ...(this.settings.ciphers ? { ciphers: this.settings.ciphers } : {}) };
  }

  private contextOptions(): TlsOptions {
    if (!this.main) throw new Error('a tls or wss listener needs tls.cert and tls.key (--tls-cert, --tls-key)');
    return { ...this.common(), ...this.main };
  }

  /** Options for a listening server: certificates, SNI, client certificate policy, handshake time limit. */
  serverOptions(handshakeTimeoutMs: number): TlsOptions {
    const policy = this.settings.clientCert ?? 'none';
    return {
      ...this.contextOptions(),
      requestCert: policy !== 'none',
      rejectUnauthorized: policy === 'require',
      handshakeTimeout: handshakeTimeoutMs,
      // No context for a name: the server's own (kept current by setSecureContext on load()), not a
      // new one per handshake, which parsed the key and certificate each time.
      SNICallback: (name, cb) => cb(null, this.sni.get(name.toLowerCase())),
    };
  }

  /** Registers a server whose certificates follow load(). */
  track(server: { setSecureContext(o: TlsOptions): void }): void {
    this.servers.add(server);
  }

  untrack(server: { setSecureContext(o: TlsOptions): void }): void {
    this.servers.delete(server);
  }

  /** Options for an outgoing connection to `host` (the URI host when known): the server is verified by default. */
  clientOptions(host: string): ConnectionOptions {
    return {
      ...this.common(),
      ...(this.caBuf ? { ca: this.caBuf } : {}),
      // Our certificate, for servers that ask for one.
      ...(this.main ? { cert: this.main.cert, key: this.main.key } : {}),
      rejectUnauthorized: this.settings.verifyServer !== false,
      // SNI carries names only; an IP literal is checked against the certificate's IP entries.
      ...(isIP(host) ? {} : { servername: host }),
    };
  }
}

export class TlsTransport extends ByteStreamTransport {
  constructor(env: TransportEnv, limits: StreamLimits, private readonly creds: TlsCredentials) {
    super('tls', env, limits);
  }

  protected createServer(_spec: ListenSpec, onSocket: (sock: Socket, raw: { address: string; port: number }) => void): Server {
    const hs = this.table.limits.headerTimeoutMs || 120_000;
    const server = createTlsServer(this.creds.serverOptions(hs));
    this.creds.track(server);
    server.on('close', () => this.creds.untrack(server));
    // Limits apply to the raw connection, before the handshake costs anything.
    server.prependListener('connection', (raw: Socket) => {
      this.admit(raw);
    });
    server.on('secureConnection', (sock: TLSSocket) => onSocket(sock, { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 }));
    // With a listener here, closing the socket is ours to do (a handshake timeout leaves it open).
    server.on('tlsClientError', (e: Error, sock: TLSSocket) => {
      this.handshakeFailed(e, `tls handshake from ${sock.remoteAddress}:${sock.remotePort}`);
      sock.destroy();
    });
    return server;
  }

  private handshakeFailed(e: Error, where: string): void {
    this.stats.handshakeErrors++;
    this.env.error(e, where);
  }

  protected connectSocket(t: SendTarget, address: string): { sock: Socket; readyEvent: string } {
    const name = t.serverName ?? address;
    const sock = tlsConnect({ host: address, port: t.port, ...this.creds.clientOptions(name) });
    sock.setNoDelay(true);
    let secured = false;
    sock.once('secureConnect', () => (secured = true));
    sock.once('error', (e) => {
      if (!secured) this.handshakeFailed(e, `tls connect to ${address}:${t.port} (${name})`);
    });
    return { sock, readyEvent: 'secureConnect' };
  }

  protected override tlsFacts(sock: Socket): TlsConnInfo {
    return tlsInfo(sock as TLSSocket);
  }

  /** The TLS facts of a connection of this transport. */
  connInfo(connId: number): TlsConnInfo | undefined {
    const c = this.table.conns.get(connId);
    return c ? tlsInfo(c.sock as TLSSocket) : undefined;
  }
}
