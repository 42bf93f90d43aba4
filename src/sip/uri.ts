/**
 * SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966): parsing, formatting and the comparison rules of
 * RFC 3261 19.1.4. Values keep their escapes; `unescape` decodes where a comparison needs it.
 */
import { SipParseError } from './errors.js';
import { digitsValue, hasSpaceOr, isHostName } from './chars.js';
import { ParamsBuilder, commonParamName, countChar } from './params.js';

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user: string | undefined;
  password: string | undefined;
  /** Host as written; IPv6 keeps its brackets. For tel: the number. */
  host: string;
  port: number | undefined;
  /** Read-only: a URI without parameters or headers shares one empty map (copy to edit). */
  params: ReadonlyMap<string, string | null>;
  headers: ReadonlyMap<string, string>;
  raw: string;
}

/** What a URI without parameters (or headers) has: one map for all of them, never written. */
const NONE: ReadonlyMap<string, never> = new Map<string, never>();

const BAD_URI_CHAR = /[\s<>"]/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** IPv6 reference, with or without brackets (RFC 5118 tolerance: `::` followed by an IPv4 tail). */
export function isIPv6(s: string): boolean {
  let h = s;
  if (h.startsWith('[')) {
    if (!h.endsWith(']')) return false;
    h = h.slice(1, -1);
  }
  if (!h.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(h)) return false;
  const dbl = h.split('::');
  if (dbl.length > 2) return false;
  const parts = h.split(':').filter((p) => p !== '');
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes('.')) {
      if (i !== parts.length - 1 || !isIPv4(p)) return false;
      groups += 2;
    } else {
      if (p.length > 4) return false;
      groups++;
    }
  }
  return dbl.length === 2 ? groups < 8 : groups === 8;
}

/** %XX decoding (once: `%2541` gives `%41`, not `A`). */
export function unescape(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function parseParams(s: string): ReadonlyMap<string, string | null> {
  if (!s) return NONE;
  const kv = new ParamsBuilder(countChar(s, ';') + 1);
  // The first '=' at or after i (-1: none left), searched again only once passed: searching from
  // each parameter to the next '=' would read a long run of flags once per flag.
  let nextEq = s.indexOf('=');
  let i = 0;
  while (i <= s.length) {
    let j = s.indexOf(';', i);
    if (j < 0) j = s.length;
    if (j > i) {
      if (nextEq >= 0 && nextEq < i) nextEq = s.indexOf('=', i);
      const eq = nextEq >= 0 && nextEq < j ? nextEq : -1;
      if (eq < 0) kv.set(commonParamName(s, i, j) ?? s.slice(i, j).toLowerCase(), null);
      else kv.set(commonParamName(s, i, eq) ?? s.slice(i, eq).toLowerCase(), s.slice(eq + 1, j));
    }
    i = j + 1;
  }
  return kv.done(NONE);
}

export function parseUri(text: string): SipUri {
  const raw = text.trim();
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new SipParseError(400, `bad URI '${raw}'`);
  const scheme = colon === 3 && raw.startsWith('sip') ? 'sip' : raw.slice(0, colon).toLowerCase();
  if (hasSpaceOr(raw, BAD_URI_CHAR, 60 /* < */, 62 /* > */, 34 /* " */)) throw new SipParseError(400, `bad characters in URI '${raw}'`);
  if (scheme === 'tel') return parseTel(raw, colon);
  if (scheme !== 'sip' && scheme !== 'sips') {
    if (!/^[a-z][a-z0-9+.\-]*$/.test(scheme)) throw new SipParseError(400, `bad URI scheme in '${raw}'`);
    throw new SipParseError(416, `Unsupported URI Scheme '${scheme}'`);
  }
  let rest = raw.slice(colon + 1);
  let headersPart = '';
  let user: string | undefined;
  let password: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    if (pc >= 0) {
      user = userinfo.slice(0, pc);
      password = userinfo.slice(pc + 1);
    } else {
      user = userinfo;
    }
    if (user === '') throw new SipParseError(400, `empty user in URI '${raw}'`);
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    headersPart = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let paramsPart = '';
  const semi = rest.indexOf(';');
  if (semi >= 0) {
    paramsPart = rest.slice(semi + 1);
    rest = rest.slice(0, semi);
  }
  let host: string;
  let port: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new SipParseError(400, `unterminated IPv6 reference in '${raw}'`);
    host = rest.slice(0, close + 1);
    const after = rest.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) throw new SipParseError(400, `bad host in '${raw}'`);
      port = parsePort(after.slice(1), raw);
    }
    if (!isIPv6(host)) throw new SipParseError(400, `bad IPv6 reference in '${raw}'`);
  } else {
    const pc = rest.indexOf(':');
    if (pc >= 0) {
      host = rest.slice(0, pc);
      port = parsePort(rest.slice(pc + 1), raw);
    } else {
      host = rest;
    }
    if (!isHostName(host)) throw new SipParseError(400, `bad host in '${raw}'`);
  }
  const params = parseParams(paramsPart);
  let headers: ReadonlyMap<string, string> = NONE;
  if (headersPart) {
    const h = new Map<string, string>();
    for (const kv of headersPart.split('&')) {
      const eq = kv.indexOf('=');
      if (eq > 0) h.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    if (h.size > 0) headers = h;
  }
  return { scheme, user, password, host, port, params, headers, raw };
}

function parsePort(s: string, raw: string): number {
  const n = digitsValue(s, 5);
  if (n < 0 || n > 65535) throw new SipParseError(400, `bad port in '${raw}'`);
  return n;
}

function parseTel(raw: string, colon: number): SipUri {
  const body = raw.slice(colon + 1);
  const semi = body.indexOf(';');
  const number = semi >= 0 ? body.slice(0, semi) : body;
  if (!number || !/^[+0-9A-Fa-f*#\-.()pPwW]+$/.test(number)) throw new SipParseError(400, `bad tel URI '${raw}'`);
  const params = parseParams(semi >= 0 ? body.slice(semi + 1) : '');
  return { scheme: 'tel', user: number, password: undefined, host: number, port: undefined, params, headers: NONE, raw };
}

export function formatUri(u: SipUri): string {
  if (u.scheme === 'tel') {
    let s = `tel:${u.host}`;
    for (const [k, v] of u.params) s += v === null ? `;${k}` : `;${k}=${v}`;
    return s;
  }
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  for (const [k, v] of u.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  if (u.headers.size > 0) s += '?' + [...u.headers].map(([k, v]) => `${k}=${v}`).join('&');
  return s;
}

/** Parameters that must match when present in either URI (RFC 3261 19.1.4). */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

/** URI equivalence per RFC 3261 19.1.4. */
export function uriEquals(a: SipUri | string, b: SipUri | string): boolean {
  const x = typeof a === 'string' ? parseUri(a) : a;
  const y = typeof b === 'string' ? parseUri(b) : b;
  if (x.scheme !== y.scheme) return false;
  if (x.scheme === 'tel') return x.host.replace(/[\-.()]/g, '') === y.host.replace(/[\-.()]/g, '');
  if ((x.user === undefined) !== (y.user === undefined)) return false;
  if (x.user !== undefined && unescape(x.user) !== unescape(y.user!)) return false;
  if ((x.password ?? null) !== (y.password ?? null) && unescape(x.password ?? '') !== unescape(y.password ?? '')) return false;
  if (unescape(x.host).toLowerCase() !== unescape(y.host).toLowerCase()) return false;
  if (x.port !== y.port) return false;
  for (const p of STRICT_PARAMS) {
    const vx = x.params.get(p);
    const vy = y.params.get(p);
    if (vx === undefined && vy === undefined) continue;
    if (vx === undefined || vy === undefined) return false;
    if (unescape(vx ?? '').toLowerCase() !== unescape(vy ?? '').toLowerCase()) return false;
  }
  for (const [k, vx] of x.params) {
    if (STRICT_PARAMS.includes(k) || !y.params.has(k)) continue;
    const vy = y.params.get(k);
    if (unescape(vx ?? '').toLowerCase() !== unescape(vy ?? '').toLowerCase()) return false;
  }
  if (x.headers.size !== y.headers.size) return false;
  for (const [k, v] of x.headers) {
    let found = false;
    for (const [k2, v2] of y.headers) {
      if (k2.toLowerCase() === k.toLowerCase() && unescape(v2) === unescape(v)) found = true;
    }
    if (!found) return false;
  }
  return true;
}
