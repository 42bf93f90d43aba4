/**
 * Bencode (BitTorrent encoding), the body format of rtpengine's ng control protocol:
 * `i42e` integers, `4:spam` byte strings, `l...e` lists, `d...e` dictionaries.
 *
 * Byte strings are JS strings holding one char per byte (latin1), the way the SIP message model
 * keeps bodies, so an SDP goes through unchanged whatever its bytes. Dictionaries keep their
 * insertion order when encoded (rtpengine does not need sorted keys; Kamailio sends them in the
 * order it adds them) and decode into a Map, so a key such as `__proto__` is just a key.
 */

export type BValue = string | Buffer | number | BValue[] | BDict;
export type BDict = Map<string, BValue> | { readonly [key: string]: BValue | undefined };

export class BencodeError extends Error {}

/** Deeper nesting than this is refused on decode (a hostile or broken peer). */
const MAX_DEPTH = 64;

function pushString(parts: Buffer[], s: string | Buffer): void {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  parts.push(Buffer.from(`${b.length}:`, 'latin1'), b);
}

function encodeInto(parts: Buffer[], v: BValue, depth: number): void {
  if (depth > MAX_DEPTH) throw new BencodeError('bencode: nesting too deep');
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    pushString(parts, v);
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new BencodeError(`bencode: not an integer: ${v}`);
    parts.push(Buffer.from(`i${v}e`, 'latin1'));
  } else if (Array.isArray(v)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const x of v) encodeInto(parts, x, depth + 1);
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    parts.push(Buffer.from('d', 'latin1'));
    const entries: Iterable<[string, BValue | undefined]> = v instanceof Map ? v.entries() : Object.entries(v);
    for (const [k, x] of entries) {
      if (x === undefined) continue;
      pushString(parts, k);
      encodeInto(parts, x, depth + 1);
    }
    parts.push(Buffer.from('e', 'latin1'));
  }
}

export function bencode(v: BValue): Buffer {
  const parts: Buffer[] = [];
  encodeInto(parts, v, 0);
  return Buffer.concat(parts);
}

/** A decoded value: strings as latin1 JS strings, dictionaries as Maps. */
export type BDecoded = string | number | BDecoded[] | Map<string, BDecoded>;

const C_0 = 0x30;
const C_9 = 0x39;

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  fail(what: string): never {
    throw new BencodeError(`bencode: ${what} at offset ${this.pos}`);
  }

  value(depth: number): BDecoded {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.buf[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === 0x69 /* i */) return this.integer();
    if (c === 0x6c /* l */) {
      this.pos++;
      const out: BDecoded[] = [];
      while (this.buf[this.pos] !== 0x65 /* e */) {
        if (this.pos >= this.buf.length) this.fail('unterminated list');
        out.push(this.value(depth + 1));
      }
      this.pos++;
      return out;
    }
    if (c === 0x64 /* d */) {
      this.pos++;
      const out = new Map<string, BDecoded>();
      while (this.buf[this.pos] !== 0x65) {
        if (this.pos >= this.buf.length) this.fail('unterminated dictionary');
        const c2 = this.buf[this.pos]!;
        if (c2 < C_0 || c2 > C_9) this.fail('dictionary key is not a string');
        const k = this.string();
        out.set(k, this.value(depth + 1));
      }
      this.pos++;
      return out;
    }
    if (c >= C_0 && c <= C_9) return this.string();
    return this.fail(`unexpected byte 0x${c.toString(16)}`);
  }

  integer(): number {
    const end = this.buf.indexOf(0x65, this.pos + 1);
    if (end < 0) this.fail('unterminated integer');
    const text = this.buf.toString('latin1', this.pos + 1, end);
    if (!/^-?\d{1,16}$/.test(text)) this.fail(`bad integer '${text.slice(0, 20)}'`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) this.fail('integer out of range');
    this.pos = end + 1;
    return n;
  }

  string(): string {
    const colon = this.buf.indexOf(0x3a /* : */, this.pos);
    if (colon < 0 || colon - this.pos > 10) this.fail('bad string length');
    const text = this.buf.toString('latin1', this.pos, colon);
    if (!/^\d+$/.test(text)) this.fail('bad string length');
    const len = Number(text);
    const start = colon + 1;
    if (start + len > this.buf.length) this.fail('string runs past the end');
    this.pos = start + len;
    return this.buf.toString('latin1', start, start + len);
  }
}

/** Decodes exactly one value filling the whole buffer; throws BencodeError on anything else. */
export function bdecode(buf: Buffer): BDecoded {
  const r = new Reader(buf);
  const v = r.value(0);
  if (r.pos !== buf.length) r.fail('trailing bytes');
  return v;
}

/** A dictionary entry as a string, or undefined when absent or not a string. */
export function dictStr(d: BDecoded | undefined, key: string): string | undefined {
  if (!(d instanceof Map)) return undefined;
  const v = d.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** A dictionary entry as an integer, or `dflt` (bencode_dictionary_get_integer). */
export function dictInt(d: BDecoded | undefined, key: string, dflt: number): number {
  if (!(d instanceof Map)) return dflt;
  const v = d.get(key);
  return typeof v === 'number' ? v : dflt;
}

/** A dictionary entry that is itself a dictionary. */
export function dictDict(d: BDecoded | undefined, key: string): Map<string, BDecoded> | undefined {
  if (!(d instanceof Map)) return undefined;
  const v = d.get(key);
  return v instanceof Map ? v : undefined;
}
