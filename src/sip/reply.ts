/**
 * Building a reply to a request (RFC 3261 8.2.6.2): every Via in order, From, To (with a tag on
 * anything but 100 when the request had none), Call-ID and CSeq copied; extra header lines; a body.
 */
import type { SipMessage } from './message.js';

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  305: 'Use Proxy', 380: 'Alternative Service', 400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone', 413: 'Request Entity Too Large',
  414: 'Request-URI Too Long', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension',
  421: 'Extension Required', 423: 'Interval Too Brief', 429: 'Provide Referrer Identity', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete',
  485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  493: 'Undecipherable', 500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function defaultReason(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Provisional' : status < 300 ? 'OK' : status < 400 ? 'Redirect' : status < 500 ? 'Client Error' : status < 600 ? 'Server Error' : 'Global Failure');
}

export interface ReplyOptions {
  toTag?: string;
  /** Whole header lines, each ending in CRLF. */
  headers?: string;
  body?: Buffer | string;
  contentType?: string;
  server?: string;
  /** received / rport for the top Via (RFC 3581), placed as Kamailio's build_res_buf_from_sip_req does. */
  via1?: { received: string | null; rport: number | null };
}

/**
 * The top Via value of a local reply with `;rport=<port>` and `;received=<ip>`, placed as Kamailio
 * 5.6.3's build_res_buf_from_sip_req does (checked on its wire output): an `rport` parameter the
 * Via has is replaced where it stands; a forced rport the Via lacks goes at the end; `received`
 * always goes at the end, after everything else (a `received` the Via already had stays).
 * `;branch=b;rport;alias` becomes `;branch=b;rport=P;alias;received=IP`.
 */
function rewriteVia1(value: string, via1: NonNullable<ReplyOptions['via1']>): string {
  let out = value;
  if (via1.rport !== null) {
    const semi = value.indexOf(';');
    const params = semi < 0 ? [] : value.slice(semi + 1).split(';');
    const at = params.findIndex((p) => p.split('=')[0]!.trim().toLowerCase() === 'rport');
    if (at >= 0) {
      params[at] = `rport=${via1.rport}`;
      out = value.slice(0, semi) + params.map((p) => `;${p}`).join('');
    } else out = `${value};rport=${via1.rport}`;
  }
  return via1.received !== null ? `${out};received=${via1.received}` : out;
}

export function buildReply(req: SipMessage, status: number, reason: string, opts: ReplyOptions = {}): Buffer {
  let head = `SIP/2.0 ${status} ${reason || defaultReason(status)}\r\n`;
  let firstVia = true;
  for (const f of req.headerFields) {
    switch (f.lname) {
      case 'via':
        if (firstVia && opts.via1) {
          // The top Via is the first value of the first Via header (a header may hold several).
          const top = req.topVia.raw;
          const i = f.value.indexOf(top);
          head += i < 0 ? `${f.name}: ${f.value}\r\n` : `${f.name}: ${f.value.slice(0, i)}${rewriteVia1(top, opts.via1)}${f.value.slice(i + top.length)}\r\n`;
        } else head += `${f.name}: ${f.value}\r\n`;
        firstVia = false;
        break;
      case 'from':
      case 'call-id':
      case 'cseq':
        head += `${f.name}: ${f.value}\r\n`;
        break;
      case 'to': {
        let v = f.value;
        if (status > 100 && opts.toTag && !hasTag(req)) v += `;tag=${opts.toTag}`;
        head += `${f.name}: ${v}\r\n`;
        break;
      }
      default:
        break;
    }
  }
  if (opts.headers) head += opts.headers;
  if (opts.server) head += `Server: ${opts.server}\r\n`;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'latin1') : opts.body;
  if (body && body.length > 0 && opts.contentType) head += `Content-Type: ${opts.contentType}\r\n`;
  head += `Content-Length: ${body ? body.length : 0}\r\n\r\n`;
  const h = Buffer.from(head, 'latin1');
  return body && body.length > 0 ? Buffer.concat([h, body]) : h;
}

function hasTag(req: SipMessage): boolean {
  try {
    return req.to.tag !== undefined;
  } catch {
    return false;
  }
}
