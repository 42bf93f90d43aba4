/**
 * The transport sections of the config file (`tcp`, `tls`, `ws`; README "Transports"): their
 * shapes, their checks (an unknown key or a bad value is an error, as everywhere in the config),
 * and the conversion to the limits the transports use.
 */
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './stream.js';

/** Config section `tcp`: limits of every connection-oriented transport (tcp, tls, ws, wss). */
export interface TcpSettings {
  /** Bytes; default 65535. */
  maxMessageSize?: number;
  /** Default 2048. */
  maxConnections?: number;
  /** Accepted connections per source address; default 256; 0: no limit. */
  maxConnectionsPerSource?: number;
  /** Seconds without a complete message or keep-alive in or out; default 120. */
  idleTimeout?: number;
  /** Seconds an accepted connection may take to complete a message's headers; default 10; 0: off. */
  headerTimeout?: number;
}

export type ClientCertPolicy = 'none' | 'request' | 'require';

/** Certificate, key and CA, as file paths (PEM). */
export interface TlsCertFiles {
  cert: string;
  key: string;
  ca?: string;
}

/** Config section `tls`: used by tls and wss listeners and by outgoing TLS. */
export interface TlsSettings {
  cert?: string;
  key?: string;
  /** CA bundle for client certificates and for verifying servers we connect to. */
  ca?: string;
  /** 'TLSv1.2' (default) or 'TLSv1.3'. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2); Node's default when absent. */
  ciphers?: string;
  /** Client certificates: none (default), request (verified if sent), require. */
  clientCert?: ClientCertPolicy;
  /** Certificates by server name (SNI), for listeners serving several names. */
  sni?: Record<string, TlsCertFiles>;
  /** Verify the certificate of servers we connect to (default true) against `ca` or the system CAs. */
  verifyServer?: boolean;
}

/** Config section `ws`: WebSocket (RFC 7118) listeners, ws and wss. */
export interface WsSettings {
  /** Largest WebSocket message, bytes; default: tcp.maxMessageSize. */
  maxFrameSize?: number;
  /** Seconds between pings to a quiet connection; a connection that misses the pong is closed. Default 30; 0: off. */
  pingInterval?: number;
  /** Largest HTTP request body on a ws/wss listener (xhttp), bytes; default 65535. */
  maxHttpBody?: number;
}

const TCP_KEYS: Record<keyof TcpSettings, 'int' | 'seconds'> = {
  maxMessageSize: 'int', maxConnections: 'int', maxConnectionsPerSource: 'int', idleTimeout: 'seconds', headerTimeout: 'seconds',
};
const WS_KEYS: Record<keyof WsSettings, 'int' | 'seconds'> = { maxFrameSize: 'int', pingInterval: 'seconds', maxHttpBody: 'int' };

function numbers<T>(v: unknown, keys: Record<string, 'int' | 'seconds'>, where: string): T {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected an object`);
  for (const [k, x] of Object.entries(v)) {
    const kind = keys[k];
    if (!kind) throw new Error(`${where}: unknown setting '${k}'`);
    const ok = typeof x === 'number' && Number.isFinite(x) && x >= 0 && (kind === 'seconds' || Number.isInteger(x));
    if (!ok) throw new Error(`${where}: bad value for '${k}'`);
  }
  return v as T;
}

export function checkTcpSettings(v: unknown, where = 'tcp'): TcpSettings {
  const t = numbers<TcpSettings>(v, TCP_KEYS, where);
  if (t.maxMessageSize === 0 || t.maxConnections === 0 || t.idleTimeout === 0) throw new Error(`${where}: maxMessageSize, maxConnections and idleTimeout must be above 0`);
  return t;
}

export function checkWsSettings(v: unknown, where = 'ws'): WsSettings {
  return numbers<WsSettings>(v, WS_KEYS, where);
}

export function checkTlsSettings(v: unknown, where = 'tls'): TlsSettings {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected an object`);
  const t = v as Record<string, unknown>;
  const str = (k: string): void => {
    if (t[k] !== undefined && typeof t[k] !== 'string') throw new Error(`${where}: bad value for '${k}'`);
  };
  for (const k of Object.keys(t)) {
    if (!['cert', 'key', 'ca', 'minVersion', 'ciphers', 'clientCert', 'sni', 'verifyServer'].includes(k)) throw new Error(`${where}: unknown setting '${k}'`);
  }
  ['cert', 'key', 'ca', 'ciphers'].forEach(str);
  if (t.minVersion !== undefined && t.minVersion !== 'TLSv1.2' && t.minVersion !== 'TLSv1.3') throw new Error(`${where}: minVersion is TLSv1.2 or TLSv1.3`);
  if (t.clientCert !== undefined && !['none', 'request', 'require'].includes(t.clientCert as string)) throw new Error(`${where}: clientCert is none, request or require`);
  if (t.verifyServer !== undefined && typeof t.verifyServer !== 'boolean') throw new Error(`${where}: bad value for 'verifyServer'`);
  if (t.sni !== undefined) {
    if (t.sni === null || typeof t.sni !== 'object' || Array.isArray(t.sni)) throw new Error(`${where}: sni maps server names to {cert, key, ca}`);
    for (const [name, f] of Object.entries(t.sni as Record<string, unknown>)) {
      const o = f as Record<string, unknown> | null;
      if (!o || typeof o.cert !== 'string' || typeof o.key !== 'string' || (o.ca !== undefined && typeof o.ca !== 'string')) throw new Error(`${where}: sni '${name}' needs cert and key files`);
    }
  }
  return t as TlsSettings;
}

export function streamLimits(t: TcpSettings | undefined): StreamLimits {
  const d = DEFAULT_STREAM_LIMITS;
  return {
    maxMessageSize: t?.maxMessageSize ?? d.maxMessageSize,
    maxConnections: t?.maxConnections ?? d.maxConnections,
    maxConnectionsPerSource: t?.maxConnectionsPerSource ?? d.maxConnectionsPerSource,
    idleTimeoutMs: t?.idleTimeout !== undefined ? t.idleTimeout * 1000 : d.idleTimeoutMs,
    headerTimeoutMs: t?.headerTimeout !== undefined ? t.headerTimeout * 1000 : d.headerTimeoutMs,
  };
}
