/**
 * drachtio's wire protocol framing (drachtio-server src/client.cpp, drachtio-srf
 * lib/wire-protocol.js): each message is `<length>#<body>`, where length is the byte count of the
 * body; the body is `<msgId>|<type>|<token>|...`, then for messages that carry one, CRLF and the
 * SIP text. The decoder is streaming: partial reads, several messages per read, and garbage.
 */
import { randomUUID } from 'node:crypto';

export const CRLF = '\r\n';
/** drachtio-server reads at most 5 length digits; we allow 7 (a 10 MB frame is far beyond any SIP). */
const MAX_LENGTH_DIGITS = 7;

/** One decoded frame: the leading tokens and the SIP text after the first CRLF (or ''). */
export interface WireMessage {
  readonly msgId: string;
  readonly type: string;
  /** Every `|`-separated token of the first line, msgId and type included. */
  readonly tokens: readonly string[];
  /** Text after the first CRLF (a SIP message), '' when absent. */
  readonly sip: string;
}

export class WireError extends Error {}

/** Encodes one frame: `<bytes>#<body>`. */
export function frame(body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length}#`, 'latin1'), b]);
}

export function newMsgId(): string {
  return randomUUID();
}

/** Splits a frame body into its first-line tokens and the SIP text. */
export function parseBody(body: string): WireMessage {
  const i = body.indexOf(CRLF);
  const head = i < 0 ? body : body.slice(0, i);
  const sip = i < 0 ? '' : body.slice(i + 2);
  const tokens = head.split('|');
  if (tokens.length < 2 || !tokens[0] || !tokens[1]) throw new WireError('message has no id or type');
  return { msgId: tokens[0], type: tokens[1], tokens, sip };
}

/**
 * Streaming decoder for one connection. push() returns the complete frame bodies read so far;
 * a bad length prefix or a frame over maxFrame throws WireError (the caller closes the connection).
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): string[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    let pos = 0;
    for (;;) {
      const hash = this.buf.indexOf(0x23, pos); // '#'
      const digitsEnd = hash < 0 ? this.buf.length : hash;
      // Every byte before '#' must be a digit, at most MAX_LENGTH_DIGITS of them.
      for (let i = pos; i < digitsEnd; i++) {
        const c = this.buf[i]!;
        if (c < 0x30 || c > 0x39) throw new WireError('invalid message length specifier');
      }
      if (digitsEnd - pos > MAX_LENGTH_DIGITS) throw new WireError('message length specifier too long');
      if (hash < 0) break;
      if (hash === pos) throw new WireError('missing message length');
      const len = Number(this.buf.toString('latin1', pos, hash));
      if (len <= 0) throw new WireError('zero message length');
      if (len > this.maxFrame) throw new WireError(`message of ${len} bytes exceeds the limit of ${this.maxFrame}`);
      const end = hash + 1 + len;
      if (end > this.buf.length) break;
      out.push(this.buf.toString('utf8', hash + 1, end));
      pos = end;
    }
    this.buf = pos === 0 ? this.buf : this.buf.subarray(pos);
    if (this.buf.length > this.maxFrame + MAX_LENGTH_DIGITS + 1) throw new WireError('frame too large');
    return out;
  }
}
