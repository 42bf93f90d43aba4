/**
 * Small builders for the messages a test feeds in: a request from a UA at a given address, and a
 * reply a downstream UA sends to a request the proxy relayed.
 */
import { randomBytes } from 'node:crypto';
import { defaultReason, type SipMessage } from '../sip/index.js';
import type { Proto } from '../transport/types.js';

/** Where a message comes from or goes to. */
export interface Address {
  proto: Proto;
  address: string;
  port: number;
}

const PROTOS = new Set(['udp', 'tcp', 'tls', 'ws', 'wss', 'sctp']);

/** `udp:192.0.2.10:5060`, `tcp:[2001:db8::1]:5062`, `192.0.2.10:5060` (udp), `192.0.2.10` (udp, 5060). */
export function parseAddress(spec: string | Address): Address {
  if (typeof spec !== 'string') return spec;
  const m = /^(?:([a-z]+):)?(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(spec.trim());
  if (!m || (m[1] && !PROTOS.has(m[1].toLowerCase()))) throw new Error(`bad address '${spec}' (want proto:address:port, e.g. udp:192.0.2.10:5060)`);
  return { proto: (m[1]?.toLowerCase() ?? 'udp') as Proto, address: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 5060 };
}

export function formatAddress(a: Address): string {
  return `${a.proto}:${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}

const token = (n = 8): string => randomBytes(n).toString('hex');
const hostPort = (a: Address): string => `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;

/** Header lines as a list (`Name: value`) or a map; a map value that is a list gives one line each. */
export type HeaderLines = readonly string[] | Readonly<Record<string, string | number | readonly string[]>>;

function headerText(h: HeaderLines | undefined): string {
  if (!h) return '';
  if (Array.isArray(h)) return (h as readonly string[]).map((l) => `${l}\r\n`).join('');
  let out = '';
  for (const [k, v] of Object.entries(h as Record<string, string | number | readonly string[]>)) {
    for (const one of Array.isArray(v) ? v : [v]) out += `${k}: ${String(one)}\r\n`;
  }
  return out;
}

function nameAddr(v: string): string {
  return v.includes('<') ? v : `<${v}>`;
}

export interface RequestSpec {
  method: string;
  /** Request-URI. */
  ruri: string;
  /** From URI or name-addr; a tag is added when it has none. Default `sip:harness@<source>`. */
  from?: string;
  /** To URI or name-addr; default the R-URI. */
  to?: string;
  callId?: string;
  cseq?: number;
  /** Default 70; null leaves the header out. */
  maxForwards?: number | null;
  /** Contact URI; default `sip:harness@<source>` for INVITE, REGISTER, SUBSCRIBE; null for none. */
  contact?: string | null;
  /** More header lines, after the standard ones. */
  headers?: HeaderLines;
  body?: string;
  /** Content-Type of the body (default application/sdp when there is a body). */
  contentType?: string;
  /** Via branch (default a fresh RFC 3261 one). */
  branch?: string;
}

/** A request as a UA at `src` sends it. */
export function buildRequest(spec: RequestSpec, src: Address): string {
  const method = spec.method.toUpperCase();
  const me = `sip:harness@${hostPort(src)}`;
  let from = nameAddr(spec.from ?? me);
  if (!/;\s*tag=/i.test(from.slice(from.lastIndexOf('>')))) from += `;tag=${token(4)}`;
  const to = nameAddr(spec.to ?? spec.ruri);
  const contact = spec.contact === undefined ? (['INVITE', 'REGISTER', 'SUBSCRIBE'].includes(method) ? me : null) : spec.contact;
  const body = spec.body ?? '';
  let head = `${method} ${spec.ruri} SIP/2.0\r\n`;
  head += `Via: SIP/2.0/${src.proto.toUpperCase()} ${hostPort(src)};branch=${spec.branch ?? `z9hG4bK${token()}`}\r\n`;
  if (spec.maxForwards !== null) head += `Max-Forwards: ${spec.maxForwards ?? 70}\r\n`;
  head += `From: ${from}\r\nTo: ${to}\r\nCall-ID: ${spec.callId ?? `${token()}@harness`}\r\nCSeq: ${spec.cseq ?? 1} ${method}\r\n`;
  if (contact) head += `Contact: ${nameAddr(contact)}\r\n`;
  head += headerText(spec.headers);
  if (body) head += `Content-Type: ${spec.contentType ?? 'application/sdp'}\r\n`;
  return `${head}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

export interface ReplySpec {
  reason?: string;
  /** To-tag of the answering UA (default a fresh one; not added to a 100). */
  toTag?: string;
  headers?: HeaderLines;
  body?: string;
  contentType?: string;
}

/**
 * The reply a UA sends to `req` (RFC 3261 8.2.6.2, 12.1.1): its Vias, Record-Route, From, To
 * with a tag, Call-ID and CSeq, then the extra headers and the body.
 */
export function buildResponse(req: SipMessage, code: number, spec: ReplySpec = {}): string {
  let head = `SIP/2.0 ${code} ${spec.reason ?? defaultReason(code)}\r\n`;
  let tagged = false;
  try {
    tagged = req.to.tag !== undefined;
  } catch {
    /* an unparsable To is copied as it is */
  }
  for (const f of req.headerFields) {
    if (f.lname === 'via' || f.lname === 'record-route' || f.lname === 'from' || f.lname === 'call-id' || f.lname === 'cseq') {
      head += `${f.name}: ${f.value}\r\n`;
    } else if (f.lname === 'to') {
      head += `${f.name}: ${f.value}${code > 100 && !tagged ? `;tag=${spec.toTag ?? token(4)}` : ''}\r\n`;
    }
  }
  head += headerText(spec.headers);
  const body = spec.body ?? '';
  if (body) head += `Content-Type: ${spec.contentType ?? 'application/sdp'}\r\n`;
  return `${head}Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}
