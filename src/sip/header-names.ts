/**
 * Header names: compact forms (RFC 3261 7.3.3 and the extensions that define one) and the
 * lowercase canonical full name every lookup uses.
 */

const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Lowercase canonical name: compact forms expanded. */
export function canonicalName(name: string): string {
  const l = name.toLowerCase();
  if (l.length === 1) return COMPACT[l] ?? l;
  return l;
}

/** Headers whose values may be comma-separated lists (RFC 3261 7.3.1); others are never split. */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding', 'content-language',
  'in-reply-to', 'path', 'service-route', 'accept-contact', 'reject-contact', 'error-info', 'alert-info',
  'call-info', 'reason', 'warning', 'p-associated-uri', 'history-info', 'security-client', 'security-server',
  'security-verify', 'p-asserted-identity', 'p-preferred-identity', 'privacy',
]);

export function isListHeader(lname: string): boolean {
  return LIST_HEADERS.has(lname);
}

/**
 * Splits a header value at top-level commas: commas inside quoted strings, `<...>` and
 * parenthesised comments do not split. Returns [start, end) index pairs into `v`, trimmed.
 */
export function splitTopLevel(v: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (inQuote) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inQuote = false;
      continue;
    }
    if (c === 34) inQuote = true;
    else if (c === 60 /* < */) inAngle = true;
    else if (c === 62 /* > */) inAngle = false;
    else if (c === 44 /* , */ && !inAngle) {
      pushTrimmed(out, v, start, i);
      start = i + 1;
    }
  }
  pushTrimmed(out, v, start, v.length);
  return out;
}

/** Adds v[s, e) trimmed, unless nothing is left of it. */
function pushTrimmed(out: [number, number][], v: string, s: number, e: number): void {
  while (s < e && isWs(v.charCodeAt(s))) s++;
  while (e > s && isWs(v.charCodeAt(e - 1))) e--;
  if (e > s) out.push([s, e]);
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

export function splitList(v: string): string[] {
  return splitTopLevel(v).map(([s, e]) => v.slice(s, e));
}
