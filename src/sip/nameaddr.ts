/**
 * name-addr / addr-spec values (From, To, Contact, Route, Record-Route...; RFC 3261 20.10, 25.1):
 * an optional display name (token words or a quoted string), the URI in `<...>` or bare, then
 * header parameters. A bare URI ends at the first `;`: what follows are header parameters.
 */
import { SipParseError } from './errors.js';
import { splitTopLevel } from './header-names.js';
import { hasSpaceOr, isJsSpace, isTokenChar } from './chars.js';
import { ParamsBuilder, commonParamName, countChar } from './params.js';

export interface NameAddr {
  /** Display name, unquoted, quoted-pairs resolved. */
  displayName: string | undefined;
  uri: string;
  /** Read-only: a value without parameters shares one empty map. */
  params: ReadonlyMap<string, string | null>;
  tag: string | undefined;
  raw: string;
}

/** What a value without parameters has: one map for all of them, never written. */
const NO_PARAMS: ReadonlyMap<string, string | null> = new Map<string, string | null>();

const SPACE = /\s/;
const SPACE_COMMA_QUESTION = /[\s,?]/;

/** `/^[token]+(?:[ \t]+[token]+)*$/`: words of token characters separated by spaces and tabs. */
function isTokenWords(s: string): boolean {
  const n = s.length;
  if (n === 0 || !isTokenChar(s.charCodeAt(0)) || !isTokenChar(s.charCodeAt(n - 1))) return false;
  for (let i = 1; i < n - 1; i++) {
    const c = s.charCodeAt(i);
    if (!isTokenChar(c) && c !== 32 && c !== 9) return false;
  }
  return true;
}

/** The display name as written (quotes and quoted-pairs kept), as Kamailio's $fn/$tn show it. */
export function rawDisplayName(na: NameAddr | undefined): string | undefined {
  if (!na || na.displayName === undefined) return undefined;
  if (na.raw.charCodeAt(0) !== 34) return na.displayName;
  let j = 1;
  while (j < na.raw.length && na.raw.charCodeAt(j) !== 34) j += na.raw.charCodeAt(j) === 92 ? 2 : 1;
  return na.raw.slice(0, j + 1);
}

export function parseNameAddr(value: string): NameAddr {
  const raw = value.trim();
  if (raw === '*') return { displayName: undefined, uri: '*', params: NO_PARAMS, tag: undefined, raw };
  let i = 0;
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  const n = raw.length;
  if (raw.charCodeAt(0) === 34 /* " */) {
    let j = 1;
    let closed = false;
    for (; j < n; j++) {
      const c = raw.charCodeAt(j);
      if (c === 92) {
        j++;
        continue;
      }
      if (c === 34) {
        closed = true;
        break;
      }
    }
    if (!closed) throw new SipParseError(400, 'unterminated quoted display name');
    // quoted-pair unescaping: \x stands for x (RFC 3261 25.1).
    displayName = raw.slice(1, j).replace(/\\(.)/g, '$1');
    i = j + 1;
    while (i < n && (raw[i] === ' ' || raw[i] === '\t')) i++;
    if (raw[i] !== '<') throw new SipParseError(400, 'display name without <URI>');
  }
  const lt = raw.indexOf('<', i);
  if (lt >= 0) {
    if (displayName === undefined) {
      const dn = raw.slice(0, lt).trim();
      if (dn) {
        // Token display names are words of token characters separated by LWS.
        if (!isTokenWords(dn)) throw new SipParseError(400, `bad display name '${dn}'`);
        displayName = dn;
      }
    }
    const gt = raw.indexOf('>', lt);
    if (gt < 0) throw new SipParseError(400, 'unterminated <URI>');
    uri = raw.slice(lt + 1, gt);
    if (hasSpaceOr(uri, SPACE)) throw new SipParseError(400, `whitespace inside <${uri}>`);
    rest = raw.slice(gt + 1);
  } else {
    if (displayName !== undefined) throw new SipParseError(400, 'display name without <URI>');
    const semi = raw.indexOf(';');
    uri = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
    rest = semi >= 0 ? raw.slice(semi) : '';
    // An addr-spec cannot contain these without angle brackets (RFC 3261 20.10).
    if (hasSpaceOr(uri, SPACE_COMMA_QUESTION, 44 /* , */, 63 /* ? */)) throw new SipParseError(400, `bad addr-spec '${uri}'`);
  }
  if (!uri) throw new SipParseError(400, 'empty URI');
  const params = parseHeaderParams(rest);
  const tag = params.get('tag');
  return { displayName, uri, params, tag: tag === null ? undefined : tag, raw };
}

/** `;name=value;flag` header parameters (quoted values may contain `;`). */
export function parseHeaderParams(rest: string): ReadonlyMap<string, string | null> {
  const s = rest.trim();
  if (!s) return NO_PARAMS;
  if (s[0] !== ';') throw new SipParseError(400, `unexpected text '${s}' after URI`);
  const kv = new ParamsBuilder(countChar(s, ';'));
  let i = 1;
  const n = s.length;
  while (i < n) {
    let j = i;
    let inQuote = false;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (inQuote) {
        if (c === 92) j++;
        else if (c === 34) inQuote = false;
      } else if (c === 34) inQuote = true;
      else if (c === 59 /* ; */) break;
    }
    if (inQuote) throw new SipParseError(400, 'unterminated quoted parameter value');
    // The parameter is s[a, b) trimmed; its name s[a, ke), its value after the '=' (trimmed).
    let a = i;
    let b = Math.min(j, n);
    while (a < b && isJsSpace(s.charCodeAt(a))) a++;
    while (b > a && isJsSpace(s.charCodeAt(b - 1))) b--;
    if (a < b) {
      let eq = a;
      while (eq < b && s.charCodeAt(eq) !== 61 /* = */) eq++;
      let ke = eq;
      while (ke > a && isJsSpace(s.charCodeAt(ke - 1))) ke--;
      const name = commonParamName(s, a, ke) ?? s.slice(a, ke).toLowerCase();
      if (eq === b) {
        kv.set(name, null);
      } else {
        let vs = eq + 1;
        while (vs < b && isJsSpace(s.charCodeAt(vs))) vs++;
        kv.set(name, s.slice(vs, b));
      }
    }
    i = j + 1;
  }
  return kv.done(NO_PARAMS);
}

export function parseNameAddrList(value: string): NameAddr[] {
  return splitTopLevel(value).map(([s, e]) => parseNameAddr(value.slice(s, e)));
}
