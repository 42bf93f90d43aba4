/**
 * KSR.nathelper (src/modules/nathelper/nathelper.c): NAT detection and the Contact / R-URI
 * rewrites a NAT-facing edge needs, with Kamailio's tests, return codes and text edits.
 *
 * modparams: received_avp (e.g. "$avp(RECEIVED)": where fix_nated_register leaves the source URI
 * for registrar's save; unset: fix_nated_register does nothing and returns 1), nat_addr_mode
 * (1, the default: 192.0.0.0/24 also counts as private).
 *
 * Private ("RFC 1918") addresses are Kamailio's list, IPv4 only: 10/8, 172.16/12, 192.168/16,
 * 100.64/10 (RFC 6598), 192.0.0.0/29 (RFC 7335), and with nat_addr_mode 1 192.0.0.0/24.
 *
 * fix_nated_sdp / fix_nated_sdp_ip: kemi/nathelper-sdp.ts (modparams sdp_oldmediaip, nortpproxy_str).
 * Not provided (fail naming themselves): set_alias_to_pv, and no keepalive pinging
 * (natping_interval).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { parseUri, type HeaderField, type SipUri } from '../src/sip/index.js';
import { setPv } from '../src/pv/registry.js';
import { ipBytes } from '../src/lib/ip.js';
import { fixNatedSdp, type SdpFixSettings } from './nathelper-sdp.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';
import { PROTO_IDS } from '../src/transport/types.js';

/** One proxy instance's nathelper modparams. */
interface NathelperSettings {
  /** received_avp: where fix_nated_register leaves the source URI; '' does nothing. */
  readonly receivedAvp: string;
  /** nat_addr_mode: 1 counts 192.0.0.0/24 as private too. */
  readonly natAddrMode: number;
  readonly sdp: SdpFixSettings;
}

export const NATHELPER = new ModuleKey<NathelperSettings>('nathelper');

function nathelperSettings(p: Readonly<Record<string, string | number>>): NathelperSettings {
  return {
    receivedAvp: String(p.received_avp ?? ''),
    natAddrMode: p.nat_addr_mode === undefined ? 1 : Number(p.nat_addr_mode),
    sdp: {
      oldMediaIp: p.sdp_oldmediaip === undefined ? true : Number(p.sdp_oldmediaip) !== 0,
      nortpproxy: p.nortpproxy_str === undefined ? 'a=nortpproxy:yes' : String(p.nortpproxy_str),
    },
  };
}

/** The protocol named by a Kamailio PROTO_* number in ;alias=ip~port~proto: PROTO_IDS reversed. */
const PROTO_NAME = new Map(Object.entries(PROTO_IDS).map(([name, id]) => [id, name]));
/** Marks a message whose first Contact URI was already rewritten ("you can't call ... twice"). */
const REWRITTEN = 'nathelper:contact';

// ---- addresses -----------------------------------------------------------------------------------

function v4num(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

const NETS_1918: [number, number][] = [
  [0x0a000000, 8], [0xac100000, 12], [0xc0a80000, 16], [0x64400000, 10], [0xc0000000, 29],
];
const NETS_EXTRA: [number, number][] = [[0xc0000000, 24]];

/** is1918addr(): 1 private, 0 not, -1 not an IPv4 address (natAddrMode: the modparam). */
function is1918(addr: string, natAddrMode: number): number {
  const n = v4num(addr);
  if (n === null) return -1;
  const inNet = ([net, bits]: [number, number]): boolean => n >>> (32 - bits) === net >>> (32 - bits);
  if (NETS_1918.some(inNet)) return 1;
  if (natAddrMode === 1 && NETS_EXTRA.some(inNet)) return 1;
  return 0;
}

/** The same address (any textual form of IPv4 / IPv6), as ip_addr_cmp. */
function sameIp(a: string, b: string): boolean {
  const x = ipBytes(a);
  const y = ipBytes(b);
  return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '');

function protoOf(u: SipUri): string | null {
  return u.params.get('transport')?.toLowerCase() ?? null;
}

/** GET_SIP_PORT: the port, or the default for the transport. */
function sipPort(port: number | undefined, proto: string | null): number {
  return port ? port : proto === 'tls' ? 5061 : 5060;
}

function srcHost(ctx: MsgContext): string {
  return ctx.rcv.srcAddress.includes(':') ? `[${ctx.rcv.srcAddress}]` : ctx.rcv.srcAddress;
}

/** get_src_uri(m, 0): sip:ip:port, ;transport=x unless UDP. */
function srcUri(ctx: MsgContext): string {
  return `sip:${srcHost(ctx)}:${ctx.rcv.srcPort}${ctx.rcv.proto === 'udp' ? '' : `;transport=${ctx.rcv.proto}`}`;
}

// ---- Contact locations in the header block ------------------------------------------------------

interface ContactLoc {
  field: HeaderField;
  /** Offsets in headerBlock. */
  uriStart: number;
  uriEnd: number;
  /** End of the whole contact (after its header parameters). */
  end: number;
  uri: string;
  bracketed: boolean;
}

const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** Every contact of one Contact header field, with offsets; null when unparseable; [] for `*`. */
function contactsOf(ctx: MsgContext, f: HeaderField): ContactLoc[] | null {
  const block = ctx.msg.headerBlock;
  const out: ContactLoc[] = [];
  let i = f.valueStart;
  const end = f.valueEnd;
  while (i < end) {
    while (i < end && (isWs(block[i]) || block[i] === ',')) i++;
    if (i >= end) break;
    if (block[i] === '*') return out.length === 0 ? [] : null;
    // name-addr (display name then <uri>) or addr-spec (uri up to ; , or the end).
    let j = i;
    let quoted = false;
    let lt = -1;
    for (; j < end; j++) {
      const c = block[j];
      if (c === '"' && block[j - 1] !== '\\') quoted = !quoted;
      else if (!quoted && c === '<') {
        lt = j;
        break;
      } else if (!quoted && (c === ';' || c === ',')) break;
    }
    let uriStart: number;
    let uriEnd: number;
    let k: number;
    if (lt >= 0) {
      uriStart = lt + 1;
      uriEnd = block.indexOf('>', uriStart);
      if (uriEnd < 0 || uriEnd > end) return null;
      k = uriEnd + 1;
    } else {
      uriStart = i;
      uriEnd = j;
      while (uriEnd > uriStart && isWs(block[uriEnd - 1])) uriEnd--;
      k = j;
    }
    // Header parameters run to the next top-level comma.
    quoted = false;
    for (; k < end; k++) {
      const c = block[k];
      if (c === '"' && block[k - 1] !== '\\') quoted = !quoted;
      else if (!quoted && c === ',') break;
    }
    let cEnd = k;
    while (cEnd > uriEnd && isWs(block[cEnd - 1])) cEnd--;
    out.push({ field: f, uriStart, uriEnd, end: cEnd, uri: block.slice(uriStart, uriEnd), bracketed: lt >= 0 });
    i = k + 1;
  }
  return out;
}

/**
 * get_contact_uri(): the first contact of the first Contact header and its parsed URI, or
 * -2 no Contact header, -3 `*`, -1 unparseable.
 */
function firstContact(ctx: MsgContext): { c: ContactLoc; u: SipUri } | -1 | -2 | -3 {
  const f = ctx.msg.headerField('contact');
  if (!f) return -2;
  const list = contactsOf(ctx, f);
  if (list === null) return -1;
  if (list.length === 0) return ctx.msg.headerBlock.slice(f.valueStart, f.valueEnd).trim() === '*' ? -3 : -1;
  const c = list[0]!;
  try {
    const u = parseUri(c.uri);
    if (u.scheme === 'tel' || !u.host) return -1;
    return { c, u };
  } catch {
    return -1;
  }
}

/** Where host[:port] sits in a URI text: [hostStart, hostportEnd). */
function hostportSpan(uri: string): [number, number] {
  const colon = uri.indexOf(':');
  const q = uri.indexOf('?');
  const lim = q >= 0 ? q : uri.length;
  const at = uri.lastIndexOf('@', lim);
  let i = at > colon ? at + 1 : colon + 1;
  const start = i;
  if (uri[i] === '[') i = uri.indexOf(']', i) + 1;
  else while (i < uri.length && !':;?'.includes(uri[i]!)) i++;
  if (uri[i] === ':') {
    i++;
    while (i < uri.length && /\d/.test(uri[i]!)) i++;
  }
  return [start, i];
}

// ---- SDP ------------------------------------------------------------------------------------------

interface SdpSession {
  ip: string | null;
  pf: 4 | 6 | 0;
  streams: { ip: string | null; pf: 4 | 6 | 0 }[];
}

/** parse_sdp() essentials: sessions (v=), their c= and each m= stream's c=; null when no SDP body. */
function parseSdp(ctx: MsgContext): SdpSession[] | null {
  const ct = (ctx.msg.contentType ?? '').toLowerCase();
  if (!ct.startsWith('application/sdp')) return null;
  const text = ctx.msg.body.toString('latin1');
  if (!text) return null;
  const sessions: SdpSession[] = [];
  let cur: SdpSession | null = null;
  let stream: SdpSession['streams'][number] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('v=')) {
      cur = { ip: null, pf: 0, streams: [] };
      sessions.push(cur);
      stream = null;
    } else if (!cur) continue;
    else if (line.startsWith('m=')) {
      stream = { ip: null, pf: 0 };
      cur.streams.push(stream);
    } else if (line.startsWith('c=')) {
      const m = /^c=IN IP([46]) ([^\s/]+)/.exec(line);
      if (!m) continue;
      const v = { ip: m[2]!, pf: (m[1] === '4' ? 4 : 6) as 4 | 6 };
      if (stream) Object.assign(stream, v);
      else Object.assign(cur, v);
    }
  }
  return sessions.length ? sessions : null;
}

const isNullAddr = (ip: string, pf: number): boolean => (pf === 6 ? /^[0:]*$/.test(ip) : ip === '0.0.0.0');

/** sdp_1918(): a private IPv4 address as any stream's connection address. */
function sdp1918(ctx: MsgContext): boolean {
  const sessions = parseSdp(ctx);
  if (!sessions) return false;
  for (const s of sessions) {
    for (const st of s.streams) {
      const [ip, pf] = st.ip ? [st.ip, st.pf] : [s.ip, s.pf];
      if (pf !== 4 || !ip || isNullAddr(ip, pf)) break;
      if (is1918(ip, NATHELPER.of(ctx).natAddrMode) === 1) return true;
    }
  }
  return false;
}

/** test_sdp_cline(): sessions whose c= address is not the source address. */
function sdpClineDiffers(ctx: MsgContext): boolean {
  const sessions = parseSdp(ctx);
  if (!sessions) return false;
  let n = 0;
  let same = 0;
  for (const s of sessions) {
    if (!s.ip) break;
    if (sameIp(ctx.rcv.srcAddress, s.ip)) same++;
    n++;
  }
  return n - same > 0;
}

// ---- nat_uac_test ---------------------------------------------------------------------------------

function hostsDiffer(dhost: string, rhost: string): boolean {
  if (!dhost) return false;
  const di = ipBytes(dhost);
  const ri = ipBytes(rhost);
  if (!di && !ri) return !!rhost && rhost !== dhost;
  if (!di || !ri) return true;
  return !sameIp(dhost, rhost);
}

/** nh_test_destination(): is the next hop different from the R-URI (or, for replies, the 2nd Via)? */
function testDestination(ctx: MsgContext): boolean {
  const msg = ctx.msg;
  if (!msg.isRequest) {
    let vias;
    try {
      vias = msg.vias();
    } catch {
      return false;
    }
    const v2 = vias[1];
    if (!v2) return false;
    const proto = v2.transport.toLowerCase();
    if (proto === 'ws' || proto === 'wss') return true;
    const dport = v2.rport ? Number(v2.rport) || 0 : 0;
    if (dport !== 0 && dport !== sipPort(v2.port, proto)) return true;
    if (!v2.received) return false;
    return hostsDiffer(v2.received, bare(v2.host));
  }
  let r: SipUri;
  try {
    r = msg.parsedRuri();
  } catch {
    return false;
  }
  if (!ctx.dstUri) {
    const p = protoOf(r);
    return p === 'ws' || p === 'wss';
  }
  let d: SipUri;
  try {
    d = parseUri(ctx.dstUri);
  } catch {
    return false;
  }
  const dp = protoOf(d);
  if (dp === 'ws' || dp === 'wss') return true;
  if (sipPort(d.port, dp) !== sipPort(r.port, protoOf(r))) return true;
  return hostsDiffer(bare(d.host), bare(r.host));
}

/** nat_uac_test(): Kamailio's tests, in Kamailio's order; 1 when any flagged test holds. */
function natUacTest(ctx: MsgContext, tests: number): number {
  const msg = ctx.msg;
  let via;
  try {
    via = msg.topVia;
  } catch {
    return -1;
  }
  const contact = (): { c: ContactLoc; u: SipUri } | null => {
    const r = firstContact(ctx);
    return typeof r === 'number' ? null : r;
  };
  // 16: source port differs from the Via port (5060 when absent).
  if (tests & 0x10 && ctx.rcv.srcPort !== (via.port ? via.port : 5060)) return 1;
  // 2: source address differs from the Via host (a name never matches: no received DNS).
  if (tests & 0x02 && !sameIp(bare(via.host), ctx.rcv.srcAddress)) return 1;
  // 1: private address in the Contact URI.
  if (tests & 0x01) {
    const c = contact();
    if (c && is1918(bare(c.u.host), NATHELPER.of(ctx).natAddrMode) === 1) return 1;
  }
  // 8: private address in the SDP.
  if (tests & 0x08 && sdp1918(ctx)) return 1;
  // 4: private address in the top Via.
  if (tests & 0x04 && is1918(bare(via.host), NATHELPER.of(ctx).natAddrMode) === 1) return 1;
  // 32: private source address.
  if (tests & 0x20 && is1918(ctx.rcv.srcAddress, NATHELPER.of(ctx).natAddrMode) === 1) return 1;
  // 64: received over WebSocket.
  if (tests & 0x40 && (ctx.rcv.proto === 'ws' || ctx.rcv.proto === 'wss')) return 1;
  // 128: source port differs from the Contact port.
  if (tests & 0x80) {
    const c = contact();
    if (c && ctx.rcv.srcPort !== (c.u.port ? c.u.port : 5060)) return 1;
  }
  // 256: SDP c= address differs from the source address.
  if (tests & 0x100 && sdpClineDiffers(ctx)) return 1;
  // 512: next hop differs from the R-URI / 2nd Via (or is ws/wss).
  if (tests & 0x200 && testDestination(ctx)) return 1;
  return -1;
}

// ---- Contact rewrites -----------------------------------------------------------------------------

function fixNatedContact(ctx: MsgContext): number {
  const r = firstContact(ctx);
  if (typeof r === 'number') return -1;
  if (ctx.moduleData.has(REWRITTEN)) {
    ctx.proxy.log(ctx, 'err', "nathelper: you can't call fix_nated_contact twice, check your config!");
    return -1;
  }
  const { c, u } = r;
  const [hs, he] = hostportSpan(c.uri);
  // Only host[:port] is replaced, so an ;alias= added at the URI's end by add_contact_alias stays.
  ctx.msg.editHeaders(c.uriStart + hs, c.uriStart + he, `${srcHost(ctx)}:${ctx.rcv.srcPort}`);
  // The maddr parameter makes no sense any more: dropped with the separators before it.
  if (u.params.has('maddr')) {
    const m = /[ \t;]*;maddr=[^;?]*/i.exec(c.uri.slice(he));
    if (m) ctx.msg.editHeaders(c.uriStart + he + m.index, c.uriStart + he + m.index + m[0].length, '');
  }
  ctx.moduleData.set(REWRITTEN, true);
  return 1;
}

/** uri_trim_rcv_alias(): the URI without its last well-formed ;alias=ip~port~proto, or null. */
function trimAlias(uri: string): string | null {
  const re = /;alias=[^~;?]+~[^~;?]+~.(?=;|$)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(uri); m; m = re.exec(uri)) last = m;
  if (!last) return null;
  return uri.slice(0, last.index) + uri.slice(last.index + last[0].length);
}

/** set_contact_alias([trim]): ;alias=<source> appended to the first Contact URI, in <> if not already. */
function setContactAlias(ctx: MsgContext, trim: boolean): number {
  const r = firstContact(ctx);
  if (typeof r === 'number') return -1;
  if (ctx.moduleData.has(REWRITTEN)) {
    ctx.proxy.log(ctx, 'err', "nathelper: you can't update contact twice, check your config!");
    return -1;
  }
  const { c } = r;
  const base = (trim ? trimAlias(c.uri) : null) ?? c.uri;
  const nuri = `${base};alias=${srcHost(ctx)}~${ctx.rcv.srcPort}~${PROTO_IDS[ctx.rcv.proto] ?? 1}`;
  ctx.msg.editHeaders(c.uriStart, c.uriEnd, c.bracketed ? nuri : `<${nuri}>`);
  ctx.moduleData.set(REWRITTEN, true);
  return 1;
}

/**
 * add_contact_alias_0 / _3: inserts ;alias=... at the end of the first Contact URI (an anchor
 * after c->uri). As in Kamailio, it may run more than once (each call adds one), and after
 * fix_nated_contact or set_contact_alias replaced the URI it refuses.
 */
function insertAlias(ctx: MsgContext, c: ContactLoc, alias: string): number {
  if (ctx.moduleData.has(REWRITTEN)) {
    ctx.proxy.log(ctx, 'err', "nathelper: you can't call add_contact_alias twice, check your config!");
    return -1;
  }
  const hasBracket = ctx.msg.headerBlock.slice(c.field.valueStart, c.field.valueEnd).includes('<');
  const at = c.uriEnd;
  if (!hasBracket) {
    // No <> anywhere in the Contact body: Kamailio adds '<' before the body and '>' after the alias.
    ctx.msg.editHeaders(c.field.valueStart, c.field.valueStart, '<');
    ctx.msg.editHeaders(at, at, `;alias=${alias}>`);
  } else {
    ctx.msg.editHeaders(at, at, `;alias=${alias}`);
  }
  return 1;
}

function addContactAlias(ctx: MsgContext): number {
  const r = firstContact(ctx);
  if (r === -2 || r === -3) return 2;
  if (r === -1) return -1;
  const { c, u } = r;
  const host = bare(u.host);
  if (ipBytes(host)) {
    const uproto = protoOf(u);
    if (
      sameIp(host, ctx.rcv.srcAddress) &&
      (ctx.rcv.srcPort === u.port || (u.port === undefined && ctx.rcv.srcPort === 5060)) &&
      // uri.proto is PROTO_NONE without a transport parameter: it never equals the received proto.
      uproto !== null &&
      PROTO_IDS[uproto] === PROTO_IDS[ctx.rcv.proto]
    ) return 2;
  }
  const n = PROTO_IDS[ctx.rcv.proto];
  if (!n) return -1;
  return insertAlias(ctx, c, `${srcHost(ctx)}~${ctx.rcv.srcPort}~${n}`);
}

function addContactAliasAddr(ctx: MsgContext, ip: string, port: string, proto: string): number {
  const r = firstContact(ctx);
  if (r === -2 || r === -3) return 2;
  if (r === -1) return -1;
  if (!ipBytes(bare(ip))) {
    ctx.proxy.log(ctx, 'err', `nathelper: ip param value ${ip} is not valid IP address`);
    return -1;
  }
  const p = /^\d+$/.test(port) ? Number(port) : NaN;
  if (!(p >= 1 && p <= 65535)) {
    ctx.proxy.log(ctx, 'err', 'nathelper: port param value is not valid port');
    return -1;
  }
  const n = PROTO_IDS[proto.toLowerCase()];
  if (!n) {
    ctx.proxy.log(ctx, 'err', `nathelper: proto param value ${proto} is not a known protocol`);
    return -1;
  }
  const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  return insertAlias(ctx, r.c, `${host}~${port}~${n}`);
}

/** ki_handle_ruri_alias_mode(): $du from the first (mode 0) or last ;alias of the R-URI, which loses it. */
function handleRuriAlias(ctx: MsgContext, mode: number): number {
  const msg = ctx.msg;
  if (!msg.isRequest) return -1;
  const ruri = msg.ruri;
  try {
    msg.parsedRuri();
  } catch {
    return -1;
  }
  const [, he] = hostportSpan(ruri);
  const q = ruri.indexOf('?', he);
  const paramsEnd = q >= 0 ? q : ruri.length;
  if (ruri[he] !== ';' || he + 1 >= paramsEnd) return 2;
  let start = -1;
  for (let i = he; i >= 0 && i < paramsEnd; i = ruri.indexOf(';', i + 1)) {
    if (ruri.startsWith('alias=', i + 1)) {
      start = i;
      if (mode === 0) break;
    }
  }
  if (start < 0) return 2;
  const valStart = start + 1 + 'alias='.length;
  let valEnd = valStart;
  while (valEnd < paramsEnd && ruri[valEnd] !== ';') valEnd++;
  const val = ruri.slice(valStart, valEnd);
  const t1 = val.indexOf('~');
  if (t1 < 0) {
    ctx.proxy.log(ctx, 'err', "nathelper: no '~' in alias param value");
    return -1;
  }
  const t2 = val.indexOf('~', t1 + 1);
  if (t2 < 0) {
    ctx.proxy.log(ctx, 'err', "nathelper: no second '~' in alias param value");
    return -1;
  }
  const ip = val.slice(0, t1);
  const port = val.slice(t1 + 1, t2);
  const protoPart = val.slice(t2 + 1);
  if (protoPart.length === 0) {
    ctx.proxy.log(ctx, 'err', 'nathelper: no proto in alias param');
    return -1;
  }
  if (protoPart.length > 1) {
    ctx.proxy.log(ctx, 'err', 'nathelper: invalid alias param value');
    return -1;
  }
  const pnum = protoPart.charCodeAt(0) - 48;
  let du = 'sip:' + (ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip) + (port ? `:${port}` : '');
  if (pnum !== 1) {
    const name = PROTO_NAME.get(pnum);
    if (!name) {
      ctx.proxy.log(ctx, 'err', 'nathelper: unknown proto in alias param');
      return -1;
    }
    du += `;transport=${name}`;
  }
  ctx.dstUri = du;
  msg.ruri = ruri.slice(0, start) + ruri.slice(valEnd);
  return 1;
}

/** add_rcv_param([upos]): received="<source>" on every contact (as a URI parameter when upos). */
function addRcvParam(ctx: MsgContext, upos: boolean): number {
  if (upos && ctx.rcv.proto !== 'udp') {
    ctx.proxy.log(ctx, 'err', 'nathelper: adding received parameter to Contact URI works only for UDP');
    return -1;
  }
  const uri = srcUri(ctx);
  const all: ContactLoc[] = [];
  for (const f of ctx.msg.headerFields) {
    if (f.lname !== 'contact') continue;
    const list = contactsOf(ctx, f);
    if (list === null) return -1;
    all.push(...list);
  }
  for (const c of all) {
    if (upos) ctx.msg.editHeaders(c.uriEnd, c.uriEnd, `;received=${uri}`);
    else ctx.msg.editHeaders(c.end, c.end, `;received="${uri}"`);
  }
  return 1;
}

function fixNatedRegister(ctx: MsgContext): number {
  const receivedAvp = NATHELPER.of(ctx).receivedAvp;
  if (!receivedAvp) return 1;
  try {
    setPv(ctx, receivedAvp, srcUri(ctx));
  } catch (e) {
    ctx.proxy.log(ctx, 'err', `nathelper: failed to create AVP: ${e instanceof Error ? e.message : String(e)}`);
    return -1;
  }
  return 1;
}

export default defineModule<NathelperSettings>('nathelper', [
  { name: 'nat_uac_test', params: ['int'], ret: 'int', fn: (ctx, f) => natUacTest(ctx, Number(f) || 0) },
  { name: 'fix_nated_contact', params: [], ret: 'int', fn: (ctx) => fixNatedContact(ctx) },
  { name: 'fix_nated_sdp', params: ['int'], ret: 'int', fn: (ctx, l) => fixNatedSdp(ctx, Number(l) || 0, null, NATHELPER.of(ctx).sdp) },
  { name: 'fix_nated_sdp_ip', params: ['int', 'str'], ret: 'int', fn: (ctx, l, ip) => fixNatedSdp(ctx, Number(l) || 0, str(ip) || null, NATHELPER.of(ctx).sdp) },
  { name: 'fix_nated_register', params: [], ret: 'int', fn: (ctx) => fixNatedRegister(ctx) },
  { name: 'set_contact_alias', params: [], ret: 'int', fn: (ctx) => setContactAlias(ctx, false) },
  { name: 'set_contact_alias_trim', params: [], ret: 'int', fn: (ctx) => setContactAlias(ctx, true) },
  { name: 'add_contact_alias', params: [], ret: 'int', fn: (ctx) => addContactAlias(ctx) },
  { name: 'add_contact_alias_addr', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, ip, port, proto) => addContactAliasAddr(ctx, str(ip), str(port), str(proto)) },
  { name: 'handle_ruri_alias', params: [], ret: 'int', fn: (ctx) => handleRuriAlias(ctx, 0) },
  { name: 'handle_ruri_alias_mode', params: ['int'], ret: 'int', fn: (ctx, m) => handleRuriAlias(ctx, Number(m) || 0) },
  { name: 'is_rfc1918', params: ['str'], ret: 'int', fn: (ctx, ip) => {
    const s = str(ip);
    if (!s) return -2;
    return is1918(s, NATHELPER.of(ctx).natAddrMode) === 1 ? 1 : -1;
  } },
  { name: 'add_rcv_param', params: ['int'], ret: 'int', fn: (ctx, f) => addRcvParam(ctx, (Number(f) || 0) !== 0) },
], {
  key: NATHELPER,
  init: (env) => nathelperSettings(env.params),
});
