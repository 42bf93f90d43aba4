/**
 * Framing for stream transports (RFC 3261 18.3): a message ends Content-Length bytes after the
 * empty line that closes its headers; Content-Length is mandatory on streams.
 */
import { SipParseError } from './errors.js';

/** Every Content-Length header line (long or compact form) of a header block; group 1 is the value. */
const CL_LINE_RE = /\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/gi;

/**
 * A header block whose message cannot be framed (no, a negative or non-numeric, or conflicting
 * Content-Length: RFC 4475 ncl, mcl01). The stream is lost after it; `headerEnd` is the index
 * just past the empty line that closes the headers, so the transport can hand the header block
 * up to be answered (400) before it closes the connection.
 */
export class SipFramingError extends SipParseError {
  constructor(
    reason: string,
    readonly headerEnd: number,
    /** The block is a request worth answering (a bad Content-Length), not garbage. */
    readonly answerable = true,
  ) {
    super(400, reason);
    this.name = 'SipFramingError';
  }
}

/**
 * Index just past the message that starts at `start`, or -1 when more bytes are needed.
 * Throws SipFramingError when the header block cannot be framed.
 */
export function findMessageEnd(buf: Buffer, start: number): number {
  const hdrEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (hdrEnd < 0) return -1;
  const headerEnd = hdrEnd + 4;
  // The header block as text, with a leading line break so the first header matches too.
  const head = '\n' + buf.toString('latin1', start, hdrEnd + 2);
  let len = -1;
  for (const m of head.matchAll(CL_LINE_RE)) {
    const v = m[1]!.trimEnd();
    if (!/^\d{1,9}$/.test(v)) throw new SipFramingError(`bad Content-Length '${v.slice(0, 20)}'`, headerEnd);
    const n = Number(v);
    if (len >= 0 && n !== len) throw new SipFramingError('conflicting Content-Length headers', headerEnd);
    len = n;
  }
  if (len < 0) throw new SipFramingError('missing Content-Length on a stream transport', headerEnd, false);
  const end = headerEnd + len;
  return end <= buf.length ? end : -1;
}
