/**
 * Splits a TCP byte stream into SIP messages (RFC 3261 18.3) and answers RFC 5626 keep-alives:
 * a CRLFCRLF ping gets a CRLF pong; stray CRLFs between messages are skipped.
 */
import { findMessageEnd, SipFramingError } from '../sip/framing.js';

export type FrameResult = { kind: 'message'; data: Buffer } | { kind: 'ping' };

export interface PushResult {
  /** The complete frames, in order, including those before a framing error. */
  frames: FrameResult[];
  /** Garbage or an oversize message: the stream cannot be framed past this point. */
  error?: Error;
}

const EMPTY = Buffer.alloc(0);

export class StreamFramer {
  private buf: Buffer = EMPTY;
  /** The buffered bytes start a message whose header block has not ended yet. */
  headersPending = false;

  constructor(private readonly maxMessageSize: number) {}

  /** Feeds bytes; returns the complete frames, and the error that stops framing, if any. */
  push(chunk: Buffer): PushResult {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: FrameResult[] = [];
    let pos = 0;
    const b = this.buf;
    let error: Error | undefined;
    for (;;) {
      // Keep-alives and stray line ends between messages.
      let crlfs = 0;
      while (pos + 1 < b.length && b[pos] === 13 && b[pos + 1] === 10) {
        pos += 2;
        crlfs++;
      }
      if (crlfs >= 2) frames.push({ kind: 'ping' });
      if (pos >= b.length) break;
      let end: number;
      try {
        end = findMessageEnd(b, pos);
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        // A header block whose Content-Length cannot frame it (negative, two values): handed on
        // so that the core answers it 400, then the stream is lost (RFC 4475 ncl, mcl01).
        if (e instanceof SipFramingError && e.answerable && e.headerEnd > pos) frames.push({ kind: 'message', data: b.subarray(pos, e.headerEnd) });
        break;
      }
      if (end < 0) {
        if (b.length - pos > this.maxMessageSize) error = new Error(`message larger than ${this.maxMessageSize} bytes`);
        break;
      }
      if (end - pos > this.maxMessageSize) {
        error = new Error(`message larger than ${this.maxMessageSize} bytes`);
        break;
      }
      frames.push({ kind: 'message', data: b.subarray(pos, end) });
      pos = end;
    }
    if (error) {
      this.buf = EMPTY;
      this.headersPending = false;
      return { frames, error };
    }
    this.buf = pos >= b.length ? EMPTY : b.subarray(pos);
    this.headersPending = this.buf.length > 0 && this.buf.indexOf('\r\n\r\n', 0, 'latin1') < 0;
    return { frames };
  }
}
