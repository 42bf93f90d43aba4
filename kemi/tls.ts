/**
 * KSR.tls (src/modules/tls): the TLS facts of the connection a message came on, for scripts that
 * check client certificates. Exports as Kamailio 5.6's sr_kemi_tls_exports: is_peer_verified,
 * cget(name), set_connect_server_id; and the $tls_* pseudo-variables scripts use (version,
 * cipher, peer/local certificate subject and issuer and their components, SANs, verified,
 * expired, self-signed, validity dates, server name).
 *
 * Left out: set_connect_server_id (kemi-proxy has one client TLS profile: the config's `tls`
 * section; it fails naming itself), $tls_peer_revoked is always 0 (no CRL checks), the
 * certificate version PVs ($tls_peer_version, $tls_my_version) and $tls_description, which
 * Kamailio takes from OpenSSL's cipher description (here: cipher name and protocol version).
 */
import type { PeerCertificate } from 'node:tls';
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import type { PvRegistry } from '../src/pv/registry.js';
import { HTTP_EXCHANGE_KEY, type HttpExchange } from '../src/transport/http-exchange.js';
import type { ConnectionQueries, TlsConnInfo } from '../src/transport/types.js';
import { defineModule, type KemiArg } from './types.js';
import { nameTable } from '../src/lib/name-table.js';

/** The one way to the proxy instance's transports. */
function conns(ctx: MsgContext): ConnectionQueries | null {
  return ctx.proxy.transports ?? null;
}

/** The TLS facts of the current message's connection (or of the HTTP request on wss), or null. */
export function tlsOf(ctx: MsgContext): TlsConnInfo | null {
  const ex = ctx.moduleData.get(HTTP_EXCHANGE_KEY) as HttpExchange | undefined;
  if (ex?.req.tls) return ex.req.tls;
  if (ctx.rcv.connId === undefined || (ctx.rcv.proto !== 'tls' && ctx.rcv.proto !== 'wss')) return null;
  return conns(ctx)?.connInfo(ctx.rcv.connId)?.tls ?? null;
}

type Dn = Record<string, string | string[] | undefined>;

/** X509_NAME_oneline's form: `/C=DE/O=kemi/CN=alice`. */
function oneline(dn: Dn | undefined): string | null {
  if (!dn) return null;
  const parts = Object.entries(dn).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `/${k}=${x}`) : v !== undefined ? [`/${k}=${v}`] : []));
  return parts.length > 0 ? parts.join('') : null;
}

function comp(dn: Dn | undefined, key: string): string | null {
  const v = dn?.[key];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/** First subjectAltName entry of a kind: DNS, IP Address, email, URI. */
function san(cert: PeerCertificate | null, kind: string): string | null {
  const list = cert?.subjectaltname?.split(/,\s*/) ?? [];
  for (const e of list) {
    const i = e.indexOf(':');
    if (i > 0 && e.slice(0, i) === kind) return e.slice(i + 1);
  }
  return null;
}

function serial(cert: PeerCertificate | null): PvValue | null {
  if (!cert?.serialNumber) return null;
  try {
    const n = BigInt(`0x${cert.serialNumber}`);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  } catch {
    return null;
  }
}

const COMPONENTS = nameTable({ cn: 'CN', locality: 'L', country: 'C', state: 'ST', organization: 'O', unit: 'OU', serial: 'serialNumber' });
const SANS = nameTable({ email: 'email', hostname: 'DNS', uri: 'URI', ip: 'IP Address' });

/** The value of a $tls_* name (without the `tls_` prefix), or undefined for a name not known. */
function attribute(info: TlsConnInfo | null, name: string): PvValue | null | undefined {
  const n = name.startsWith('tls_') ? name.slice(4) : name;
  switch (n) {
    case 'version': return info?.version ?? null;
    case 'cipher_info': return info?.cipher?.name ?? null;
    case 'cipher_bits': return info?.cipher?.bits ?? null;
    case 'description': return info?.cipher ? `${info.cipher.name} ${info.cipher.version}` : null;
    case 'peer_verified': return info ? (info.verified ? 1 : 0) : null;
    case 'peer_revoked': return info ? 0 : null;
    case 'peer_expired': return info?.peerCert ? (Date.parse(info.peerCert.valid_to) < Date.now() ? 1 : 0) : null;
    case 'peer_selfsigned': return info?.peerCert ? (oneline(info.peerCert.subject as Dn) === oneline(info.peerCert.issuer as Dn) ? 1 : 0) : null;
    case 'peer_notBefore': return info?.peerCert?.valid_from ?? null;
    case 'peer_notAfter': return info?.peerCert?.valid_to ?? null;
    case 'peer_server_name': return info?.serverName ?? null;
    case 'peer_serial': return serial(info?.peerCert ?? null);
    case 'my_serial': return serial(info?.localCert ?? null);
  }
  const m = /^(peer|my)_(subject|issuer|san)(?:_(\w+))?$/.exec(n);
  if (!m) return undefined;
  const cert = m[1] === 'peer' ? (info?.peerCert ?? null) : (info?.localCert ?? null);
  if (m[2] === 'san') {
    const kind = m[3] ? SANS[m[3]] : undefined;
    return kind ? san(cert, kind) : undefined;
  }
  const dn = (m[2] === 'subject' ? cert?.subject : cert?.issuer) as Dn | undefined;
  if (!m[3]) return oneline(dn);
  const key = COMPONENTS[m[3]];
  return key ? comp(dn, key) : undefined;
}

/** The $tls_* names registered (Kamailio's tls module PV list, minus the versions). */
const PV_NAMES = [
  'version', 'description', 'cipher_info', 'cipher_bits', 'peer_serial', 'my_serial', 'peer_verified', 'peer_revoked', 'peer_expired',
  'peer_selfsigned', 'peer_notBefore', 'peer_notAfter', 'peer_server_name',
  ...['peer', 'my'].flatMap((who) => [
    ...['subject', 'issuer'].flatMap((w) => [`${who}_${w}`, ...Object.keys(COMPONENTS).map((c) => `${who}_${w}_${c}`)]),
    ...Object.keys(SANS).map((k) => `${who}_san_${k}`),
  ]),
];

function registerTlsPvs(pvs: PvRegistry): void {
  for (const n of PV_NAMES) pvs.register(`tls_${n}`, { get: (ctx) => attribute(tlsOf(ctx), n) ?? null });
}

export default defineModule('tls', [
  // 1 when the peer sent a certificate our CA verifies; -1 otherwise (not TLS, none sent, not verified).
  { name: 'is_peer_verified', params: [], ret: 'int', fn: (ctx) => {
    const t = tlsOf(ctx);
    return t?.peerCert && t.verified ? 1 : -1;
  } },
  { name: 'set_connect_server_id', params: ['str'], ret: 'int', fn: () => {
    throw new Error('KSR.tls.set_connect_server_id: not implemented in kemi-proxy (one client TLS profile: the config\'s tls section)');
  } },
  // The value of a $tls_* attribute by name, with or without the tls_ prefix; nil when unknown or not TLS.
  { name: 'cget', params: ['str'], ret: 'xval', fn: (ctx, name: KemiArg) => {
    const v = attribute(tlsOf(ctx), String(name ?? ''));
    if (v === undefined) ctx.proxy.log(ctx, 'err', `tls: cget: unknown attribute '${String(name)}'`);
    return v ?? null;
  } },
], { init: (env) => registerTlsPvs(env.pvs) });
