/**
 * Via header values (RFC 3261 20.42, 18.2.1; RFC 3581): sent-protocol, sent-by and parameters.
 * LWS is allowed around the `/` of the protocol and around `;` and `=`.
 */
import { SipParseError } from './errors.js';
import { splitTopLevel } from './header-names.js';
import { isIPv6 } from './uri.js';
import { parseHeaderParams } from './nameaddr.js';
import { digitsValueAt, isHostChar, sameIgnoringCaseAt } from './chars.js';

export interface Via {
  protocol: string;
  /** Upper case: UDP TCP TLS SCTP WS WSS. */
  transport: string;
  /** IPv6 keeps its brackets. */
  host: string;
  /** undefined when the sent-by has no port, or port 0 (Kamailio reads 0 as not given). */
  port: number | undefined;
  branch: string | undefined;
  received: string | undefined;
  maddr: string | undefined;
  /** undefined: absent; null: present without a value; else its value. */
  rport: string | null | undefined;
  params: ReadonlyMap<string, string | null>;
  raw: string;
}

const PROTO = /^([A-Za-z0-9.!%*_+`'~\-]+)[ \t]*\/[ \t]*([A-Za-z0-9.!%*_+`'~\-]+)[ \t]*\/[ \t]*([A-Za-z0-9.!%*_+`'~\-]+)[ \t]+/;

/** The common shape `SIP/2.0/UDP host[:port];params` without regular expressions. */
function fastVia(raw: string): Via | null {
  if (!raw.startsWith('SIP/2.0/')) return null;
  const sp = raw.indexOf(' ', 8);
  if (sp < 0) return null;
  const transport = knownTransport(raw, 8, sp) ?? raw.slice(8, sp).toUpperCase();
  const semi = raw.indexOf(';', sp + 1);
  const end = semi < 0 ? raw.length : semi;
  // sent-by: host[:port], the host of letters, digits and .-_ (not IPv6, no spaces or comment).
  let hostEnd = sp + 1;
  while (hostEnd < end && isHostChar(raw.charCodeAt(hostEnd))) hostEnd++;
  if (hostEnd === sp + 1) return null;
  let port: number | undefined;
  if (hostEnd < end) {
    if (raw.charCodeAt(hostEnd) !== 58 /* : */) return null;
    port = digitsValueAt(raw, hostEnd + 1, end, 5);
    if (port < 0 || port > 65535) return null;
  }
  const host = raw.slice(sp + 1, hostEnd);
  const params = parseHeaderParams(semi < 0 ? '' : raw.slice(semi));
  return build('SIP/2.0', transport, host, port, params, raw);
}

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'];
const TRANSPORTS_LOWER = TRANSPORTS.map((t) => t.toLowerCase());

/** The transport's one upper-case string when s[start, end) names a known one in any case. */
function knownTransport(s: string, start: number, end: number): string | undefined {
  for (let k = 0; k < TRANSPORTS.length; k++) {
    const t = TRANSPORTS_LOWER[k]!;
    if (t.length === end - start && sameIgnoringCaseAt(s, start, t)) return TRANSPORTS[k];
  }
  return undefined;
}

function build(protocol: string, transport: string, host: string, port: number | undefined, params: ReadonlyMap<string, string | null>, raw: string): Via {
  const get = (k: string): string | undefined => {
    const v = params.get(k);
    return v === null ? undefined : v;
  };
  const rport = params.has('rport') ? params.get('rport') ?? null : undefined;
  // Port 0 is no port, as in Kamailio (via->port 0 is "not given": replies go to 5060); a
  // socket cannot send to port 0, and a script calling sl_send_reply must not fail for it.
  if (port === 0) port = undefined;
  return { protocol, transport, host, port, branch: get('branch'), received: get('received'), maddr: get('maddr'), rport, params, raw };
}

export function parseOneVia(value: string): Via {
  const raw = value.trim();
  const fast = fastVia(raw);
  if (fast) return fast;
  const m = PROTO.exec(raw);
  if (!m) throw new SipParseError(400, `bad Via '${raw}'`);
  const protocol = `${m[1]}/${m[2]}`;
  const transport = m[3]!.toUpperCase();
  let rest = raw.slice(m[0].length);
  const semi = rest.indexOf(';');
  let sentBy = (semi >= 0 ? rest.slice(0, semi) : rest).trim();
  rest = semi >= 0 ? rest.slice(semi) : '';
  // A comment after sent-by is allowed by the grammar; drop it.
  const paren = sentBy.indexOf('(');
  if (paren >= 0) sentBy = sentBy.slice(0, paren).trim();
  let host: string;
  let port: number | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    if (close < 0) throw new SipParseError(400, `bad Via host '${sentBy}'`);
    host = sentBy.slice(0, close + 1);
    if (!isIPv6(host)) throw new SipParseError(400, `bad Via IPv6 host '${host}'`);
    const after = sentBy.slice(close + 1).trim();
    if (after) port = parsePort(after.replace(/^:\s*/, ''), sentBy, after.startsWith(':'));
  } else {
    const pc = sentBy.indexOf(':');
    host = (pc >= 0 ? sentBy.slice(0, pc) : sentBy).trim();
    if (pc >= 0) port = parsePort(sentBy.slice(pc + 1).trim(), sentBy, true);
    if (!host || !/^[A-Za-z0-9.\-_]+$/.test(host)) throw new SipParseError(400, `bad Via host '${sentBy}'`);
  }
  return build(protocol, transport, host, port, parseHeaderParams(rest), raw);
}

function parsePort(s: string, sentBy: string, ok: boolean): number {
  if (!ok || !/^\d{1,5}$/.test(s) || Number(s) > 65535) throw new SipParseError(400, `bad Via port in '${sentBy}'`);
  return Number(s);
}

/** Every Via value of one header field value (comma-separated). */
export function parseVia(value: string): Via[] {
  return splitTopLevel(value).map(([s, e]) => parseOneVia(value.slice(s, e)));
}
