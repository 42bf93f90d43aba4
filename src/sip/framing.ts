/**
 * Framing for stream transports (RFC 3261 18.3): a message ends Content-Length bytes after the
 * empty line that closes its headers; Content-Length is mandatory on streams.
 */
import { SipParseError } from './errors.js';

const CL_RE = /\r?\n(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?\n/i;

/**
 * Index just past the message that starts at `start`, or -1 when more bytes are needed.
 * Throws SipParseError when the header block cannot be framed.
 */
export function findMessageEnd(buf: Buffer, start: number): number {
  const hdrEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (hdrEnd < 0) return -1;
  // The header block as text, with a leading line break so the first header matches too.
  const head = '\n' + buf.toString('latin1', start, hdrEnd + 2);
  const m = CL_RE.exec(head);
  if (!m) throw new SipParseError(400, 'missing Content-Length on a stream transport');
  const len = Number(m[1]);
  if (!Number.isSafeInteger(len)) throw new SipParseError(400, 'bad Content-Length');
  const end = hdrEnd + 4 + len;
  return end <= buf.length ? end : -1;
}
