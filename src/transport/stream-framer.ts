/**
 * Splits a TCP byte stream into SIP messages (RFC 3261 18.3) and answers RFC 5626 keep-alives:
 * a CRLFCRLF ping gets a CRLF pong; stray CRLFs between messages are skipped.
 */
import { findMessageEnd } from '../sip/framing.js';

export type FrameResult = { kind: 'message'; data: Buffer } | { kind: 'ping' };

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageSize: number) {}

  /** Feeds bytes; returns complete frames. Throws on garbage or an oversize message. */
  push(chunk: Buffer): FrameResult[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FrameResult[] = [];
    let pos = 0;
    const b = this.buf;
    for (;;) {
      // Keep-alives and stray line ends between messages.
      let crlfs = 0;
      while (pos + 1 < b.length && b[pos] === 13 && b[pos + 1] === 10) {
        pos += 2;
        crlfs++;
      }
      if (crlfs >= 2) out.push({ kind: 'ping' });
      if (pos >= b.length) break;
      const end = findMessageEnd(b, pos);
      if (end < 0) {
        if (b.length - pos > this.maxMessageSize) throw new Error(`message larger than ${this.maxMessageSize} bytes`);
        break;
      }
      if (end - pos > this.maxMessageSize) throw new Error(`message larger than ${this.maxMessageSize} bytes`);
      out.push({ kind: 'message', data: b.subarray(pos, end) });
      pos = end;
    }
    this.buf = pos >= b.length ? Buffer.alloc(0) : b.subarray(pos);
    return out;
  }
}
