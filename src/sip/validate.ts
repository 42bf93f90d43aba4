/**
 * What a proxy checks once per request after parsing (RFC 3261 16.3 and the grammar): the
 * headers every request needs, their syntax, and that the CSeq method matches the request.
 * Throws SipParseError with the status the request should get.
 */
import { SipParseError, bad } from './errors.js';
import { isKnownMethod, type SipMessage } from './message.js';

/** Headers of which a request carries at most one (RFC 3261 7.3.1: not list-valued), in the order a repeat is reported. */
const SINGLE = ['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-type'];

export function validateRequest(msg: SipMessage): void {
  if (!msg.isRequest) return;
  // Bit i: SINGLE[i] seen once; bit i + 8: seen again.
  let seen = 0;
  for (const f of msg.headerFields) {
    const i = singleIndex(f.lname);
    if (i >= 0) seen |= seen & (1 << i) ? 1 << (i + 8) : 1 << i;
  }
  if (seen >= 256) {
    for (let i = 0; i < SINGLE.length; i++) if (seen & (1 << (i + 8))) throw bad(`more than one ${SINGLE[i]} header`);
  }
  msg.topVia;
  msg.vias();
  const from = msg.from;
  const to = msg.to;
  void from;
  void to;
  msg.callId;
  const cseq = msg.cseq;
  msg.maxForwards;
  const method = msg.method;
  if (cseq.method !== method) {
    // An unknown method whose CSeq names a known one is reported as not implemented (RFC 4475 3.1.2.18).
    if (!isKnownMethod(method) && isKnownMethod(cseq.method)) throw new SipParseError(501, 'Not Implemented');
    throw bad(`CSeq method ${cseq.method} does not match ${method}`, 400, 'CSeq method does not match request method');
  }
  for (const v of msg.headers('contact')) if (v !== '*') msg.contacts();
  // The Request-URI must parse; an unknown scheme is the routing logic's 416, not a syntax error.
  try {
    const u = msg.parsedRuri();
    // Escaped headers in a Request-URI must never become headers (RFC 4475 3.1.2.9): refuse them.
    if (u.headers.size > 0) throw bad('Request-URI with headers');
  } catch (e) {
    if (!(e instanceof SipParseError) || e.status !== 416) throw e;
  }
  const expires = msg.header('expires');
  if (expires !== undefined && !/^\d+$/.test(expires)) throw bad(`bad Expires '${expires}'`, 400, 'Expires value is illegal');
  const date = msg.header('date');
  if (date !== undefined && !/GMT$/.test(date)) throw bad(`bad Date '${date}'`);
}

/** The index in SINGLE of a canonical header name, else -1 (a switch: no string compares for the other headers' names). */
function singleIndex(lname: string): number {
  switch (lname) {
    case 'from': return 0;
    case 'to': return 1;
    case 'call-id': return 2;
    case 'cseq': return 3;
    case 'max-forwards': return 4;
    case 'content-type': return 5;
    default: return -1;
  }
}

/** Checks a reply before it is relayed: Via, CSeq, Call-ID, From, To must be usable. */
export function validateReply(msg: SipMessage): void {
  if (msg.isRequest) return;
  try {
    msg.topVia;
    msg.cseq;
    msg.callId;
    msg.from;
    msg.to;
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(0, e.reason);
    throw e;
  }
}
