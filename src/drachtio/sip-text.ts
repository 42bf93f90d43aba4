/**
 * The SIP text an app sends (drachtio-srf's SipMessage.toString): a start line, headers and a
 * body, without the Via, tags or Content-Length the stack fills in. Parsed leniently into parts
 * the bridge builds real messages from.
 */
import { nameTable } from '../lib/name-table.js';

export interface AppSipText {
  /** Request: method and URI; response: status and reason. */
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  /** Headers in order, names as written. */
  headers: { name: string; value: string }[];
  body: string;
}

export class AppTextError extends Error {}

/** Compact header forms srf may write. */
const COMPACT = nameTable({
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from',
  s: 'subject', k: 'supported', t: 'to', v: 'via',
});

export function canonical(name: string): string {
  const l = name.toLowerCase();
  return COMPACT[l] ?? l;
}

export function parseAppSip(text: string): AppSipText {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  let body = sep < 0 ? '' : text.slice(sep + 4);
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  const out: AppSipText = { headers: [], body: '' };
  let m = /^SIP\/2\.0\s+(\d{3})(?:\s+(.*))?$/.exec(start);
  if (m) {
    out.status = Number(m[1]);
    out.reason = m[2] ?? '';
  } else {
    m = /^([A-Za-z]+)\s+(\S+)\s+SIP\/2\.0$/.exec(start);
    if (!m) throw new AppTextError(`bad start line '${start.slice(0, 80)}'`);
    out.method = m[1]!.toUpperCase();
    out.uri = m[2]!;
  }
  for (const line of lines) {
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && out.headers.length > 0) {
      out.headers[out.headers.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) throw new AppTextError(`bad header line '${line.slice(0, 80)}'`);
    out.headers.push({ name: line.slice(0, c).trim(), value: line.slice(c + 1).trim() });
  }
  const cl = header(out, 'content-length');
  if (cl !== undefined && /^\d+$/.test(cl)) {
    const n = Number(cl);
    const b = Buffer.from(body, 'utf8');
    if (b.length > n) body = b.subarray(0, n).toString('utf8');
  }
  out.body = body;
  return out;
}

export function header(t: AppSipText, name: string): string | undefined {
  const n = canonical(name);
  return t.headers.find((h) => canonical(h.name) === n)?.value;
}

/**
 * Standard headers in their usual spelling. srf writes some names in lower case (`require`,
 * `rack`); drachtio-server's stack (sofia) re-encodes the headers it knows this way, and some
 * peers match header names case-sensitively. Other names are kept as the app wrote them.
 */
const SPELLING = new Map(
  ['Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events', 'Authentication-Info', 'Authorization',
    'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type',
    'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'Min-SE', 'MIME-Version',
    'Organization', 'Path', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason',
    'Record-Route', 'Refer-To', 'Referred-By', 'Replaces', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq',
    'Security-Client', 'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match',
    'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
    'P-Asserted-Identity', 'P-Preferred-Identity'].map((n) => [n.toLowerCase(), n]),
);

/** The app's headers except the ones the stack writes itself, as header lines. */
export function extraHeaderLines(t: AppSipText, skip: ReadonlySet<string>): string {
  let s = '';
  for (const h of t.headers) {
    const c = canonical(h.name);
    if (!skip.has(c)) s += `${SPELLING.get(c) ?? h.name}: ${h.value}\r\n`;
  }
  return s;
}

/** Headers where drachtio-server puts its own address for a `@localhost` host the app wrote. */
const LOCALIZED = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

/**
 * What drachtio-server's stack does to an app's headers before sending (makeTags, then sofia's
 * encoding): `user@localhost` in From, To, Contact, P-Asserted-Identity becomes `user@<our
 * host:port>` (srf apps write `sip:x@localhost` for "this server"), and a Contact given as a bare
 * URI is written as a name-addr (`sip:a@b;expires=60` -> `<sip:a@b>;expires=60`), as some peers
 * only read the bracketed form.
 */
export function localizeAppHeaders(t: AppSipText, hostport: string): void {
  for (const h of t.headers) {
    const c = canonical(h.name);
    if (!LOCALIZED.has(c)) continue;
    h.value = h.value.replace(/@localhost(:\d+)?(?=[>;?,\s]|$)/gi, `@${hostport}`);
    if (c === 'contact') h.value = nameAddr(h.value);
  }
}

/** A bare addr-spec as a name-addr; the parameters after it stay header parameters (RFC 3261 20.10). */
function nameAddr(v: string): string {
  const s = v.trim();
  if (s.includes('<') || s === '*' || s.includes(',')) return s;
  const semi = s.indexOf(';');
  return semi < 0 ? `<${s}>` : `<${s.slice(0, semi)}>${s.slice(semi)}`;
}
