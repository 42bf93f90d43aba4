/**
 * Pseudo-variables read from the message itself (Kamailio's pv module, pv_core.c): identity
 * headers ($di/$dir/$dip/$dic Diversion, $re Remote-Party-ID, $pu/$pU/$pd/$pn
 * P-Preferred-Identity, $ai P-Asserted-Identity, $rt Refer-To), the digest attributes of the
 * credentials ($adu/$aa/$adn/$adc/$adr/$ado), URI parts ($rP, $rUl, $od/$op/$oP/$oUl, $dd/$dp/$dP,
 * $nh(...)), message shape ($mt/$mts/$rmid/$bs/$csb/$mbu/$msg(...)/$expires(...)/$hfl/$viaZ) and
 * the receiving socket ($Ras/$Ru/$Rut/$RAi/$RAp/$RAu/$RAut/$sas/$sut/$siz/$af/$prid).
 *
 * Kamailio answers some as strings that hold a number ($rp, $op, $dp, $cs: "5060"), others as
 * integers; each getter returns the type Kamailio's KSR.pv.get gives.
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { parseNameAddrList, parseUri, rawDisplayName, splitList, type NameAddr, type SipUri } from '../sip/index.js';
import type { PvRegistry } from './registry.js';
import { isIP } from 'node:net';
import { nameTable } from '../lib/name-table.js';
import { PROTO_IDS } from '../transport/types.js';

const ro = (get: (ctx: MsgContext, arg: string, index: number | null) => PvValue | null | undefined) => ({
  get: (ctx: MsgContext, arg: string, index: number | null): PvValue | null => get(ctx, arg, index) ?? null,
});

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Kamailio's method ids (METHOD_* of parser/msg_parser.h). */
const METHOD_IDS = nameTable({
  INVITE: 1, CANCEL: 2, ACK: 4, BYE: 8, INFO: 16, REGISTER: 32, SUBSCRIBE: 64, NOTIFY: 128,
  MESSAGE: 256, OPTIONS: 512, PRACK: 1024, UPDATE: 2048, REFER: 4096, PUBLISH: 8192, KDMQ: 16384,
  GET: 32768, POST: 65536, PUT: 131072, DELETE: 262144,
});
const METHOD_OTHER = 524288;

/** Every name-addr of every header called `name`, in order ($pu/$ai index across headers). */
function identities(ctx: MsgContext, name: string): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of ctx.msg.headers(name)) {
    const list = safe(() => parseNameAddrList(v));
    if (list) out.push(...list);
  }
  return out;
}

/** The first header's first name-addr (Diversion, Remote-Party-ID as Kamailio parses them). */
function firstNameAddr(ctx: MsgContext, name: string): NameAddr | undefined {
  const v = ctx.msg.header(name);
  return v === undefined ? undefined : safe(() => parseNameAddrList(v))?.[0];
}

function paramValue(na: NameAddr | undefined, name: string): string | undefined {
  const v = na?.params.get(name);
  return v === null || v === undefined ? undefined : v;
}

/** A URI's port as Kamailio's pv_get_xuri_attr answers it: the written port, else 5060/5061, a string. */
function portOf(u: SipUri): string {
  if (u.port !== undefined) return String(u.port);
  return u.scheme === 'sips' || transportOf(u) === 'tls' ? '5061' : '5060';
}

function transportOf(u: SipUri): string {
  const t = u.params.get('transport');
  return t === undefined || t === null ? 'udp' : t;
}

function uriAttr(u: SipUri | undefined, attr: 'user' | 'host' | 'port' | 'proto' | 'ulen'): PvValue | undefined {
  if (!u) return undefined;
  switch (attr) {
    case 'user': return u.user === undefined || u.user === '' ? undefined : u.user;
    // A tel URI has no host part in Kamailio's parse_uri.
    case 'host': return u.host === '' || u.scheme === 'tel' ? undefined : u.host;
    case 'port': return portOf(u);
    case 'proto': return transportOf(u);
    case 'ulen': return u.user?.length ?? 0;
  }
}

/** Digest credentials of the request: Proxy-Authorization before Authorization, as pv_get_authattr. */
function digestParam(ctx: MsgContext, name: string): string | undefined {
  if (!ctx.msg.isRequest) return undefined;
  const m = ctx.msg.method;
  if (m === 'ACK' || m === 'CANCEL') return undefined;
  const h = ctx.msg.header('proxy-authorization') ?? ctx.msg.header('authorization');
  if (!h || !/^\s*digest\s/i.test(h)) return undefined;
  const re = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,]*))`, 'i');
  const hit = re.exec(h.replace(/^\s*digest\s+/i, ' '));
  // A parameter the credentials lack reads as "" (an empty str in Kamailio's parsed digest).
  if (!hit) return '';
  return hit[1] ?? hit[2] ?? '';
}

function sockUri(proto: string, family: 4 | 6, addr: string, port: number, withTransport: boolean): string {
  const host = family === 6 ? `[${addr}]` : addr;
  return `sip:${host}:${port}${withTransport ? `;transport=${proto}` : proto === 'udp' ? '' : `;transport=${proto}`}`;
}

function sockName(proto: string, family: 4 | 6, addr: string, port: number): string {
  return `${proto}:${family === 6 ? `[${addr}]` : addr}:${port}`;
}

/** The `Via` header's bodies, one per comma-separated value, across all Via headers. */
function bodies(ctx: MsgContext, name: string): string[] {
  const out: string[] = [];
  for (const v of ctx.msg.headers(name)) out.push(...splitList(v));
  return out;
}

/** Headers that carry comma-separated bodies that $hfl splits (Kamailio's parsed lists). */
const LIST_HEADERS = new Set(['via', 'v', 'record-route', 'route', 'contact', 'm']);

function nextHopRequest(c: MsgContext, arg: string): PvValue | undefined {
  const text = c.dstUri ?? c.msg.ruri;
  if (arg === 'u') return text;
  const u = safe(() => parseUri(text));
  if (!u) return undefined;
  switch (arg) {
    case 'U': return u.user || undefined;
    case 'd': return u.host || undefined;
    // As pv_get_nh: 5060 when the URI has no port, whatever its transport.
    case 'p': return u.port === undefined ? '5060' : String(u.port);
    case 'P': return transportOf(u);
    case 'i': return isIP(u.host.replace(/^\[|\]$/g, ''));
    default: return undefined;
  }
}

function nextHopReply(c: MsgContext, arg: string): PvValue | undefined {
  const via = safe(() => c.msg.vias())?.[1];
  if (!via) return undefined;
  const rport = via.rport ? Number(via.rport) : 0;
  const host = via.received ?? via.host;
  const proto = via.transport.toLowerCase();
  const port = rport || via.port || (proto === 'tls' ? 5061 : 5060);
  switch (arg) {
    case 'u': return `sip:${host}:${port};transport=${proto}`;
    case 'd': return host;
    case 'p': return port;
    case 'P': return proto;
    case 'i': return isIP(host.replace(/^\[|\]$/g, ''));
    default: return undefined;
  }
}

/** The message as received (msg->buf, what $mb, $ml and $msg(...) read; $mbu has the changes). */
function headerSection(ctx: MsgContext): { firstLine: string; headers: string; body: string } {
  const raw = ctx.msg.buf.toString('latin1');
  const eol = raw.indexOf('\r\n');
  const end = raw.indexOf('\r\n\r\n');
  const firstLine = raw.slice(0, eol < 0 ? raw.length : eol);
  const headers = end < 0 ? raw.slice(eol + 2) : raw.slice(eol + 2, end + 2);
  const body = end < 0 ? '' : raw.slice(end + 4);
  return { firstLine, headers, body };
}

/** The smallest and largest Contact expires (param, else the Expires header), as $expires(min|max). */
function expiresRange(ctx: MsgContext): [number, number] | undefined {
  const values: number[] = [];
  const hdr = ctx.msg.header('expires');
  const dflt = hdr !== undefined && /^\s*\d+\s*$/.test(hdr) ? Number(hdr) : undefined;
  const contacts = safe(() => ctx.msg.contacts()) ?? [];
  for (const c of contacts) {
    const p = c.params.get('expires');
    if (p !== undefined && p !== null && /^\d+$/.test(p)) values.push(Number(p));
    else if (dflt !== undefined) values.push(dflt);
  }
  if (values.length === 0 && dflt !== undefined) values.push(dflt);
  if (values.length === 0) return undefined;
  return [Math.min(...values), Math.max(...values)];
}

export function registerMessagePvs(reg: PvRegistry): void {
  const pv = reg.register.bind(reg);
  // Diversion (the first header's first value) and Remote-Party-ID.
  pv('di', ro((c) => firstNameAddr(c, 'diversion')?.uri));
  pv('dir', ro((c) => paramValue(firstNameAddr(c, 'diversion'), 'reason')));
  pv('dip', ro((c) => paramValue(firstNameAddr(c, 'diversion'), 'privacy')));
  pv('dic', ro((c) => paramValue(firstNameAddr(c, 'diversion'), 'counter')));
  pv('re', ro((c) => firstNameAddr(c, 'remote-party-id')?.uri));
  pv('rt', ro((c) => firstNameAddr(c, 'refer-to')?.uri));
  // P-Preferred-Identity and P-Asserted-Identity: $(pu[i]) counts identities across headers.
  const ppi = (c: MsgContext, index: number | null): NameAddr | undefined => identities(c, 'p-preferred-identity')[index ?? 0];
  const ppiUri = (c: MsgContext, index: number | null): SipUri | undefined => {
    const na = ppi(c, index);
    return na ? safe(() => parseUri(na.uri)) : undefined;
  };
  pv('pu', ro((c, _a, i) => ppi(c, i)?.uri));
  pv('pU', ro((c, _a, i) => uriAttr(ppiUri(c, i), 'user')));
  pv('pd', ro((c, _a, i) => uriAttr(ppiUri(c, i), 'host')));
  pv('pn', ro((c, _a, i) => rawDisplayName(ppi(c, i)) || undefined));
  pv('ai', ro((c, _a, i) => identities(c, 'p-asserted-identity')[i ?? 0]?.uri));
  // Digest attributes ($au, $ar, $ad, $aU are in core-pvs / the auth module).
  pv('adu', ro((c) => digestParam(c, 'uri') || undefined));
  pv('aa', ro((c) => digestParam(c, 'algorithm')));
  pv('adn', ro((c) => digestParam(c, 'nonce')));
  pv('adc', ro((c) => digestParam(c, 'cnonce')));
  pv('adr', ro((c) => digestParam(c, 'response')));
  pv('ado', ro((c) => digestParam(c, 'opaque')));
  // URI attributes.
  const ruri = (c: MsgContext): SipUri | undefined => (c.msg.isRequest ? safe(() => c.msg.parsedRuri()) : undefined);
  const ouri = (c: MsgContext): SipUri | undefined => (c.msg.isRequest ? safe(() => parseUri(c.msg.originalRuri)) : undefined);
  const duri = (c: MsgContext): SipUri | undefined => (c.dstUri ? safe(() => parseUri(c.dstUri!)) : undefined);
  pv('rP', ro((c) => uriAttr(ruri(c), 'proto')));
  pv('rUl', ro((c) => (c.msg.isRequest ? uriAttr(ruri(c), 'ulen') : undefined)));
  pv('od', ro((c) => uriAttr(ouri(c), 'host')));
  pv('op', ro((c) => uriAttr(ouri(c), 'port')));
  pv('oP', ro((c) => uriAttr(ouri(c), 'proto')));
  pv('oUl', ro((c) => (c.msg.isRequest ? uriAttr(ouri(c), 'ulen') : undefined)));
  pv('dd', ro((c) => uriAttr(duri(c), 'host')));
  pv('dp', ro((c) => uriAttr(duri(c), 'port')));
  pv('dP', ro((c) => uriAttr(duri(c), 'proto')));
  // $nh(u|U|d|p|P|i): the next hop, $du when set, else the R-URI; for a reply, the second Via
  // (received and rport preferred), as pv_get_nh / pv_get_nh_reply.
  pv('nh', ro((c, arg) => (c.msg.isRequest ? nextHopRequest(c, arg) : nextHopReply(c, arg))));
  // Message shape.
  pv('mt', ro((c) => (c.msg.isRequest ? 1 : 2)));
  pv('mts', ro((c) => (c.msg.isRequest ? 'rq' : 'rp')));
  pv('rmid', ro((c) => {
    const m = c.msg.isRequest ? c.msg.method : safe(() => c.msg.cseq.method);
    return m === undefined ? undefined : METHOD_IDS[m] ?? METHOD_OTHER;
  }));
  pv('bs', ro((c) => c.msg.body.length));
  pv('csb', ro((c) => c.msg.header('cseq')));
  pv('mbu', ro((c) => c.msg.serialize().toString('latin1')));
  pv('msg', ro((c, arg) => {
    switch (arg) {
      case 'len': return c.msg.buf.length;
      case 'buf': return c.msg.buf.toString('latin1');
      case 'body': return c.msg.body.toString('latin1');
      case 'body_len': return c.msg.body.length;
      case 'hdrs': return headerSection(c).headers;
      case 'fline': return headerSection(c).firstLine;
      case 'fpart': {
        const s = headerSection(c);
        return `${s.firstLine}\r\n${s.headers}`;
      }
      case 'lpart': {
        const s = headerSection(c);
        return `${s.headers}\r\n${s.body}`;
      }
      default: return undefined;
    }
  }));
  pv('expires', ro((c, arg) => {
    const r = expiresRange(c);
    if (!r) return undefined;
    return arg === 'max' ? r[1] : arg === 'min' ? r[0] : undefined;
  }));
  // $hfl(name): a header's first body, list headers split per value; $hflc(name) their count.
  pv('hfl', ro((c, name, index) => {
    const all = LIST_HEADERS.has(name.toLowerCase()) ? bodies(c, name) : c.msg.headers(name);
    const i = index ?? 0;
    return all[i < 0 ? all.length + i : i];
  }));
  pv('hflc', ro((c, name) => (LIST_HEADERS.has(name.toLowerCase()) ? bodies(c, name) : c.msg.headers(name)).length));
  // $viaZ(attr): the last Via.
  pv('viaZ', ro((c, attr) => {
    const vias = safe(() => c.msg.vias());
    const v = vias?.[vias.length - 1];
    if (!v) return undefined;
    switch (attr) {
      case 'host': return v.host;
      case 'port': return v.port ?? 5060;
      case 'proto': return v.transport.toLowerCase();
      case 'branch': return v.params.get('branch') ?? undefined;
      case 'received': return v.params.get('received') ?? undefined;
      case 'rport': return v.params.get('rport') ?? undefined;
      default: return undefined;
    }
  }));
  // The receiving socket and the source address.
  pv('Ras', ro((c) => sockName(c.rcv.proto, c.rcv.family, c.rcv.localAddress, c.rcv.localPort)));
  pv('Ru', ro((c) => sockUri(c.rcv.proto, c.rcv.family, c.rcv.localAddress, c.rcv.localPort, false)));
  pv('Rut', ro((c) => sockUri(c.rcv.proto, c.rcv.family, c.rcv.localAddress, c.rcv.localPort, true)));
  pv('RAi', ro((c) => c.rcv.localAddress));
  pv('RAp', ro((c) => c.rcv.localPort));
  pv('RAu', ro((c) => sockUri(c.rcv.proto, c.rcv.family, c.rcv.localAddress, c.rcv.localPort, false)));
  pv('RAut', ro((c) => sockUri(c.rcv.proto, c.rcv.family, c.rcv.localAddress, c.rcv.localPort, true)));
  pv('sas', ro((c) => sockName(c.rcv.proto, c.rcv.family, c.rcv.srcAddress, c.rcv.srcPort)));
  pv('sut', ro((c) => sockUri(c.rcv.proto, c.rcv.family, c.rcv.srcAddress, c.rcv.srcPort, true)));
  pv('siz', ro((c) => (c.rcv.family === 6 ? `[${c.rcv.srcAddress}]` : c.rcv.srcAddress)));
  pv('src_ip', ro((c) => c.rcv.srcAddress));
  pv('prid', ro((c) => PROTO_IDS[c.rcv.proto]));
  // $af(id): AF_INET 2 / AF_INET6 10; $af(name): IPv4 / IPv6; bare $af does not parse in 5.6.
  pv('af', ro((c, arg) => {
    if (arg === 'id') return c.rcv.family === 6 ? 10 : 2;
    if (arg === 'name') return c.rcv.family === 6 ? 'IPv6' : 'IPv4';
    return undefined;
  }));
  pv('conid', ro((c) => c.rcv.connId));
}
