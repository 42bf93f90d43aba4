/**
 * KSR.*: Kamailio's core exports (src/core/kemi.c `_sr_kemi_core`): logging, method and transport
 * tests, flags, R-URI and $du changes, stateless forwarding, is_myself and send flags.
 */
import type { LogLevel, MsgContext, Proto } from '../src/context/msg-context.js';
import { formatUri, parseUri, type SipUri } from '../src/sip/index.js';
import { defineModule, type KemiArg, type KemiExport } from './types.js';
import { str, int } from './args.js';
import { nameTable } from '../src/lib/name-table.js';

function logAt(level: LogLevel) {
  return (ctx: MsgContext, text: KemiArg): void => ctx.proxy.log(ctx, level, str(text));
}

const LEVELS = nameTable<LogLevel>({ dbg: 'dbg', info: 'info', notice: 'notice', warn: 'warn', err: 'err', crit: 'crit' });

/** Method of a request, or of the CSeq of a reply. */
function method(ctx: MsgContext): string {
  try {
    return ctx.msg.method;
  } catch {
    return '';
  }
}

const METHOD_LETTERS: Record<string, string> = {
  I: 'INVITE', A: 'ACK', B: 'BYE', C: 'CANCEL', M: 'MESSAGE', R: 'REGISTER', E: 'PRACK', P: 'PUBLISH', S: 'SUBSCRIBE',
  N: 'NOTIFY', O: 'OPTIONS', F: 'REFER', G: 'GET', U: 'UPDATE', K: 'KDMQ', D: 'DELETE', T: 'POST', V: 'PUT',
};

function isMethod(name: string) {
  return (ctx: MsgContext): boolean => method(ctx) === name;
}

function flagOp(get: (ctx: MsgContext) => number, set: (ctx: MsgContext, v: number) => void, op: 'set' | 'reset' | 'is') {
  return (ctx: MsgContext, f: KemiArg): boolean => {
    const n = int(f);
    if (n < 0 || n > 31) return false;
    const bit = (1 << n) >>> 0;
    if (op === 'is') return (get(ctx) & bit) !== 0;
    set(ctx, op === 'set' ? (get(ctx) | bit) >>> 0 : (get(ctx) & ~bit) >>> 0);
    return true;
  };
}

function branchFlagOp(op: 'set' | 'reset' | 'is') {
  return (ctx: MsgContext, f: KemiArg, b: KemiArg): boolean => {
    const idx = int(b);
    if (idx < 0 || idx > ctx.branches.length) return false;
    return flagOp((c) => c.bflags[idx] ?? 0, (c, v) => void (c.bflags[idx] = v), op)(ctx, f);
  };
}

function uriOrNull(s: string | null | undefined): SipUri | null {
  if (!s) return null;
  try {
    return parseUri(s);
  } catch {
    return null;
  }
}

function myselfUri(ctx: MsgContext, u: SipUri | null): boolean {
  if (!u || u.scheme === 'tel') return false;
  const t = u.params.get('transport');
  const proto = t ? (t.toLowerCase() as Proto) : undefined;
  return ctx.proxy.isMyself(u.host, u.port, proto);
}

function nameAddrUri(ctx: MsgContext, which: 'from' | 'to'): SipUri | null {
  try {
    return ctx.msg.nameAddrUri(which);
  } catch {
    return null;
  }
}

/** The request's R-URI as the message parsed and cached it (shared: read it, never change it), or null. */
function ruriOrNull(ctx: MsgContext): SipUri | null {
  if (!ctx.msg.ruri) return null;
  try {
    return ctx.msg.parsedRuri();
  } catch {
    return null;
  }
}

/** Transport and family of the next hop: $du, else the R-URI (IPv4/6 only for literal hosts). */
function nextHop(ctx: MsgContext): SipUri | null {
  if (!ctx.msg.isRequest) return null;
  return uriOrNull(ctx.dstUri) ?? ruriOrNull(ctx);
}

function toProto(p: Proto) {
  return (ctx: MsgContext): boolean => {
    if (!ctx.msg.isRequest) {
      // For a reply: the Via it goes back to.
      try {
        const v = ctx.msg.vias()[1];
        return v ? v.transport.toLowerCase() === p : false;
      } catch {
        return false;
      }
    }
    const u = nextHop(ctx);
    if (!u) return false;
    const t = (u.params.get('transport') ?? (u.scheme === 'sips' ? 'tls' : 'udp')).toLowerCase();
    return t === p;
  };
}

function toFamily(f: 4 | 6) {
  return (ctx: MsgContext): boolean => {
    const u = nextHop(ctx);
    if (!u) return false;
    const h = u.host;
    if (f === 6) return h.startsWith('[');
    return /^\d+\.\d+\.\d+\.\d+$/.test(h);
  };
}

function setRuriPart(ctx: MsgContext, part: 'user' | 'host', v: string): boolean {
  if (!ctx.msg.isRequest) return false;
  const u = uriOrNull(ctx.msg.ruri);
  if (!u || u.scheme === 'tel') return false;
  if (part === 'user') u.user = v || undefined;
  else if (v) u.host = v;
  else return false;
  ctx.msg.ruri = formatUri(u);
  return true;
}

const exports: KemiExport[] = [
  { name: 'dbg', params: ['str'], ret: 'none', fn: logAt('dbg') },
  { name: 'err', params: ['str'], ret: 'none', fn: logAt('err') },
  { name: 'info', params: ['str'], ret: 'none', fn: logAt('info') },
  { name: 'warn', params: ['str'], ret: 'none', fn: logAt('warn') },
  { name: 'notice', params: ['str'], ret: 'none', fn: logAt('notice') },
  { name: 'crit', params: ['str'], ret: 'none', fn: logAt('crit') },
  { name: 'log', params: ['str', 'str'], ret: 'none', fn: (ctx, level, text) => ctx.proxy.log(ctx, LEVELS[str(level).toLowerCase()] ?? 'err', str(text)) },
  { name: 'set_drop', params: [], ret: 'none', fn: (ctx) => void (ctx.drop = true) },
  { name: 'is_myself', params: ['str'], ret: 'bool', fn: (ctx, s) => {
    const v = str(s);
    if (/^sips?:/i.test(v)) return myselfUri(ctx, uriOrNull(v));
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(v);
    return m ? ctx.proxy.isMyself(m[1]!, m[2] ? Number(m[2]) : undefined) : false;
  } },
  { name: 'is_myself_ruri', params: [], ret: 'bool', fn: (ctx) => ctx.msg.isRequest && myselfUri(ctx, ruriOrNull(ctx)) },
  { name: 'is_myself_duri', params: [], ret: 'bool', fn: (ctx) => myselfUri(ctx, uriOrNull(ctx.dstUri)) },
  { name: 'is_myself_nhuri', params: [], ret: 'bool', fn: (ctx) => myselfUri(ctx, nextHop(ctx)) },
  { name: 'is_myself_furi', params: [], ret: 'bool', fn: (ctx) => myselfUri(ctx, nameAddrUri(ctx, 'from')) },
  { name: 'is_myself_turi', params: [], ret: 'bool', fn: (ctx) => myselfUri(ctx, nameAddrUri(ctx, 'to')) },
  { name: 'is_myself_suri', params: [], ret: 'bool', fn: (ctx) => ctx.proxy.isMyself(ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'is_myself_srcip', params: [], ret: 'bool', fn: (ctx) => ctx.proxy.isMyself(ctx.rcv.srcAddress) },
  { name: 'setflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.flags, (c, v) => void (c.flags = v), 'set') },
  { name: 'resetflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.flags, (c, v) => void (c.flags = v), 'reset') },
  { name: 'isflagset', params: ['int'], ret: 'bool', fn: flagOp((c) => c.flags, (c, v) => void (c.flags = v), 'is') },
  { name: 'setbflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.bflags[0] ?? 0, (c, v) => void (c.bflags[0] = v), 'set') },
  { name: 'resetbflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.bflags[0] ?? 0, (c, v) => void (c.bflags[0] = v), 'reset') },
  { name: 'isbflagset', params: ['int'], ret: 'bool', fn: flagOp((c) => c.bflags[0] ?? 0, (c, v) => void (c.bflags[0] = v), 'is') },
  { name: 'setbiflag', params: ['int', 'int'], ret: 'bool', fn: branchFlagOp('set') },
  { name: 'resetbiflag', params: ['int', 'int'], ret: 'bool', fn: branchFlagOp('reset') },
  { name: 'isbiflagset', params: ['int', 'int'], ret: 'bool', fn: branchFlagOp('is') },
  { name: 'setsflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.sflags, (c, v) => void (c.sflags = v), 'set') },
  { name: 'resetsflag', params: ['int'], ret: 'bool', fn: flagOp((c) => c.sflags, (c, v) => void (c.sflags = v), 'reset') },
  { name: 'issflagset', params: ['int'], ret: 'bool', fn: flagOp((c) => c.sflags, (c, v) => void (c.sflags = v), 'is') },
  { name: 'seturi', params: ['str'], ret: 'bool', fn: (ctx, u) => {
    const v = str(u);
    if (!ctx.msg.isRequest || !v) return false;
    ctx.msg.ruri = v;
    return true;
  } },
  { name: 'setuser', params: ['str'], ret: 'bool', fn: (ctx, u) => setRuriPart(ctx, 'user', str(u)) },
  { name: 'sethost', params: ['str'], ret: 'bool', fn: (ctx, h) => setRuriPart(ctx, 'host', str(h)) },
  // Kamailio answers true even when the URI could not be set.
  { name: 'setdsturi', params: ['str'], ret: 'bool', fn: (ctx, u) => {
    const v = str(u);
    if (v) ctx.dstUri = v;
    return true;
  } },
  { name: 'resetdsturi', params: [], ret: 'bool', fn: (ctx) => {
    ctx.dstUri = null;
    return true;
  } },
  { name: 'isdsturiset', params: [], ret: 'bool', fn: (ctx) => !!ctx.dstUri },
  { name: 'force_rport', params: [], ret: 'bool', fn: (ctx) => (ctx.forceRport = true) },
  { name: 'add_local_rport', params: [], ret: 'bool', fn: (ctx) => (ctx.addLocalRport = true) },
  { name: 'is_method', params: ['str'], ret: 'bool', fn: (ctx, m) => {
    const want = str(m).toUpperCase().split('|');
    return want.includes(method(ctx).toUpperCase());
  } },
  { name: 'is_method_in', params: ['str'], ret: 'bool', fn: (ctx, letters) => {
    const m = method(ctx);
    for (const ch of str(letters).toUpperCase()) if (METHOD_LETTERS[ch] === m) return true;
    return false;
  } },
  { name: 'forward', params: [], ret: 'int', fn: (ctx) => ctx.proxy.forward(ctx) },
  { name: 'forward_uri', params: ['str'], ret: 'int', fn: (ctx, u) => ctx.proxy.forward(ctx, str(u) || undefined) },
  { name: 'set_forward_close', params: [], ret: 'bool', fn: (ctx) => (ctx.sendFlags.forwardClose = true) },
  { name: 'set_forward_no_connect', params: [], ret: 'bool', fn: (ctx) => (ctx.sendFlags.forwardNoConnect = true) },
  { name: 'set_reply_close', params: [], ret: 'bool', fn: (ctx) => (ctx.sendFlags.replyClose = true) },
  { name: 'set_reply_no_connect', params: [], ret: 'bool', fn: (ctx) => (ctx.sendFlags.replyNoConnect = true) },
  { name: 'set_advertised_address', params: ['str'], ret: 'int', fn: (ctx, a) => {
    const v = str(a);
    if (!v) return 0;
    ctx.advertisedAddress = v;
    return 1;
  } },
  { name: 'set_advertised_port', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const v = str(p);
    if (!/^\d{1,5}$/.test(v)) return 0;
    ctx.advertisedPort = v;
    return 1;
  } },
  { name: 'is_INVITE', params: [], ret: 'bool', fn: isMethod('INVITE') },
  { name: 'is_ACK', params: [], ret: 'bool', fn: isMethod('ACK') },
  { name: 'is_BYE', params: [], ret: 'bool', fn: isMethod('BYE') },
  { name: 'is_CANCEL', params: [], ret: 'bool', fn: isMethod('CANCEL') },
  { name: 'is_REGISTER', params: [], ret: 'bool', fn: isMethod('REGISTER') },
  { name: 'is_OPTIONS', params: [], ret: 'bool', fn: isMethod('OPTIONS') },
  { name: 'is_SUBSCRIBE', params: [], ret: 'bool', fn: isMethod('SUBSCRIBE') },
  { name: 'is_PUBLISH', params: [], ret: 'bool', fn: isMethod('PUBLISH') },
  { name: 'is_NOTIFY', params: [], ret: 'bool', fn: isMethod('NOTIFY') },
  { name: 'is_REFER', params: [], ret: 'bool', fn: isMethod('REFER') },
  { name: 'is_INFO', params: [], ret: 'bool', fn: isMethod('INFO') },
  { name: 'is_UPDATE', params: [], ret: 'bool', fn: isMethod('UPDATE') },
  { name: 'is_PRACK', params: [], ret: 'bool', fn: isMethod('PRACK') },
  { name: 'is_MESSAGE', params: [], ret: 'bool', fn: isMethod('MESSAGE') },
  { name: 'is_KDMQ', params: [], ret: 'bool', fn: isMethod('KDMQ') },
  { name: 'is_GET', params: [], ret: 'bool', fn: isMethod('GET') },
  { name: 'is_POST', params: [], ret: 'bool', fn: isMethod('POST') },
  { name: 'is_PUT', params: [], ret: 'bool', fn: isMethod('PUT') },
  { name: 'is_DELETE', params: [], ret: 'bool', fn: isMethod('DELETE') },
  { name: 'is_UDP', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'udp' },
  { name: 'is_TCP', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'tcp' },
  { name: 'is_TLS', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'tls' },
  { name: 'is_WS', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'ws' },
  { name: 'is_WSS', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'wss' },
  { name: 'is_WSX', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'ws' || ctx.rcv.proto === 'wss' },
  { name: 'is_SCTP', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.proto === 'sctp' },
  { name: 'is_proto', params: ['str'], ret: 'bool', fn: (ctx, s) => {
    const letter: Record<Proto, string> = { tls: 'e', sctp: 's', tcp: 't', udp: 'u', ws: 'v', wss: 'w' };
    return str(s).toLowerCase().includes(letter[ctx.rcv.proto]);
  } },
  { name: 'is_IPv4', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.family === 4 },
  { name: 'is_IPv6', params: [], ret: 'bool', fn: (ctx) => ctx.rcv.family === 6 },
  { name: 'to_UDP', params: [], ret: 'bool', fn: toProto('udp') },
  { name: 'to_TCP', params: [], ret: 'bool', fn: toProto('tcp') },
  { name: 'to_TLS', params: [], ret: 'bool', fn: toProto('tls') },
  { name: 'to_SCTP', params: [], ret: 'bool', fn: toProto('sctp') },
  { name: 'to_WS', params: [], ret: 'bool', fn: toProto('ws') },
  { name: 'to_WSS', params: [], ret: 'bool', fn: toProto('wss') },
  { name: 'to_WSX', params: [], ret: 'bool', fn: (ctx) => toProto('ws')(ctx) || toProto('wss')(ctx) },
  { name: 'to_IPv4', params: [], ret: 'bool', fn: toFamily(4) },
  { name: 'to_IPv6', params: [], ret: 'bool', fn: toFamily(6) },
  { name: 'is_src_port', params: ['int'], ret: 'bool', fn: (ctx, p) => ctx.rcv.srcPort === int(p) },
  { name: 'is_dst_port', params: ['int'], ret: 'bool', fn: (ctx, p) => ctx.rcv.localPort === int(p) },
  { name: 'route', params: ['str'], ret: 'int', fn: () => {
    throw new Error('KSR.route: native cfg route blocks do not exist in a Lua-only configuration');
  } },
];

export default defineModule('', exports);
