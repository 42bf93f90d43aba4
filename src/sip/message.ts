/**
 * SipMessage: a received Buffer with an index of its start line and header lines, values parsed
 * on demand and cached, and a list of edits ("lumps") spliced into the original bytes on
 * serialize. Reads return what was received, as Kamailio's do until msg_apply_changes; the
 * Request-URI is the exception (a rewrite is seen at once, as $ru is).
 */
import { SipParseError, bad } from './errors.js';
import { canonicalName, isListHeader, isWs, splitTopLevel } from './header-names.js';
import { parseNameAddr, parseNameAddrList, type NameAddr } from './nameaddr.js';
import { parseUri, type SipUri } from './uri.js';
import { parseOneVia, parseVia, type Via } from './via.js';
import { digitsValue, digitsValueAt, hasSpaceOr, isToken, sameAt, sameIgnoringCaseAt } from './chars.js';

export interface HeaderField {
  /** Name as on the wire. */
  readonly name: string;
  /** Lowercase canonical full name (compact forms expanded). */
  readonly lname: string;
  /** Value, unfolded and trimmed. */
  readonly value: string;
  /** Byte offsets of the whole line, CRLF included. */
  readonly start: number;
  readonly end: number;
  /** Byte offsets of the raw value (after the colon and its whitespace, before the line end). */
  readonly valueStart: number;
  readonly valueEnd: number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** What parsing found; shared by a message and its clones (never changed after parse). */
interface Parsed {
  buf: Buffer;
  /** The whole of buf as latin1 text (a character per byte: indices are offsets). */
  text: string;
  msgStart: number;
  isRequest: boolean;
  method: string;
  version: string;
  status: number;
  reason: string;
  ruri: string;
  ruriStart: number;
  ruriEnd: number;
  fields: HeaderField[];
  /** Where the empty line ending the headers starts (appended headers go here). */
  headersEnd: number;
  bodyStart: number;
  bodyEnd: number;
  /** Content-Length as received (-1: absent). */
  contentLength: number;
  /** Values parsed on demand, by slot (slotOf); UNDEFINED stands for a value that is undefined. */
  cache: unknown[];
  /** Parsed as one datagram (a re-parse of the same bytes needs it). */
  datagram: boolean;
  /** A plain parse (not lenient, not HTTP): parsing the bytes again gives the same. */
  reparsable: boolean;
}

/**
 * A message's parse reduced to its bytes and the start-line facts that matching reads: the header
 * index, the header text and every value parsed on demand are built again from the bytes on first
 * use. What a transaction keeps for wait_timer holds only this, so the objects its handling
 * allocated die young instead of being copied out of the young generation (issue 14: scavenge
 * pauses grow with what survives them).
 */
class ParsedAgain implements Parsed {
  readonly buf: Buffer;
  readonly isRequest: boolean;
  readonly method: string;
  readonly status: number;
  readonly datagram: boolean;
  readonly reparsable = true;
  private full: Parsed | null = null;

  constructor(p: Parsed) {
    this.buf = p.buf;
    this.isRequest = p.isRequest;
    this.method = p.method;
    this.status = p.status;
    this.datagram = p.datagram;
  }

  private get p(): Parsed {
    return (this.full ??= parseBuffer(this.buf, this.datagram));
  }
  get text(): string { return this.p.text; }
  get msgStart(): number { return this.p.msgStart; }
  get version(): string { return this.p.version; }
  get reason(): string { return this.p.reason; }
  get ruri(): string { return this.p.ruri; }
  get ruriStart(): number { return this.p.ruriStart; }
  get ruriEnd(): number { return this.p.ruriEnd; }
  get fields(): HeaderField[] { return this.p.fields; }
  get headersEnd(): number { return this.p.headersEnd; }
  get bodyStart(): number { return this.p.bodyStart; }
  get bodyEnd(): number { return this.p.bodyEnd; }
  get contentLength(): number { return this.p.contentLength; }
  get cache(): unknown[] { return this.p.cache; }
}

export interface ParseOptions {
  /** The buffer is one datagram: its end bounds the body (default true). */
  datagram?: boolean;
  /**
   * Index what can be indexed and ignore start-line, header-line and Content-Length errors: used
   * only to answer a bad request (a reply needs just its Via, From, To, Call-ID and CSeq).
   */
  lenient?: boolean;
  /** Also accept an HTTP/1.x request line (xhttp's event message: Kamailio parses HTTP with its SIP parser). */
  http?: boolean;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/**
 * The methods as one string each: a transaction keeps its request's method for seconds, and a
 * method sliced from each message would be one more string per call for the GC to keep.
 */
const METHODS = new Map(['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'REFER', 'PUBLISH'].map((m) => [m, m]));
const METHODS_BY_LENGTH: string[][] = [];
for (const m of METHODS.keys()) (METHODS_BY_LENGTH[m.length] ??= []).push(m);

/** One of the SIP methods a proxy knows (the RFC 3261 family and its extensions), case-sensitive. */
export function isKnownMethod(method: string): boolean {
  return METHODS.has(method);
}

/**
 * Where a message keeps a value parsed on demand: a slot number per key, given on first use.
 * An array indexed by constants instead of a Map keyed by name: no hashing per read, and no Map
 * per parse growing (and rehashing) as values are read (issue 14: hot path).
 */
const SLOT_KEYS = new Map<string, number>();
function slotOf(key: string): number {
  let i = SLOT_KEYS.get(key);
  if (i === undefined) {
    i = SLOT_KEYS.size;
    SLOT_KEYS.set(key, i);
  }
  return i;
}
const S_CALL_ID = slotOf('call-id');
const S_CSEQ = slotOf('cseq');
const S_FROM = slotOf('from');
const S_TO = slotOf('to');
const S_FROM_URI = slotOf('uri:from');
const S_TO_URI = slotOf('uri:to');
const S_VIA1 = slotOf('via1');
const S_VIAS = slotOf('vias');
const S_MAX_FORWARDS = slotOf('max-forwards');
/** Slots of the name-addr lists. */
type NameAddrHeader = 'route' | 'record-route' | 'contact';
const NAME_ADDR_SLOTS = { route: slotOf('na:route'), 'record-route': slotOf('na:record-route'), contact: slotOf('na:contact') } as const;
/** Stored for a parsed value that is undefined (an empty slot is a value not parsed yet). */
const UNDEFINED = Symbol('undefined');

export class SipMessage {
  private p: Parsed;
  private newRuri: string | null = null;
  private edits: Edit[] | null = null;
  private newBody: Buffer | null = null;
  /** Range edits of the received body (offsets into it); the body setBody gives replaces them. */
  private bodyEdits: Edit[] | null = null;
  private bodyEditsCache: Buffer | null = null;
  /** A reply's status code as changed by setStatus (Kamailio rewrites it in the buffer). */
  private newStatus: number | null = null;
  private parsedRuriCache: { ruri: string; uri: SipUri } | null = null;

  private constructor(p: Parsed) {
    this.p = p;
  }

  static parse(buf: Buffer, opts?: ParseOptions): SipMessage {
    return new SipMessage(parseBuffer(buf, opts?.datagram ?? true, opts?.lenient ?? false, opts?.http ?? false));
  }

  get buf(): Buffer {
    return this.p.buf;
  }
  get isRequest(): boolean {
    return this.p.isRequest;
  }
  get version(): string {
    return this.p.version;
  }
  /** Request method, or the CSeq method of a reply. */
  get method(): string {
    return this.p.isRequest ? this.p.method : this.cseq.method;
  }
  get status(): number {
    return this.newStatus ?? this.p.status;
  }
  get reason(): string {
    return this.p.reason;
  }
  get originalRuri(): string {
    return this.p.ruri;
  }
  get ruri(): string {
    return this.newRuri ?? this.p.ruri;
  }
  set ruri(v: string) {
    if (!this.p.isRequest) throw new Error('a reply has no Request-URI');
    this.newRuri = v === this.p.ruri ? null : v;
    this.ruriWrites++;
  }
  /** Counts Request-URI writes (even to the same value): tm's "R-URI is a new branch" test. */
  ruriWrites = 0;
  get headerFields(): readonly HeaderField[] {
    return this.p.fields;
  }
  get hasEdits(): boolean {
    return this.newRuri !== null || this.edits !== null || this.newBody !== null || this.bodyEdits !== null;
  }

  parsedRuri(): SipUri {
    const r = this.ruri;
    if (this.parsedRuriCache?.ruri !== r) this.parsedRuriCache = { ruri: r, uri: parseUri(r) };
    return this.parsedRuriCache.uri;
  }

  // ---- header reads ---------------------------------------------------------------------------

  /** The first header field of `lname` (lower-case, long form), as parsed: no closure per call. */
  headerField(lname: string): HeaderField | undefined {
    const f = this.p.fields;
    for (let i = 0; i < f.length; i++) if (f[i]!.lname === lname) return f[i];
    return undefined;
  }

  header(name: string): string | undefined {
    return this.headerField(canonicalName(name))?.value;
  }

  headers(name: string): string[] {
    const l = canonicalName(name);
    const out: string[] = [];
    for (const f of this.p.fields) if (f.lname === l) out.push(f.value);
    return out;
  }

  headerList(name: string): string[] {
    const out: string[] = [];
    for (const v of this.headers(name)) for (const [s, e] of splitTopLevel(v)) out.push(v.slice(s, e));
    return out;
  }

  hasHeader(name: string): boolean {
    return this.headerField(canonicalName(name)) !== undefined;
  }

  /**
   * Forgets the header index and every value parsed from it; they are parsed again from the bytes
   * if anything asks. For messages kept long after their handling (a settled transaction's request):
   * issue 17 (memory per live transaction) and issue 14 (what young-generation GC must copy). Edits
   * stay. A message parsed leniently keeps its parse (a re-parse would refuse it).
   */
  dropParsedValues(): void {
    if (this.p instanceof ParsedAgain || !this.p.reparsable) return;
    this.p = new ParsedAgain(this.p);
    this.parsedRuriCache = null;
  }

  /** retire() was called: the message is read, never sent again. */
  private retired = false;

  /**
   * For a request kept only to be matched and read (a settled transaction's, for seconds):
   * dropParsedValues(), and the header and body edits go too (about a dozen objects per call that
   * the old-generation GC marks). The R-URI and a replaced body stay; reads see what they saw.
   * It cannot be serialized or cloned afterwards: nothing sends it again.
   */
  retire(): void {
    this.dropParsedValues();
    this.retired = true;
    this.edits = null;
    this.bodyEdits = null;
    this.bodyEditsCache = null;
  }

  private assertLive(what: string): void {
    if (this.retired) throw new Error(`SipMessage.${what}: this ${this.method || 'message'} was retired (a settled transaction's request is not sent again)`);
  }

  /** The value `make` gives for this message, made once (a parse error too is kept, and thrown again). */
  derived<T>(key: string, make: (m: SipMessage) => T): T {
    return this.slotted(slotOf(key), make);
  }

  private slotted<T>(slot: number, make: (m: SipMessage) => T): T {
    const c = this.p.cache;
    const v = c[slot];
    if (v !== undefined) {
      if (v === UNDEFINED) return undefined as T;
      if (v instanceof SipParseError) throw v;
      return v as T;
    }
    try {
      const made = make(this);
      c[slot] = made === undefined ? UNDEFINED : made;
      return made;
    } catch (e) {
      if (e instanceof SipParseError) c[slot] = e;
      throw e;
    }
  }

  // The parsers below are static (no closure per read) and reach the private header index.

  get callId(): string {
    return this.slotted(S_CALL_ID, SipMessage.parseCallId);
  }

  private static parseCallId(m: SipMessage): string {
    const v = m.headerField('call-id')?.value;
    if (!v) throw bad('missing Call-ID');
    if (hasSpaceOr(v, /\s/)) throw bad('bad Call-ID');
    return v;
  }

  get cseq(): { seq: number; method: string } {
    return this.slotted(S_CSEQ, SipMessage.parseCseq);
  }

  private static parseCseq(m: SipMessage): { seq: number; method: string } {
    const v = m.headerField('cseq')?.value;
    if (v === undefined) throw bad('missing CSeq');
    let i = 0;
    let seq = 0;
    while (i < v.length && i < 11) {
      const d = v.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      seq = seq * 10 + d;
      i++;
    }
    if (i === 0 || i > 10) throw bad(`bad CSeq '${v}'`, 400, 'CSeq number is illegal');
    if (seq > 0x7fffffff) throw bad(`CSeq number out of range '${v}'`);
    let j = i;
    while (j < v.length && (v.charCodeAt(j) === SP || v.charCodeAt(j) === HT)) j++;
    if (j === i) throw bad(`bad CSeq '${v}'`, 400, 'CSeq number is illegal');
    const known = knownMethodAt(v, j, v.length);
    if (known !== undefined) return { seq, method: known };
    const method = v.slice(j);
    if (!isToken(method)) throw bad(`bad CSeq method '${method}'`);
    return { seq, method };
  }

  get from(): NameAddr {
    return this.slotted(S_FROM, SipMessage.parseFrom);
  }

  private static parseFrom(m: SipMessage): NameAddr {
    const v = m.headerField('from')?.value;
    if (v === undefined) throw bad('missing From');
    return parseNameAddr(v);
  }

  get to(): NameAddr {
    return this.slotted(S_TO, SipMessage.parseTo);
  }

  private static parseTo(m: SipMessage): NameAddr {
    const v = m.headerField('to')?.value;
    if (v === undefined) throw bad('missing To');
    return parseNameAddr(v);
  }

  /**
   * The URI of From or To, parsed once per message (sanity, is_myself_furi and the PVs read it).
   * Callers must not change the object: it is shared.
   */
  nameAddrUri(which: 'from' | 'to'): SipUri {
    return which === 'from' ? this.slotted(S_FROM_URI, SipMessage.parseFromUri) : this.slotted(S_TO_URI, SipMessage.parseToUri);
  }

  private static parseFromUri(m: SipMessage): SipUri {
    return parseUri(m.from.uri);
  }

  private static parseToUri(m: SipMessage): SipUri {
    return parseUri(m.to.uri);
  }

  get topVia(): Via {
    return this.slotted(S_VIA1, SipMessage.parseTopVia);
  }

  private static parseTopVia(m: SipMessage): Via {
    const f = m.headerField('via');
    if (!f) throw bad('missing Via');
    if (!f.value.includes(',')) return parseOneVia(f.value);
    const parts = splitTopLevel(f.value);
    const first = parts[0];
    if (!first) throw bad('empty Via');
    return parseOneVia(f.value.slice(first[0], first[1]));
  }

  vias(): Via[] {
    return this.slotted(S_VIAS, SipMessage.parseVias);
  }

  private static parseVias(m: SipMessage): Via[] {
    const out: Via[] = [];
    let first = true;
    for (const f of m.p.fields) {
      if (f.lname !== 'via') continue;
      if (first) {
        first = false;
        // The first value of the first Via header is topVia: parsed once, shared.
        const v = f.value;
        if (v && !v.includes(',')) {
          out.push(m.topVia);
          continue;
        }
        const parts = splitTopLevel(v);
        for (let i = 0; i < parts.length; i++) out.push(i === 0 ? m.topVia : parseOneVia(v.slice(parts[i]![0], parts[i]![1])));
        continue;
      }
      out.push(...parseVia(f.value));
    }
    if (out.length === 0) throw bad('missing Via');
    return out;
  }

  get maxForwards(): number | undefined {
    return this.slotted(S_MAX_FORWARDS, SipMessage.parseMaxForwards);
  }

  private static parseMaxForwards(m: SipMessage): number | undefined {
    const v = m.headerField('max-forwards')?.value;
    if (v === undefined) return undefined;
    // Leading zeros are legal (RFC 4475 3.1.1.1); the value itself fits in 0..255.
    const n = digitsValue(v, 10);
    if (n < 0 || n > 255) throw bad(`bad Max-Forwards '${v}'`);
    return n;
  }

  get contentLength(): number {
    return this.newBody ? this.newBody.length : this.bodyEdits ? this.body.length : this.p.bodyEnd - this.p.bodyStart;
  }

  get contentType(): string | undefined {
    return this.headerField('content-type')?.value;
  }

  get body(): Buffer {
    if (this.newBody) return this.newBody;
    if (this.bodyEdits) return (this.bodyEditsCache ??= this.splicedBody(this.bodyEdits));
    return this.receivedBody;
  }

  /** The body as received, whatever edits were made since (what Kamailio's textops match against). */
  get receivedBody(): Buffer {
    return this.p.buf.subarray(this.p.bodyStart, this.p.bodyEnd);
  }

  private splicedBody(edits: Edit[]): Buffer {
    const src = this.receivedBody;
    const sorted = edits.slice().sort((a, b) => a.start - b.start);
    const parts: Buffer[] = [];
    let pos = 0;
    for (const e of sorted) {
      let start = e.start;
      if (start < pos) {
        // Overlaps an earlier edit: the earlier one wins (as for header edits).
        if (e.end <= pos) {
          if (start === e.end) parts.push(Buffer.from(e.text, 'latin1'));
          continue;
        }
        start = pos;
      }
      if (start > pos) parts.push(src.subarray(pos, start));
      parts.push(Buffer.from(e.text, 'latin1'));
      pos = e.end;
    }
    parts.push(src.subarray(pos));
    return Buffer.concat(parts);
  }

  routes(): NameAddr[] {
    return this.nameAddrs('route');
  }

  recordRoutes(): NameAddr[] {
    return this.nameAddrs('record-route');
  }

  contacts(): NameAddr[] {
    return this.nameAddrs('contact');
  }

  private nameAddrs(lname: NameAddrHeader): NameAddr[] {
    return this.slotted(NAME_ADDR_SLOTS[lname], SipMessage.nameAddrMakers[lname]);
  }

  /** Every name-addr of the `lname` headers, in order. */
  private static collectNameAddrs(m: SipMessage, lname: NameAddrHeader): NameAddr[] {
    const out: NameAddr[] = [];
    for (const f of m.p.fields) if (f.lname === lname) out.push(...parseNameAddrList(f.value));
    return out;
  }

  /**
   * nameAddrs' makers, one function per header made once: a closure made per call has no instance
   * alive at a mark-compact, which drops its optimized code, and it was compiled again after each.
   */
  private static readonly nameAddrMakers: Readonly<Record<NameAddrHeader, (m: SipMessage) => NameAddr[]>> = {
    route: (m) => SipMessage.collectNameAddrs(m, 'route'),
    'record-route': (m) => SipMessage.collectNameAddrs(m, 'record-route'),
    contact: (m) => SipMessage.collectNameAddrs(m, 'contact'),
  };

  // ---- edits ------------------------------------------------------------------------------------

  private addEdit(start: number, end: number, text: string): void {
    (this.edits ??= []).push({ start, end, text });
  }

  /** The received header block as latin1 text (start line and headers, up to the body). */
  get headerBlock(): string {
    return this.p.text.slice(0, this.p.bodyStart);
  }

  /** Where the headers start and end in headerBlock (after the start line; before the blank line). */
  get headersSpan(): { start: number; end: number } {
    return { start: this.p.fields[0]?.start ?? this.p.headersEnd, end: this.p.headersEnd };
  }

  /**
   * Replaces [start, end) of the received header block (offsets into headerBlock, inside
   * headersSpan) with text: regex edits such as textops' subst and replace. The caller keeps
   * ranges from overlapping other edits.
   */
  editHeaders(start: number, end: number, text: string): void {
    const span = this.headersSpan;
    if (start < span.start || end > span.end || start > end) throw new Error('editHeaders: range outside the headers');
    this.addEdit(start, end, text);
  }

  /**
   * Replaces [start, end) of the received message with text, offsets as in headerBlock followed by
   * receivedBody (buffer offsets; the start line is not editable here): textops' regex edits that
   * may fall in the body. Body parts of the range become body edits, dropped if setBody is called.
   */
  editRaw(start: number, end: number, text: string): void {
    const p = this.p;
    const first = p.fields[0]?.start ?? p.headersEnd;
    if (start < first || start > end || end > p.bodyEnd) throw new Error('editRaw: range outside the message');
    if (start < p.bodyStart) {
      this.addEdit(start, Math.min(end, p.bodyStart), text);
      if (end > p.bodyStart) this.addBodyEdit(0, end - p.bodyStart, '');
    } else {
      this.addBodyEdit(start - p.bodyStart, end - p.bodyStart, text);
    }
  }

  private addBodyEdit(start: number, end: number, text: string): void {
    (this.bodyEdits ??= []).push({ start, end, text });
    this.bodyEditsCache = null;
  }

  /**
   * A reply's new status code, seen at once by `status` (Kamailio writes it into the buffer), and
   * optionally a new reason phrase (an edit: `reason` keeps the received one, as $rr does).
   */
  setStatus(code: number, reason?: string): void {
    const p = this.p;
    if (p.isRequest) throw new Error('a request has no status');
    if (!Number.isInteger(code) || code < 100 || code > 699) throw new Error(`bad status code ${code}`);
    const codeStart = p.msgStart + p.version.length + 1;
    const lineEnd = p.fields[0]?.start ?? p.headersEnd;
    let reasonEnd = lineEnd;
    while (reasonEnd > codeStart && (p.text.charCodeAt(reasonEnd - 1) === LF || p.text.charCodeAt(reasonEnd - 1) === CR)) reasonEnd--;
    this.newStatus = code;
    const drop = (e: Edit | null): void => {
      if (e && this.edits) this.edits = this.edits.filter((x) => x !== e);
    };
    drop(this.statusEdit);
    this.statusEdit = { start: codeStart, end: codeStart + 3, text: String(code) };
    this.addEdit(this.statusEdit.start, this.statusEdit.end, this.statusEdit.text);
    this.statusEdit = this.edits![this.edits!.length - 1]!;
    if (reason !== undefined) {
      drop(this.reasonEdit);
      const rs = Math.min(codeStart + 4, reasonEnd);
      this.addEdit(rs, reasonEnd, rs === reasonEnd && rs === codeStart + 3 ? ` ${reason}` : reason);
      this.reasonEdit = this.edits![this.edits!.length - 1]!;
    }
  }

  private statusEdit: Edit | null = null;
  private reasonEdit: Edit | null = null;

  appendHeader(text: string): void {
    this.addEdit(this.p.headersEnd, this.p.headersEnd, text);
  }

  insertHeader(text: string): void {
    const first = this.p.fields[0];
    const at = first ? first.start : this.p.headersEnd;
    this.addEdit(at, at, text);
  }

  insertAfter(field: HeaderField, text: string): void {
    this.addEdit(field.end, field.end, text);
  }

  insertBefore(field: HeaderField, text: string): void {
    this.addEdit(field.start, field.start, text);
  }

  removeHeader(field: HeaderField): void {
    this.addEdit(field.start, field.end, '');
  }

  removeHeaders(name: string): number {
    const l = canonicalName(name);
    let n = 0;
    for (const f of this.p.fields) {
      if (f.lname !== l) continue;
      this.removeHeader(f);
      n++;
    }
    return n;
  }

  prependVia(value: string): void {
    const f = this.headerField('via');
    const at = f ? f.start : this.p.fields[0]?.start ?? this.p.headersEnd;
    this.addEdit(at, at, `Via: ${value}\r\n`);
  }

  /**
   * The first Via header, the end offset of its first value and the start of its second value
   * (-1 when the header holds one value). Only the first top-level comma is looked for.
   */
  private topViaSpan(): { f: HeaderField; firstEnd: number; secondStart: number } {
    const f = this.headerField('via');
    if (!f) throw bad('missing Via');
    const t = this.p.text;
    let inQuote = false;
    for (let i = f.valueStart; i < f.valueEnd; i++) {
      const c = t.charCodeAt(i);
      if (inQuote) {
        if (c === 92) i++;
        else if (c === 34) inQuote = false;
      } else if (c === 34) inQuote = true;
      else if (c === 44 /* , */) {
        let e = i;
        while (e > f.valueStart && isWs(t.charCodeAt(e - 1))) e--;
        let n = i + 1;
        while (n < f.valueEnd && isWs(t.charCodeAt(n))) n++;
        return { f, firstEnd: e, secondStart: n };
      }
    }
    let e = f.valueEnd;
    while (e > f.valueStart && isWs(t.charCodeAt(e - 1))) e--;
    return { f, firstEnd: e, secondStart: -1 };
  }

  removeTopVia(): void {
    const { f, secondStart } = this.topViaSpan();
    if (secondStart < 0) this.removeHeader(f);
    else this.addEdit(f.valueStart, secondStart, '');
  }

  replaceTopVia(value: string): void {
    const { f, firstEnd } = this.topViaSpan();
    this.addEdit(f.valueStart, firstEnd, value);
  }

  setBody(body: Buffer | string, contentType?: string): void {
    this.newBody = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
    if (contentType !== undefined) {
      const ct = this.headerField('content-type');
      if (ct) this.removeHeader(ct);
      if (contentType) this.appendHeader(`Content-Type: ${contentType}\r\n`);
    }
  }

  clone(): SipMessage {
    this.assertLive('clone');
    const m = new SipMessage(this.p);
    m.newRuri = this.newRuri;
    m.edits = this.edits ? this.edits.slice() : null;
    m.newBody = this.newBody;
    m.bodyEdits = this.bodyEdits ? this.bodyEdits.slice() : null;
    m.newStatus = this.newStatus;
    m.statusEdit = this.statusEdit;
    m.reasonEdit = this.reasonEdit;
    return m;
  }

  /**
   * The message as it goes out: original bytes with the edits spliced in, Content-Length right.
   * `dest.stream` says whether it goes over a stream (TCP, TLS, WS) or a datagram transport. As
   * Kamailio's adjust_clen: a message without Content-Length gets one only for a stream (UDP
   * relays it as it came, even with its body changed); a Content-Length that is there is made
   * right. Without `dest`, one is always added (a stream-safe default for callers that do not say).
   */
  serialize(dest?: { stream: boolean }): Buffer {
    this.assertLive('serialize');
    const p = this.p;
    const body = this.body;
    const clField = this.headerField('content-length');
    const clRight = clField === undefined ? dest?.stream === false : p.contentLength === body.length && !this.multipleContentLength();
    if (this.newRuri === null && this.edits === null && this.newBody === null && this.bodyEdits === null && clRight) {
      return p.msgStart === 0 && p.bodyEnd === p.buf.length ? p.buf : p.buf.subarray(p.msgStart, p.bodyEnd);
    }
    const edits: Edit[] = this.edits ? this.edits.slice() : [];
    if (this.newRuri !== null) edits.push({ start: p.ruriStart, end: p.ruriEnd, text: this.newRuri });
    if (!clRight) {
      let replaced = false;
      for (const f of p.fields) {
        if (f.lname !== 'content-length') continue;
        edits.push({ start: f.start, end: f.end, text: replaced ? '' : `${f.name}: ${body.length}\r\n` });
        replaced = true;
      }
      if (!replaced) edits.push({ start: p.headersEnd, end: p.headersEnd, text: `Content-Length: ${body.length}\r\n` });
    }
    // Stable sort keeps insertions at one offset in the order they were made.
    sortByStart(edits);
    // The header part as one latin1 string (received ranges sliced from the text, whose offsets
    // are buffer offsets, and the edit texts), written with one call: a write or copy per piece
    // cost more than the bytes they moved.
    const text = p.text;
    let head = '';
    let pos = p.msgStart;
    for (const e of edits) {
      let start = e.start;
      if (start < pos) {
        // Overlaps an earlier edit (e.g. a change inside a removed header): the earlier one wins.
        if (e.end <= pos) {
          if (start === e.end && e.text) head += e.text;
          continue;
        }
        start = pos;
      }
      if (start > pos) head += text.slice(pos, start);
      if (e.text) head += e.text;
      pos = e.end;
    }
    if (p.bodyStart > pos) head += text.slice(pos, p.bodyStart);
    const headLen = head.length;
    const out = Buffer.allocUnsafe(headLen + body.length);
    out.write(head, 0, headLen, 'latin1');
    body.copy(out, headLen);
    return out;
  }

  private multipleContentLength(): boolean {
    let n = 0;
    for (const f of this.p.fields) if (f.lname === 'content-length') n++;
    return n > 1;
  }

  /** The message as text (latin1: bytes map 1:1 to characters). */
  toString(): string {
    return this.serialize().toString('latin1');
  }
}

function parseStartLine(p: Parsed, line: string, start: number, http = false): void {
  if (line.startsWith('SIP/')) {
    // The usual "SIP/2.0 DDD reason" read without regular expressions; anything else (other
    // versions, odd spacing, a CR inside the reason) takes the regular expressions and their errors.
    const code = line.length >= 11 && line.startsWith('SIP/2.0 ') ? digitsValueAt(line, 8, 11, 3) : -1;
    if (code >= 0 && (line.length === 11 || (line.charCodeAt(11) === SP && line.indexOf('\r', 12) < 0))) {
      p.version = 'SIP/2.0';
      p.status = code;
      p.reason = line.length > 12 ? line.slice(12) : '';
    } else {
      const m = /^(SIP\/\d+\.\d+) (\d{3}) (.*)$/.exec(line) ?? /^(SIP\/\d+\.\d+) (\d{3})$/.exec(line);
      if (!m) throw new SipParseError(0, `bad status line '${line.slice(0, 80)}'`);
      p.version = m[1]!;
      p.status = Number(m[2]);
      p.reason = m[3] ?? '';
    }
    if (p.version !== 'SIP/2.0') throw new SipParseError(0, `unsupported version ${p.version}`);
    if (p.status < 100 || p.status > 699) throw new SipParseError(0, `status code out of range ${p.status}`);
    p.isRequest = false;
    return;
  }
  const s1 = line.indexOf(' ');
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  if (s1 <= 0 || s2 < 0) throw new SipParseError(0, `bad request line '${line.slice(0, 80)}'`);
  const known = knownMethodAt(line, 0, s1);
  const method = known ?? line.slice(0, s1);
  const ruri = line.slice(s1 + 1, s2);
  const version = line.length - s2 === 8 && line.endsWith('SIP/2.0') ? 'SIP/2.0' : line.slice(s2 + 1);
  if (known === undefined && !isToken(method)) throw new SipParseError(0, `bad method in '${line.slice(0, 80)}'`);
  p.isRequest = true;
  p.method = method;
  p.ruriStart = start + s1 + 1;
  p.ruriEnd = start + s2;
  // A copy, not a slice of the header text: a branch keeps its URI for the transaction's life, and
  // a slice would keep the whole header text with it.
  p.ruri = ruri.length < 13 ? ruri : p.buf.toString('latin1', p.ruriStart, p.ruriEnd);
  p.version = version;
  // From here on the request is identified well enough to be answered.
  if (!ruri || hasSpaceOr(ruri, SPACE_OR_BRACKET, 60 /* < */, 62 /* > */) || version.includes(' ')) throw bad('bad Request-Line (extra whitespace or brackets)');
  if (version === 'SIP/2.0') return;
  if (http && /^HTTP\/1\.[01]$/.test(version)) return;
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw bad(`bad SIP version '${version}'`);
  if (version.toUpperCase() !== 'SIP/2.0') throw new SipParseError(505, 'Version Not Supported');
}

const SPACE_OR_BRACKET = /[\s<>]/;

/** The method's one string when s[start, end) is a known method (case-sensitive), found without slicing. */
function knownMethodAt(s: string, start: number, end: number): string | undefined {
  const cands = METHODS_BY_LENGTH[end - start];
  if (!cands) return undefined;
  for (const m of cands) if (sameAt(s, start, m)) return m;
  return undefined;
}

/** Canonical names of the common headers, looked up without building a string for the name. */
const COMMON = ['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'route', 'record-route', 'content-length',
  'content-type', 'user-agent', 'allow', 'supported', 'expires', 'subject', 'server', 'authorization', 'proxy-authorization',
  'www-authenticate', 'proxy-authenticate', 'require', 'proxy-require', 'accept', 'session-expires', 'min-se', 'reason', 'date',
  'organization', 'p-asserted-identity', 'privacy', 'event', 'path'];
/**
 * The usual spelling on the wire of each common header, by its index in COMMON: a name received
 * exactly so is this string, not a new copy for every header of every message.
 */
const WIRE_NAME: string[] = COMMON.map((c) => c === 'call-id' ? 'Call-ID' : c === 'cseq' ? 'CSeq' : c === 'www-authenticate' ? 'WWW-Authenticate'
  : c === 'min-se' ? 'Min-SE' : c === 'p-asserted-identity' ? 'P-Asserted-Identity' : c.replace(/(^|-)([a-z])/g, (_m, d: string, l: string) => d + l.toUpperCase()));
const BY_LENGTH: number[][] = [];
COMMON.forEach((c, i) => (BY_LENGTH[c.length] ??= []).push(i));

/** The index in COMMON when text[start, end) is a common header name (any case), found without allocating; else -1. */
function commonIndex(text: string, start: number, end: number): number {
  const cands = BY_LENGTH[end - start];
  if (cands) for (const k of cands) if (sameIgnoringCaseAt(text, start, COMMON[k]!)) return k;
  return -1;
}

function parseBuffer(buf: Buffer, datagram: boolean, lenient = false, http = false): Parsed {
  let pos = 0;
  const n = buf.length;
  while (pos < n && (buf[pos] === CR || buf[pos] === LF)) pos++;
  if (pos >= n) throw new SipParseError(0, 'empty message');
  // The message as one latin1 string: characters are bytes, so string indices are offsets. The
  // whole of it, body included: the header block's end is the first empty line the loop below
  // meets, and searching for it first (in the string or the Buffer) would read the headers twice.
  const text = buf.toString('latin1', 0, n);
  const p: Parsed = {
    buf, text, msgStart: pos, isRequest: false, method: '', version: '', status: 0, reason: '', ruri: '', ruriStart: 0, ruriEnd: 0,
    fields: [], headersEnd: n, bodyStart: n, bodyEnd: n, contentLength: -1, cache: new Array<unknown>(SLOT_KEYS.size), datagram, reparsable: !lenient && !http,
  };
  let le = text.indexOf('\n', pos);
  if (le < 0) le = n;
  const slEnd = le > pos && text.charCodeAt(le - 1) === CR ? le - 1 : le;
  // A request's start line errors are deferred until the headers are indexed, so the request can
  // still be answered (a reply needs its Via, From, To, Call-ID and CSeq).
  let startError: SipParseError | null = null;
  try {
    parseStartLine(p, text.slice(pos, slEnd), pos, http);
  } catch (e) {
    if (!(e instanceof SipParseError) || e.status === 0 || !p.isRequest) throw e;
    startError = e;
  }
  pos = le + 1;
  let headerError: SipParseError | null = null;
  let terminated = false;
  while (pos < n) {
    const c0 = text.charCodeAt(pos);
    // Empty line: end of headers.
    if (c0 === LF || (c0 === CR && text.charCodeAt(pos + 1) === LF)) {
      p.headersEnd = pos;
      p.bodyStart = c0 === LF ? pos + 1 : pos + 2;
      terminated = true;
      break;
    }
    const start = pos;
    le = text.indexOf('\n', pos);
    if (le < 0) le = n;
    // Folded continuation lines (RFC 3261 7.3.1) belong to this header.
    let folded = false;
    while (le + 1 < n) {
      const nc = text.charCodeAt(le + 1);
      if (nc !== SP && nc !== HT) break;
      folded = true;
      const nx = text.indexOf('\n', le + 1);
      le = nx < 0 ? n : nx;
    }
    const end = le < n ? le + 1 : n;
    const contentEnd = le < n && le > start && text.charCodeAt(le - 1) === CR ? le - 1 : le;
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= contentEnd) {
      headerError ??= bad(`header line without colon: '${text.slice(start, Math.min(contentEnd, start + 60))}'`);
      pos = end;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > start && (text.charCodeAt(nameEnd - 1) === SP || text.charCodeAt(nameEnd - 1) === HT)) nameEnd--;
    const k = commonIndex(text, start, nameEnd);
    let ln: string;
    let name: string;
    if (k >= 0) {
      ln = COMMON[k]!;
      const wire = WIRE_NAME[k]!;
      name = sameAt(text, start, wire) ? wire : text.slice(start, nameEnd);
    } else {
      name = text.slice(start, nameEnd);
      if (!isToken(name)) headerError ??= bad(`bad header name '${name.slice(0, 40)}'`);
      ln = canonicalName(name);
    }
    let vs = colon + 1;
    for (;;) {
      const c = text.charCodeAt(vs);
      if (vs >= contentEnd || (c !== SP && c !== HT && c !== CR && c !== LF)) break;
      vs++;
    }
    let ve = contentEnd;
    while (ve > vs && (text.charCodeAt(ve - 1) === SP || text.charCodeAt(ve - 1) === HT)) ve--;
    let value = text.slice(vs, ve);
    if (folded) value = value.replace(/\r?\n[ \t]+/g, ' ').trim();
    p.fields.push({ name, lname: ln, value, start, end, valueStart: vs, valueEnd: contentEnd });
    pos = end;
  }
  if (!terminated) {
    // No empty line: the headers run to the end of the datagram and there is no body.
    p.headersEnd = n;
    p.bodyStart = n;
    if (!datagram) throw bad('headers not terminated');
  }
  if (lenient) {
    p.contentLength = -1;
    p.bodyEnd = p.bodyStart = Math.min(p.bodyStart, n);
    return p;
  }
  if (startError) throw startError;
  if (headerError) throw headerError;
  // Body: bounded by Content-Length; a datagram's end bounds it too (RFC 3261 18.3).
  let cl = -1;
  for (const f of p.fields) {
    if (f.lname !== 'content-length') continue;
    const v = parseDigits(f.value);
    if (v < 0) throw bad(`bad Content-Length '${f.value.slice(0, 20)}'`);
    if (cl >= 0 && v !== cl) throw bad('conflicting Content-Length headers');
    cl = v;
  }
  p.contentLength = cl;
  const available = n - p.bodyStart;
  if (cl < 0) {
    if (!datagram) throw bad('missing Content-Length on a stream transport');
    p.bodyEnd = n;
  } else if (cl > available) {
    throw bad(`Content-Length ${cl} larger than the ${available} bytes of body`, 400, 'Content-Length mis-match');
  } else {
    p.bodyEnd = p.bodyStart + cl;
  }
  return p;
}

/**
 * Sorts edits by start offset, keeping the order of equal starts (as a stable Array.sort does),
 * in place: an insertion sort for the few edits a message usually has, without the temporary
 * array Array.prototype.sort allocates.
 */
function sortByStart(edits: Edit[]): void {
  if (edits.length > 32) {
    edits.sort((a, b) => a.start - b.start);
    return;
  }
  for (let i = 1; i < edits.length; i++) {
    const e = edits[i]!;
    let j = i - 1;
    while (j >= 0 && edits[j]!.start > e.start) {
      edits[j + 1] = edits[j]!;
      j--;
    }
    edits[j + 1] = e;
  }
}

/** 1 to 9 decimal digits as a number, else -1. */
function parseDigits(s: string): number {
  const len = s.length;
  if (len === 0 || len > 9) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export { isListHeader };
