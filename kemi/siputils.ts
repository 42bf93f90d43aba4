/**
 * KSR.siputils (src/modules/siputils): To-tag and first-hop tests, string and URI checks,
 * R-URI parameter handling, URI comparison.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { formatUri, parseUri, uriEquals, canonicalName, type SipUri } from '../src/sip/index.js';
import { authorizedCredentials } from '../src/auth/service.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

const yes = (b: boolean): number => (b ? 1 : -1);

function ruri(ctx: MsgContext): SipUri | null {
  if (!ctx.msg.isRequest) return null;
  try {
    return ctx.msg.parsedRuri();
  } catch {
    return null;
  }
}

function parse(s: string): SipUri | null {
  try {
    return parseUri(s);
  } catch {
    return null;
  }
}

function setRuri(ctx: MsgContext, u: SipUri): void {
  ctx.msg.ruri = formatUri(u);
}

export default defineModule('siputils', [
  { name: 'has_totag', params: [], ret: 'int', fn: (ctx) => {
    try {
      return yes(ctx.msg.to.tag !== undefined && ctx.msg.to.tag !== '');
    } catch {
      return -1;
    }
  } },
  { name: 'is_request', params: [], ret: 'int', fn: (ctx) => yes(ctx.msg.isRequest) },
  { name: 'is_reply', params: [], ret: 'int', fn: (ctx) => yes(!ctx.msg.isRequest) },
  { name: 'is_first_hop', params: [], ret: 'int', fn: (ctx) => {
    try {
      return ctx.msg.isRequest ? yes(ctx.msg.vias().length === 1) : -1;
    } catch {
      return -1;
    }
  } },
  { name: 'is_uri', params: ['str'], ret: 'int', fn: (_c, s) => yes(parse(str(s)) !== null) },
  // As Kamailio's checks.c: the user part of the credentials that passed auth_check; -1 without.
  { name: 'is_user', params: ['str'], ret: 'int', fn: (ctx, s) => {
    const a = authorizedCredentials(ctx);
    if (!a) return -1;
    const user = a.cred.username.split('@')[0] ?? '';
    return user.length > 0 && user === str(s) ? 1 : -1;
  } },
  // As Kamailio's uri_param(name): the parameter is there without a value (uri_param_any: with or without).
  { name: 'uri_param', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const params = ruri(ctx)?.params;
    const key = str(p).toLowerCase();
    return yes(!!params && params.has(key) && !params.get(key));
  } },
  { name: 'uri_param_value', params: ['str', 'str'], ret: 'int', fn: (ctx, p, v) => yes(ruri(ctx)?.params.get(str(p).toLowerCase()) === str(v)) },
  { name: 'uri_param_any', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const u = ruri(ctx);
    return yes(!!u && str(p).split(/[,;]/).some((x) => u.params.has(x.trim().toLowerCase())));
  } },
  { name: 'uri_param_rm', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const u = ruri(ctx);
    if (!u) return -1;
    const params = new Map(u.params);
    if (!params.delete(str(p).toLowerCase())) return 1;
    setRuri(ctx, { ...u, params });
    return 1;
  } },
  { name: 'add_uri_param', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const u = ruri(ctx);
    const s = str(p);
    if (!u || !s) return -1;
    const params = new Map(u.params);
    const eq = s.indexOf('=');
    params.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? null : s.slice(eq + 1));
    setRuri(ctx, { ...u, params });
    return 1;
  } },
  // Kamailio's codes: -2 empty or a bad digit, -3 a character outside the set.
  { name: 'is_tel_number', params: ['str'], ret: 'int', fn: (_c, s) => (/^(?:\+[1-9])?\d*$/.test(str(s)) && str(s) !== '' && str(s) !== '+' ? 1 : -2) },
  { name: 'is_numeric', params: ['str'], ret: 'int', fn: (_c, s) => (/^\d+$/.test(str(s)) ? 1 : -2) },
  { name: 'is_alphanum', params: ['str'], ret: 'int', fn: (_c, s) => (str(s) === '' ? -2 : /^[A-Za-z0-9]+$/.test(str(s)) ? 1 : -3) },
  { name: 'is_alphanumex', params: ['str', 'str'], ret: 'int', fn: (_c, s, extra) => {
    const ok = new Set(str(extra));
    const v = str(s);
    if (v === '') return -2;
    return [...v].every((ch) => /[A-Za-z0-9]/.test(ch) || ok.has(ch)) ? 1 : -3;
  } },
  { name: 'options_reply', params: [], ret: 'int', fn: (ctx) => {
    if (!ctx.msg.isRequest || ctx.msg.method !== 'OPTIONS') return -1;
    const u = ruri(ctx);
    if (!u || u.user !== undefined || !ctx.proxy.isMyself(u.host, u.port)) return -1;
    const headers = 'Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PRACK, UPDATE, INFO, MESSAGE, REFER\r\n'
      + 'Accept: */*\r\nAccept-Encoding: \r\nAccept-Language: en\r\nSupported: \r\n';
    return ctx.proxy.sendReply(ctx, 200, 'OK', headers);
  } },
  { name: 'cmp_uri', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => {
    const x = parse(str(a));
    const y = parse(str(b));
    if (!x || !y) return -2;
    return uriEquals(x, y) ? 1 : -1;
  } },
  { name: 'cmp_aor', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => {
    const x = parse(str(a));
    const y = parse(str(b));
    if (!x || !y) return -2;
    return x.user === y.user && x.host.toLowerCase() === y.host.toLowerCase() && (x.port ?? 5060) === (y.port ?? 5060) ? 1 : -1;
  } },
  { name: 'cmp_hdr_name', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => (canonicalName(str(a)) === canonicalName(str(b)) ? 1 : -1) },
  // hdr_date_check(tdiff): -1 no or bad Date header, -4 older than tdiff seconds, else 1.
  { name: 'hdr_date_check', params: ['int'], ret: 'int', fn: (ctx, tdiff) => {
    const d = ctx.msg.header('date');
    // RFC 3261 20.17: rfc1123-date, always GMT.
    const m = d === undefined ? null : /^[A-Za-z]{3},\s*\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}:\d{2}\s+GMT$/.exec(d.trim());
    if (!m) {
      ctx.proxy.log(ctx, 'err', d === undefined ? 'siputils: Date header field is not found' : 'siputils: failed parsing DATE body');
      return -1;
    }
    const t = Date.parse(d!.trim());
    if (Number.isNaN(t)) return -2;
    const now = Math.floor(Date.now() / 1000);
    const msgTime = Math.floor(t / 1000);
    if (now > msgTime + (Number(tdiff) || 0)) {
      ctx.proxy.log(ctx, 'err', `siputils: outdated date header value (${now - msgTime + (Number(tdiff) || 0)} sec)`);
      return -4;
    }
    return 1;
  } },
  { name: 'is_gruu', params: [], ret: 'int', fn: (ctx) => {
    const u = ruri(ctx);
    return yes(!!u && (u.params.has('gr') || /pub-gruu|temp-gruu/.test(u.raw)));
  } },
]);
