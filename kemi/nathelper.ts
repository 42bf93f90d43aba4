/**
 * KSR.nathelper (src/modules/nathelper/nathelper.c): NAT detection and the Contact / R-URI
 * rewrites a registrar-fronting edge needs. modparam received_avp (e.g. "$avp(RECEIVED)") names
 * where fix_nated_register leaves the source address for registrar's save.
 * Not provided (fail naming themselves): fix_nated_sdp_ip, handle_ruri_alias_mode, set_alias_to_pv
 * (and no keepalive pinging: natping_interval is not supported).
 */
import type { MsgContext } from '../src/core/context.js';
import { parseNameAddr, parseUri, formatUri, type HeaderField } from '../src/sip/index.js';
import { setPv } from '../src/pv/registry.js';
import { isPrivateIp } from '../src/net/ip.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));
let receivedAvp = '';

const PROTO_NUM: Record<string, number> = { udp: 1, tcp: 2, tls: 3, sctp: 4, ws: 5, wss: 6 };
const PROTO_NAME: Record<string, string> = { 1: 'udp', 2: 'tcp', 3: 'tls', 4: 'sctp', 5: 'ws', 6: 'wss' };

function firstContact(ctx: MsgContext): { field: HeaderField; uri: string } | null {
  const f = ctx.msg.headerFields.find((h) => h.lname === 'contact');
  if (!f) return null;
  try {
    const na = parseNameAddr(f.value.split(',')[0]!);
    return na.uri === '*' ? null : { field: f, uri: na.uri };
  } catch {
    return null;
  }
}

/** Replaces the first Contact's URI text inside its header value. */
function rewriteContact(ctx: MsgContext, c: { field: HeaderField; uri: string }, uri: string): number {
  const at = c.field.value.indexOf(c.uri);
  if (at < 0) return -1;
  const raw = ctx.msg.headerBlock.slice(c.field.valueStart, c.field.valueEnd);
  const i = raw.indexOf(c.uri);
  if (i < 0) return -1;
  ctx.msg.editHeaders(c.field.valueStart + i, c.field.valueStart + i + c.uri.length, uri);
  return 1;
}

function sdpAddrs(ctx: MsgContext, kind: 'c' | 'o'): string[] {
  if (!(ctx.msg.contentType ?? '').toLowerCase().startsWith('application/sdp')) return [];
  const re = kind === 'c' ? /^c=IN IP[46] (\S+)/gm : /^o=\S+ \S+ \S+ IN IP[46] (\S+)/gm;
  return [...ctx.msg.body.toString('latin1').matchAll(re)].map((m) => m[1]!);
}

function natUacTest(ctx: MsgContext, flags: number): number {
  const src = ctx.rcv.srcAddress;
  const msg = ctx.msg;
  let via;
  try {
    via = msg.topVia;
  } catch {
    via = null;
  }
  const viaHost = via?.host.replace(/^\[|\]$/g, '') ?? '';
  const contact = msg.isRequest || msg.status ? firstContact(ctx) : null;
  let cu = null;
  try {
    cu = contact ? parseUri(contact.uri) : null;
  } catch {
    cu = null;
  }
  const tests: [number, () => boolean][] = [
    [1, () => !!cu && isPrivateIp(cu.host.replace(/^\[|\]$/g, ''))],
    [2, () => !!via && viaHost !== src],
    [4, () => !!via && isPrivateIp(viaHost)],
    [8, () => sdpAddrs(ctx, 'c').some(isPrivateIp)],
    [16, () => !!via && (via.port ?? 5060) !== ctx.rcv.srcPort],
    [32, () => isPrivateIp(src)],
    [64, () => false],
    [128, () => !!cu && (cu.port ?? 5060) !== ctx.rcv.srcPort],
    [256, () => sdpAddrs(ctx, 'c').some((a) => a !== src)],
  ];
  for (const [bit, test] of tests) if ((flags & bit) && test()) return 1;
  return -1;
}

function sourceUri(ctx: MsgContext): string {
  const host = ctx.rcv.family === 6 ? `[${ctx.rcv.srcAddress}]` : ctx.rcv.srcAddress;
  return `sip:${host}:${ctx.rcv.srcPort}${ctx.rcv.proto === 'udp' ? '' : `;transport=${ctx.rcv.proto}`}`;
}

function aliasValue(ip: string, port: number | string, proto: string): string {
  return `${ip}~${port}~${PROTO_NUM[proto.toLowerCase()] ?? 1}`;
}

function addAlias(ctx: MsgContext, ip: string, port: number, proto: string, trim: boolean, always: boolean): number {
  const c = firstContact(ctx);
  if (!c) return -1;
  let u;
  try {
    u = parseUri(c.uri);
  } catch {
    return -1;
  }
  const params = new Map(u.params);
  if (trim) params.delete('alias');
  else if (params.has('alias')) return 2;
  const same = u.host.replace(/^\[|\]$/g, '') === ip && (u.port ?? 5060) === port && (u.params.get('transport') ?? 'udp').toLowerCase() === proto;
  if (same && !always) return 2;
  params.set('alias', aliasValue(ip.includes(':') ? `[${ip}]` : ip, port, proto));
  return rewriteContact(ctx, c, formatUri({ ...u, params }));
}

function handleRuriAlias(ctx: MsgContext): number {
  if (!ctx.msg.isRequest) return -1;
  let u;
  try {
    u = parseUri(ctx.msg.ruri);
  } catch {
    return -1;
  }
  const alias = u.params.get('alias');
  if (!alias) return 2;
  const [ip, port, proto] = alias.split('~');
  if (!ip || !port) return -1;
  const p = PROTO_NAME[proto ?? '1'] ?? 'udp';
  ctx.dstUri = `sip:${ip}:${port}${p === 'udp' ? '' : `;transport=${p}`}`;
  ctx.markRuriNew();
  const params = new Map(u.params);
  params.delete('alias');
  ctx.msg.ruri = formatUri({ ...u, params });
  return 1;
}

function fixSdp(ctx: MsgContext, flags: number, ip: string): number {
  if (!(ctx.msg.contentType ?? '').toLowerCase().startsWith('application/sdp')) return -1;
  let body = ctx.msg.body.toString('latin1');
  const fam = ip.includes(':') ? 'IP6' : 'IP4';
  if (flags & 2) body = body.replace(/^c=IN IP[46] \S+/gm, `c=IN ${fam} ${ip}`);
  if (flags & 8) body = body.replace(/^(o=\S+ \S+ \S+ IN) IP[46] \S+/gm, `$1 ${fam} ${ip}`);
  if ((flags & 1) && !/^a=direction:active/m.test(body)) body = body.replace(/(^m=[^\r\n]*\r?\n)/m, `$1a=direction:active\r\n`);
  if ((flags & 4) && !/^a=nortpproxy:yes/m.test(body)) body += 'a=nortpproxy:yes\r\n';
  ctx.msg.setBody(body);
  return 1;
}

export default defineModule('nathelper', [
  { name: 'nat_uac_test', params: ['int'], ret: 'int', fn: (ctx, f) => natUacTest(ctx, Number(f) || 0) },
  { name: 'fix_nated_contact', params: [], ret: 'int', fn: (ctx) => {
    const c = firstContact(ctx);
    if (!c) return -1;
    try {
      const u = parseUri(c.uri);
      const host = ctx.rcv.family === 6 ? `[${ctx.rcv.srcAddress}]` : ctx.rcv.srcAddress;
      return rewriteContact(ctx, c, formatUri({ ...u, host, port: ctx.rcv.srcPort }));
    } catch {
      return -1;
    }
  } },
  { name: 'fix_nated_register', params: [], ret: 'int', fn: (ctx) => {
    if (!ctx.msg.isRequest || ctx.msg.method !== 'REGISTER' || !receivedAvp) return -1;
    setPv(ctx, receivedAvp, sourceUri(ctx));
    return 1;
  } },
  { name: 'set_contact_alias', params: [], ret: 'int', fn: (ctx) => addAlias(ctx, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto, false, false) },
  { name: 'set_contact_alias_trim', params: [], ret: 'int', fn: (ctx) => addAlias(ctx, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto, true, false) },
  { name: 'add_contact_alias', params: [], ret: 'int', fn: (ctx) => addAlias(ctx, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto, false, false) },
  { name: 'add_contact_alias_addr', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, ip, port, proto) => addAlias(ctx, str(ip), Number(str(port)) || 5060, str(proto).toLowerCase() || 'udp', false, true) },
  { name: 'handle_ruri_alias', params: [], ret: 'int', fn: (ctx) => handleRuriAlias(ctx) },
  { name: 'is_rfc1918', params: ['str'], ret: 'int', fn: (_c, ip) => (isPrivateIp(str(ip)) ? 1 : -1) },
  { name: 'add_rcv_param', params: ['int'], ret: 'int', fn: (ctx, f) => {
    const c = firstContact(ctx);
    if (!c) return -1;
    const rcv = sourceUri(ctx);
    if (Number(f) & 1) {
      try {
        const u = parseUri(c.uri);
        const params = new Map(u.params);
        params.set('received', rcv);
        return rewriteContact(ctx, c, formatUri({ ...u, params }));
      } catch {
        return -1;
      }
    }
    const raw = ctx.msg.headerBlock.slice(c.field.valueStart, c.field.valueEnd);
    const end = raw.indexOf(',') >= 0 ? raw.indexOf(',') : raw.length;
    ctx.msg.editHeaders(c.field.valueStart + end, c.field.valueStart + end, `;received="${rcv}"`);
    return 1;
  } },
  { name: 'fix_nated_sdp', params: ['int'], ret: 'int', fn: (ctx, f) => fixSdp(ctx, Number(f) || 0, ctx.rcv.srcAddress) },
], {
  init: (env: ModuleEnv) => {
    receivedAvp = String(env.params.received_avp ?? '');
  },
});
