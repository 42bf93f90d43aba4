/**
 * Kamailio's transformations, `$(pv{class.name,arg,...}{...})`, for the classes scripts use most:
 * s (string), uri, param, nameaddr and tobody (src/core/pvapi.c + modules/pv/pv_trans.c). Each is
 * parsed once with its PV spec; arguments are literals or PVs. A value a transformation cannot
 * work on gives null ($null), as a failing transformation does in Kamailio. An unknown
 * transformation is an error naming it.
 */
import { createHash } from 'node:crypto';
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { parseNameAddr, parseUri, rawDisplayName, type SipUri } from '../sip/index.js';

export type Transform = (ctx: MsgContext, v: PvValue | null) => PvValue | null;
type ArgGetter = (ctx: MsgContext) => string;

/** Splits `{a}{b}` into ["a", "b"], braces nested inside PV arguments kept. */
export function splitTransforms(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '{') throw new Error(`bad transformation '${text.slice(i)}'`);
    let depth = 0;
    let j = i;
    for (; j < text.length; j++) {
      if (text[j] === '{') depth++;
      else if (text[j] === '}' && --depth === 0) break;
    }
    if (depth !== 0) throw new Error(`unterminated transformation '${text.slice(i)}'`);
    out.push(text.slice(i + 1, j));
    i = j + 1;
  }
  return out;
}

const str = (v: PvValue): string => (typeof v === 'number' ? String(v) : v);

function uriOf(v: PvValue): SipUri | null {
  try {
    return parseUri(str(v).trim());
  } catch {
    return null;
  }
}

/** `;a=1;b` (a leading separator optional) as name/value pairs. */
function params(s: string, sep = ';'): [string, string][] {
  return s.split(sep).map((p) => p.trim()).filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [p, ''] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
  });
}

function sTransform(name: string, args: ArgGetter[], selectSepIsPv = false): Transform {
  const arg = (ctx: MsgContext, i: number): string => args[i]?.(ctx) ?? '';
  const num = (ctx: MsgContext, i: number): number => Number.parseInt(arg(ctx, i), 10) || 0;
  const onStr = (f: (s: string, ctx: MsgContext) => PvValue | null): Transform => (ctx, v) => (v === null ? null : f(str(v), ctx));
  switch (name) {
    case 'len': return onStr((s) => Buffer.byteLength(s, 'latin1'));
    // str2sint: an optional sign and digits only, else the transformation fails.
    case 'int': return (_c, v) => (v === null ? null : typeof v === 'number' ? v : /^[+-]?\d+$/.test(v) ? Number.parseInt(v, 10) : null);
    case 'tolower': return onStr((s) => s.toLowerCase());
    case 'toupper': return onStr((s) => s.toUpperCase());
    case 'md5': return onStr((s) => createHash('md5').update(s, 'latin1').digest('hex'));
    case 'sha256': return onStr((s) => createHash('sha256').update(s, 'latin1').digest('hex'));
    case 'encode.hexa': return onStr((s) => Buffer.from(s, 'latin1').toString('hex'));
    case 'decode.hexa': return onStr((s) => (/^([0-9a-fA-F]{2})*$/.test(s) ? Buffer.from(s, 'hex').toString('latin1') : null));
    case 'encode.base64': return onStr((s) => Buffer.from(s, 'latin1').toString('base64'));
    case 'decode.base64': return onStr((s) => Buffer.from(s, 'base64').toString('latin1'));
    case 'trim': return onStr((s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''));
    case 'rtrim': return onStr((s) => s.replace(/[ \t\r\n]+$/, ''));
    case 'ltrim': return onStr((s) => s.replace(/^[ \t\r\n]+/, ''));
    case 'unquote': return onStr((s) => (s.length >= 2 && ((s[0] === '"' && s.at(-1) === '"') || (s[0] === "'" && s.at(-1) === "'")) ? s.slice(1, -1) : s));
    case 'unbracket': return onStr((s) => (s.length >= 2 && ((s[0] === '<' && s.at(-1) === '>') || (s[0] === '(' && s.at(-1) === ')') || (s[0] === '[' && s.at(-1) === ']') || (s[0] === '{' && s.at(-1) === '}')) ? s.slice(1, -1) : s));
    case 'strip': return onStr((s, ctx) => s.slice(Math.min(s.length, Math.max(0, num(ctx, 0)))));
    case 'striptail': return onStr((s, ctx) => s.slice(0, Math.max(0, s.length - Math.max(0, num(ctx, 0)))));
    case 'prefixes': return onStr((s) => s);
    case 'substr':
      // {s.substr,offset,length}: a negative offset counts from the end; length 0 takes the rest.
      return onStr((s, ctx) => {
        let o = num(ctx, 0);
        const l = num(ctx, 1);
        if (o < 0) o = s.length + o;
        if (o < 0 || o >= s.length) return null;
        if (l < 0) return null;
        return l === 0 ? s.slice(o) : s.slice(o, o + l);
      });
    case 'select':
      // {s.select,index,separator}: a negative index counts from the end; the separator is a
      // literal character (Kamailio cannot take it from a variable).
      if (selectSepIsPv) throw new Error('{s.select}: the separator must be a character');
      return onStr((s, ctx) => {
        const sep = arg(ctx, 1)[0] ?? ',';
        const parts = s.split(sep);
        const i = num(ctx, 0);
        const p = i < 0 ? parts[parts.length + i] : parts[i];
        return p === undefined ? null : p;
      });
    case 'replace': return onStr((s, ctx) => s.split(arg(ctx, 0)).join(arg(ctx, 1)));
    case 'ftime': throw new Error('transformation {s.ftime} is not supported by kemi-proxy');
    default: throw new Error(`unknown transformation {s.${name}}`);
  }
}

function uriTransform(name: string, args: ArgGetter[]): Transform {
  const on = (f: (u: SipUri, raw: string, ctx: MsgContext) => PvValue | null): Transform => (ctx, v) => {
    if (v === null) return null;
    const u = uriOf(v);
    return u ? f(u, str(v).trim(), ctx) : null;
  };
  const rawParams = (raw: string): string => {
    const q = raw.indexOf('?');
    const body = q < 0 ? raw : raw.slice(0, q);
    const at = body.lastIndexOf('@');
    const semi = body.indexOf(';', at < 0 ? 0 : at);
    return semi < 0 ? '' : body.slice(semi + 1);
  };
  switch (name) {
    case 'user': return on((u) => u.user ?? '');
    case 'host':
    case 'domain': return on((u) => u.host);
    case 'port': return on((u) => u.port ?? 0);
    case 'params': return on((_u, raw) => rawParams(raw));
    case 'param': return on((_u, raw, ctx) => {
      const want = args[0]?.(ctx) ?? '';
      const hit = params(rawParams(raw)).find(([k]) => k.toLowerCase() === want.toLowerCase());
      return hit ? hit[1] : '';
    });
    case 'transport': return on((u) => u.params.get('transport') ?? '');
    case 'scheme': return on((u) => u.scheme);
    case 'passwd': return on((u) => u.password ?? '');
    case 'headers': return on((_u, raw) => (raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : ''));
    case 'ttl': return on((u) => u.params.get('ttl') ?? '');
    case 'maddr': return on((u) => u.params.get('maddr') ?? '');
    case 'method': return on((u) => u.params.get('method') ?? '');
    case 'lr': return on((u) => (u.params.has('lr') ? u.params.get('lr') ?? '' : ''));
    case 'r2': return on((u) => (u.params.has('r2') ? u.params.get('r2') ?? '' : ''));
    default: throw new Error(`unknown transformation {uri.${name}}`);
  }
}

function paramTransform(name: string, args: ArgGetter[]): Transform {
  const sepOf = (ctx: MsgContext, i: number): string => args[i]?.(ctx)[0] ?? ';';
  switch (name) {
    case 'value': return (ctx, v) => {
      if (v === null) return null;
      const want = args[0]?.(ctx) ?? '';
      const hit = params(str(v), sepOf(ctx, 1)).find(([k]) => k === want);
      return hit ? hit[1] : '';
    };
    case 'valueat': return (ctx, v) => {
      if (v === null) return null;
      const p = params(str(v), sepOf(ctx, 1))[Number.parseInt(args[0]?.(ctx) ?? '0', 10) || 0];
      return p ? p[1] : '';
    };
    case 'name': return (ctx, v) => {
      if (v === null) return null;
      const p = params(str(v), sepOf(ctx, 1))[Number.parseInt(args[0]?.(ctx) ?? '0', 10) || 0];
      return p ? p[0] : '';
    };
    case 'count': return (ctx, v) => (v === null ? null : params(str(v), sepOf(ctx, 0)).length);
    case 'in': return (ctx, v) => {
      if (v === null) return null;
      const want = args[0]?.(ctx) ?? '';
      return params(str(v), sepOf(ctx, 1)).some(([k]) => k === want) ? 1 : 0;
    };
    default: throw new Error(`unknown transformation {param.${name}}`);
  }
}

function nameaddrTransform(cls: 'nameaddr' | 'tobody', name: string): Transform {
  return (_ctx, v) => {
    if (v === null) return null;
    let na;
    try {
      na = parseNameAddr(str(v));
    } catch {
      return null;
    }
    const u = cls === 'tobody' ? uriOf(na.uri) : null;
    switch (`${cls}.${name}`) {
      case 'nameaddr.name': {
        // Everything before '<', as written (quotes and the space before '<' kept).
        const lt = str(v).indexOf('<');
        return lt < 0 ? '' : str(v).slice(0, lt).replace(/^\s+/, '');
      }
      case 'tobody.display':
        return rawDisplayName(na) ?? '';
      case 'nameaddr.uri':
      case 'tobody.uri': return na.uri;
      case 'nameaddr.len': {
        // The name-addr itself: up to and including '>' (or the addr-spec without one).
        const text = str(v).replace(/^\s+/, '');
        const gt = text.indexOf('>');
        return gt >= 0 ? gt + 1 : text.split(';')[0]!.length;
      }
      case 'tobody.tag': return na.tag ?? '';
      case 'tobody.user': return u?.user ?? '';
      case 'tobody.host': return u?.host ?? '';
      case 'tobody.params': {
        const gt = na.raw.lastIndexOf('>');
        const rest = gt >= 0 ? na.raw.slice(gt + 1) : na.raw.slice(na.raw.indexOf(';'));
        return rest.replace(/^\s*;/, '');
      }
      default: throw new Error(`unknown transformation {${cls}.${name}}`);
    }
  };
}

/** One `{class.name,arg,...}` compiled; `pvArg` turns a `$...` argument into a getter. */
export function compileTransform(text: string, pvArg: (spec: string) => ArgGetter): Transform {
  const parts = text.split(',');
  const head = parts[0]!.trim();
  const dot = head.indexOf('.');
  if (dot < 0) throw new Error(`bad transformation {${text}}`);
  const cls = head.slice(0, dot);
  const name = head.slice(dot + 1);
  const args: ArgGetter[] = parts.slice(1).map((a) => (a.startsWith('$') ? pvArg(a) : () => a));
  switch (cls) {
    case 's': return sTransform(name, args, name === 'select' && (parts[2]?.startsWith('$') ?? false));
    case 'uri': return uriTransform(name, args);
    case 'param': return paramTransform(name, args);
    case 'nameaddr':
    case 'tobody': return nameaddrTransform(cls, name);
    default: throw new Error(`transformation class {${cls}.*} is not supported by kemi-proxy`);
  }
}
