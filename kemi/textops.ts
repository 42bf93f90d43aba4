/**
 * KSR.textops (Kamailio 5.6 src/modules/textops/textops.c).
 *
 * Regexes are POSIX extended (glibc regcomp) and are translated to JavaScript: `.`, `^`, `$` and
 * `[^...]` follow REG_NEWLINE (only "\n" ends a line, so "\r" is an ordinary character), bracket
 * expressions take POSIX classes and a literal backslash, stacked quantifiers are grouped. One
 * difference remains: alternation is leftmost-first (JavaScript), not POSIX leftmost-longest.
 *
 * As in Kamailio, every match runs against the message as received (edits are lumps, seen only
 * after textopsx.msg_apply_changes), and edits keep every other byte: they go through
 * SipMessage.editRaw (header or body ranges). Return codes are Kamailio's, oddities included
 * (remove_hf is 1 even when nothing was removed; remove_hf_idx is 2 when the index is absent).
 *
 * Not provided (fail naming themselves): set_body_multipart, set_body_multipart_mode,
 * set_body_multipart_boundary, set_body_multipart_content (their lump interplay with the body
 * is not reproduced).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { canonicalName, type HeaderField } from '../src/sip/index.js';
import { getPv, PVS, setPv, type PvRegistry } from '../src/pv/registry.js';
import { defineModule, type KemiArg } from './types.js';
import { str, int } from './args.js';
import { PosixRegex, type PosixFlags, type PosixMatch } from '../src/lib/posix-regex.js';

/** regcomp as textops calls it: REG_EXTENDED|REG_ICASE|REG_NEWLINE; null when it does not compile. */
function compile(re: string, flags: PosixFlags = { icase: true, newline: true }): PosixRegex | null {
  try {
    return new PosixRegex(re, flags);
  } catch {
    return null;
  }
}

/** Every match as Kamailio's loops find them: after a match REG_NOTBOL unless it ended a line. */
function* matches(re: PosixRegex, text: string, all: boolean): Generator<PosixMatch, number> {
  let p = 0;
  let notbol = false;
  let n = 0;
  while (p < text.length || (p === 0 && n === 0)) {
    const m = re.exec(text, p, notbol);
    if (!m) break;
    if (m.start === m.end) return -1; // "matched string is empty... invalid regexp?"
    yield m;
    n++;
    if (!all) break;
    p = m.end;
    const prev = text[p - 1];
    notbol = !(prev === '\n' || prev === '\r');
  }
  return n;
}

// ---- sed-like substitution expressions (src/core/re.c) ----------------------------------------

type ReplPart = { t: 'text'; s: string } | { t: 'group'; n: number } | { t: 'uri' } | { t: 'pv'; spec: string };

export interface SubstExpr {
  re: PosixRegex;
  repl: ReplPart[];
  global: boolean;
}

/** The length of the pseudo-variable spec starting at s[i] ('$'), as pv_parse_spec reads it. */
function pvSpecEnd(s: string, i: number): number {
  let j = i + 1;
  const paren = (k: number): number => {
    let depth = 0;
    for (; k < s.length; k++) {
      if (s[k] === '(') depth++;
      else if (s[k] === ')' && --depth === 0) return k + 1;
    }
    return -1;
  };
  if (s[j] === '(') return paren(j);
  while (j < s.length && /[A-Za-z0-9_]/.test(s[j]!)) j++;
  if (s[j] === '(') return paren(j);
  return j;
}

/** subst_parser: `<d>re<d>replacement<d>flags` with flags i, g, s; throws on a bad expression. */
export function parseSubst(expr: string, pvs?: PvRegistry): SubstExpr {
  if (expr.length < 3) throw new Error('subst: expression is too short');
  const d = expr[0]!;
  if (d === '\\') throw new Error('subst: invalid separator');
  let p = 1;
  for (; p < expr.length; p++) if (expr[p] === d && expr[p - 1] !== '\\') break;
  if (p >= expr.length) throw new Error('subst: no separator found');
  const reSrc = expr.slice(1, p);
  if (expr.length < p + 2) throw new Error('subst: string too short');
  const repl: ReplPart[] = [];
  let text = '';
  const flush = (): void => {
    if (text) repl.push({ t: 'text', s: text });
    text = '';
  };
  let q = p + 1;
  let found = false;
  for (; q < expr.length; q++) {
    const c = expr[q]!;
    if (c === '\\') {
      const n = expr[++q];
      if (n === undefined) break;
      if (n >= '0' && n <= '9') {
        flush();
        repl.push({ t: 'group', n: Number(n) });
      } else if (n === 'u') {
        flush();
        repl.push({ t: 'uri' });
      } else text += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n;
    } else if (c === '$') {
      const e = pvSpecEnd(expr, q);
      const spec = e < 0 ? '' : expr.slice(q, e);
      pvs?.parse(spec); // throws on a bad specifier
      flush();
      repl.push({ t: 'pv', spec });
      q = e - 1;
    } else if (c === d) {
      found = true;
      break;
    } else text += c;
  }
  if (!found) throw new Error('subst: missing separator');
  flush();
  let icase = false;
  let newline = true;
  let global = false;
  for (const f of expr.slice(q + 1)) {
    if (f === 'i') icase = true;
    else if (f === 's') newline = false;
    else if (f === 'g') global = true;
    else throw new Error(`subst: unknown flag ${f}`);
  }
  return { re: new PosixRegex(reSrc, { icase, newline }), repl, global };
}

function buildRepl(ctx: MsgContext, se: SubstExpr, m: PosixMatch): string {
  let out = '';
  for (const r of se.repl) {
    if (r.t === 'text') out += r.s;
    else if (r.t === 'group') out += m.groups[r.n] ?? '';
    else if (r.t === 'uri') out += ctx.msg.isRequest ? ctx.msg.ruri : '';
    else {
      const v = getPv(ctx, r.spec);
      out += v === null ? '<null>' : String(v);
    }
  }
  return out;
}

/** subst_run over a text: the replacements, or null when nothing matched (or an empty match). */
function substRun(ctx: MsgContext, se: SubstExpr, text: string): { start: number; end: number; text: string }[] | null {
  const out: { start: number; end: number; text: string }[] = [];
  const it = matches(se.re, text, se.global);
  for (;;) {
    const r = it.next();
    if (r.done) {
      if (r.value < 0) return null;
      break;
    }
    out.push({ start: r.value.start, end: r.value.end, text: buildRepl(ctx, se, r.value) });
  }
  return out.length ? out : null;
}

function substStr(ctx: MsgContext, se: SubstExpr, text: string): string | null {
  const rs = substRun(ctx, se, text);
  if (!rs) return null;
  let out = '';
  let pos = 0;
  for (const r of rs) {
    out += text.slice(pos, r.start) + r.text;
    pos = r.end;
  }
  return out + text.slice(pos);
}

// ---- the received message as text ---------------------------------------------------------------

/** Kamailio's msg->buf from the first header on (get_header): offsets are buffer offsets. */
function fromHeaders(ctx: MsgContext): { text: string; base: number } {
  const msg = ctx.msg;
  const base = msg.headersSpan.start;
  return { text: msg.headerBlock.slice(base) + msg.receivedBody.toString('latin1'), base };
}

function bodyText(ctx: MsgContext): { text: string; base: number } {
  return { text: ctx.msg.receivedBody.toString('latin1'), base: ctx.msg.headerBlock.length };
}

/** Where hf->body ends: the value without trailing whitespace. */
function bodyEnd(ctx: MsgContext, f: HeaderField): number {
  const t = ctx.msg.headerBlock;
  let e = f.valueEnd;
  while (e > f.valueStart && /[ \t\r\n]/.test(t[e - 1]!)) e--;
  return e;
}

function rawBody(ctx: MsgContext, f: HeaderField): string {
  return ctx.msg.headerBlock.slice(f.valueStart, bodyEnd(ctx, f));
}

/** Header fields named like `name` (known names by type, compact forms included; others by name). */
export function namedFields(ctx: MsgContext, name: string): HeaderField[] {
  const l = canonicalName(name);
  return ctx.msg.headerFields.filter((f) => f.lname === l);
}

/** One match replaced by text; the regex applies from the first header to the end of the body. */
function replaceFirst(ctx: MsgContext, src: { text: string; base: number }, re: PosixRegex | null, val: (m: PosixMatch) => string, insertOnly = false): number {
  if (!re) return -1;
  const m = re.exec(src.text);
  if (!m) return -1;
  const s = src.base + m.start;
  const e = src.base + m.end;
  if (insertOnly) ctx.msg.editRaw(e, e, val(m));
  else ctx.msg.editRaw(s, e, val(m));
  return 1;
}

function replaceAll(ctx: MsgContext, src: { text: string; base: number }, re: PosixRegex | null, val: string, lineBol = true): number {
  if (!re) return -1;
  let p = 0;
  let notbol = false;
  let ret = -1;
  while (p < src.text.length) {
    const m = re.exec(src.text, p, notbol);
    if (!m) break;
    if (m.start === m.end) return -1;
    ctx.msg.editRaw(src.base + m.start, src.base + m.end, val);
    p = m.end;
    const prev = src.text[p - 1];
    notbol = !(lineBol && (prev === '\n' || prev === '\r'));
    ret = 1;
  }
  return ret;
}

function applySubst(ctx: MsgContext, src: { text: string; base: number }, se: SubstExpr): number {
  const rs = substRun(ctx, se, src.text);
  if (!rs) return -1;
  for (const r of rs) ctx.msg.editRaw(src.base + r.start, src.base + r.end, r.text);
  return 1;
}

function subst(ctx: MsgContext, expr: KemiArg): SubstExpr | null {
  const s = str(expr);
  if (!s) return null;
  try {
    return parseSubst(s, PVS.of(ctx));
  } catch {
    return null;
  }
}

/** Plain-string replace (replace_str family): first occurrence or all ('a'). */
function replaceStr(ctx: MsgContext, src: { text: string; base: number }, key: string, val: string, mode: string): number {
  if (!src.text || !key) return 1;
  const all = !(mode === '' || mode[0] === 'f' || mode[0] === 'F');
  let from = 0;
  for (;;) {
    const i = src.text.indexOf(key, from);
    if (i < 0) return 1;
    ctx.msg.editRaw(src.base + i, src.base + i + key.length, val);
    if (!all) return 1;
    from = i + key.length;
  }
}

// ---- body helpers -------------------------------------------------------------------------------

const MIME_TYPES = ['text', 'message', 'application', 'multipart', '*'];
const MIME_SUBTYPES = ['plain', 'cpim', 'sdp', 'cpl+xml', 'pidf+xml', 'rlmi+xml', 'related', 'lpidf+xml', 'xpidf+xml',
  'watcherinfo+xml', 'external-body', 'xml+msrtc.pidf', 'cpim-pidf+xml', 'mixed', 'isup', '*'];

/** decode_mime_type: type/subtype as Kamailio's numeric pair (unknown names share one value). */
function mimeCode(t: string): string | null {
  const m = /^\s*([^/\s;]+)\s*\/\s*([^\s;,]+)\s*(;.*)?$/.exec(t);
  if (!m) return null;
  const ty = m[1]!.toLowerCase();
  const st = m[2]!.toLowerCase();
  return `${MIME_TYPES.includes(ty) ? ty : '?'}/${MIME_SUBTYPES.includes(st) ? st : '?'}`;
}

/** get_boundary: "--" + the boundary parameter of Content-Type; null without one. */
function boundary(ctx: MsgContext): string | null {
  const ct = ctx.msg.contentType;
  if (!ct || !ct.includes(';')) return null;
  for (const p of ct.slice(ct.indexOf(';') + 1).split(';')) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    return `--${p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')}`;
  }
  return null;
}

/** get_mixed_part_delimiter: the boundary value (no leading --), for multipart/* content types. */
function mixedDelimiter(ctx: MsgContext): string | null {
  const ct = ctx.msg.contentType ?? '';
  const m = /;\s*boundary\s*=\s*(.*)$/i.exec(ct);
  if (!m) return null;
  let v = m[1]!;
  if (v[0] === '"' || v[0] === "'") {
    if (v.length < 3 || v[v.length - 1] !== v[0]) return null;
    v = v.slice(1, -1);
  }
  return v;
}

/** generate_boundary (initial = 0): one more part for a multipart body. */
function bodyPart(txt: string, ct: string, cd: string, delimiter: string): string {
  let s = `Content-Type: ${ct}\r\n`;
  if (cd) s += `Content-Disposition: ${cd}\r\n`;
  s += `\r\n${txt}`;
  if (!txt.endsWith('\r\n\r\n')) s += '\r\n';
  return `${s}--${delimiter}\r\n`;
}

function appendBodyPart(ctx: MsgContext, txt: string, ct: string, cd: string): number {
  if (!txt || !ct) return -1;
  const body = ctx.msg.receivedBody;
  if (body.length === 0) return -1;
  const d = mixedDelimiter(ctx);
  if (!d) return -1;
  const end = ctx.msg.headerBlock.length + body.length;
  ctx.msg.editRaw(end, end, bodyPart(txt, ct, cd, d));
  return 1;
}

function unhex(h: string): string | null {
  let out = '';
  for (let i = 0; i < h.length; i++) {
    if (h[i] === ' ' || h[i] === '\t') continue;
    if (i + 1 === h.length) return null;
    const pair = h.slice(i, i + 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(pair)) return null;
    out += String.fromCharCode(Number.parseInt(pair, 16));
    i++;
  }
  return out || null;
}

/**
 * The part of a multipart body whose "Content-Type: <ct>" line matches, found as textops does:
 * header lines of the parts are scanned for "Content-Type: " (exactly one space), then the next
 * line starting with the boundary. Offsets are into the received body.
 */
function findPart(ctx: MsgContext, ct: string): { start: number; headersEnd: number; bstart: number; end: number } | null {
  const b = boundary(ctx);
  if (!b) return null;
  const body = ctx.msg.receivedBody.toString('latin1');
  const want = ct.toLowerCase();
  let lineStart = 0;
  while (lineStart < body.length) {
    let le = body.indexOf('\r\n', lineStart);
    if (le < 0) le = body.length;
    const line = body.slice(lineStart, le);
    const m = /^Content-Type:[ \t]*/i.exec(line);
    if (m && line.slice(m[0].length).toLowerCase() === want) {
      const afterCt = le + 2;
      let p = afterCt;
      while (p < body.length) {
        let e = body.indexOf('\r\n', p);
        if (e < 0) return null;
        if (body.startsWith(b, p)) {
          e = body.indexOf('\r\n', p + b.length);
          const end = e < 0 ? body.length : e + 2;
          return { start: lineStart, headersEnd: afterCt, bstart: p, end };
        }
        p = e + 2;
      }
      return null;
    }
    lineStart = le + 2;
  }
  return null;
}

// ---- SDP hold (parse_sdp, is_on_hold) -----------------------------------------------------------

function isAudioOnHold(ctx: MsgContext): number {
  const ct = ctx.msg.contentType;
  if (ct !== undefined && mimeCode(ct) !== 'application/sdp') return -1;
  const sdp = ctx.msg.receivedBody.toString('latin1');
  if (!sdp) return -1;
  const lines = sdp.split(/\r?\n/);
  const mIdx = lines.findIndex((l) => l.startsWith('m='));
  if (mIdx < 0) return -1;
  const mode = (ls: string[]): number => {
    for (const l of ls) {
      const a = l.slice(0, 10).toLowerCase();
      if (a === 'a=sendrecv' || a === 'a=recvonly') return 0;
      if (a === 'a=inactive' || a === 'a=sendonly') return 2;
    }
    return 0;
  };
  const conn = (ls: string[]): string | null => {
    const c = ls.find((l) => l.startsWith('c='));
    return c ? c.slice(2).trim() : null;
  };
  const session = lines.slice(0, mIdx);
  const sessionHold = mode(session);
  const sessionConn = conn(session);
  let i = mIdx;
  while (i < lines.length) {
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('m=')) j++;
    const media = lines.slice(i, j);
    const mline = media[0]!.slice(2).split(/\s+/);
    const isAudio = mline[0] === 'audio';
    let hold = mode(media.slice(1));
    if (!hold) {
      const trickle = media.some((l) => /^a=ice-options:.*\btrickle\b/.test(l)) && mline[1] === '9';
      const c = conn(media.slice(1)) ?? sessionConn;
      if (c && /^IN\s+IP4\s+0\.0\.0\.0(\/|\s|$)/.test(c) && !trickle) hold = 1;
    }
    if (isAudio && hold) return hold;
    if (isAudio && sessionHold) return sessionHold;
    i = j;
  }
  return -1;
}

// ---- privacy -------------------------------------------------------------------------------------

const PRIVACY = ['critical', 'header', 'history', 'id', 'none', 'session', 'user'];

/** parse_priv_value: the value's bit, or 0. */
function privValue(s: string): number {
  const i = PRIVACY.indexOf(s.toLowerCase());
  return i < 0 ? 0 : 1 << i;
}

function privacyValues(ctx: MsgContext): number | null {
  const v = ctx.msg.header('privacy');
  if (v === undefined || !v.trim()) return null;
  let bits = 0;
  for (const part of v.split(';')) {
    const b = privValue(part.trim());
    if (!b) return null;
    bits |= b;
  }
  const none = privValue('none');
  if (bits & none && bits !== none) return null;
  return bits;
}

// ---- lists and strings --------------------------------------------------------------------------

const WS = /^[ \t\r\n]+|[ \t\r\n]+$/g;

function inList(subject: string, list: string, sep: string, prefix: boolean): number {
  if (!subject || !list || !sep) return -1;
  const items = list.split(sep[0]!);
  for (let k = 0; k < items.length; k++) {
    const v = items[k]!.replace(WS, '');
    const last = k === items.length - 1;
    if (prefix) {
      const ok = v.length > 0 && v.length <= subject.length && subject.startsWith(v);
      if (ok) return 1;
      if (last) return -1;
    } else if (v === subject) return 1;
  }
  return -1;
}

/** cmp_str / cmpi_str result mapped as textops does: 1 equal, -1 greater, -2 less. */
function cmp(a: string, b: string): number {
  let r: number;
  if (!a && !b) r = 0;
  else if (!a) r = -1;
  else if (!b) r = 1;
  else {
    const n = Math.min(a.length, b.length);
    const x = a.slice(0, n);
    const y = b.slice(0, n);
    r = x === y ? a.length - b.length : x < y ? -1 : 1;
  }
  return r === 0 ? 1 : r > 0 ? -1 : -2;
}

function strncmpRc(a: string, b: string): number {
  return a === b ? 1 : a > b ? -1 : -2;
}

// ---- header removal -------------------------------------------------------------------------------

function removeHfIdx(ctx: MsgContext, name: string, idx: number): number {
  if (!name) return -1;
  const fs = namedFields(ctx, name);
  const pos = idx >= 0 ? idx : fs.length + idx;
  if (idx >= 0 && pos >= fs.length) return 2;
  if (pos < 0) return 1;
  ctx.msg.removeHeader(fs[pos]!);
  return 1;
}

function removeHfMatch(ctx: MsgContext, name: string, op: string, expr: string): number {
  let test: (v: string) => boolean;
  switch (op.toLowerCase()) {
    case 'eq': test = (v) => v === expr; break;
    case 'ne': test = (v) => v !== expr; break;
    case 'in': test = (v) => v.includes(expr); break;
    case 're': {
      const re = compile(expr);
      if (!re) return -1;
      test = (v) => re.test(v);
      break;
    }
    default: return -1;
  }
  let ret = -2;
  for (const f of namedFields(ctx, name)) {
    if (!test(rawBody(ctx, f))) continue;
    ctx.msg.removeHeader(f);
    ret = 1;
  }
  return ret;
}

function removeByName(ctx: MsgContext, re: PosixRegex | null, skip: PosixRegex | null): number {
  if (!re) return -1;
  let n = 0;
  for (const f of ctx.msg.headerFields) {
    if (skip && skip.test(f.name)) continue;
    if (!re.test(f.name)) continue;
    ctx.msg.removeHeader(f);
    n++;
  }
  return n > 0 ? 1 : -1;
}

// ---- search_hf / subst_hf -------------------------------------------------------------------------

function searchHf(ctx: MsgContext, name: string, reSrc: string, flags: string): number {
  if (!name || !reSrc) return -1;
  const re = compile(reSrc);
  if (!re) return -1;
  const fs = namedFields(ctx, name);
  if (flags[0] === 'l') {
    const f = fs[fs.length - 1];
    return f && re.test(rawBody(ctx, f)) ? 1 : -1;
  }
  for (const f of fs) {
    if (re.test(rawBody(ctx, f))) return 1;
    if (flags[0] === 'f') return -1;
  }
  return -1;
}

function substHf(ctx: MsgContext, name: string, expr: KemiArg, flags: string): number {
  if (!name) return -1;
  const se = subst(ctx, expr);
  if (!se) return -1;
  const fs = namedFields(ctx, name);
  const picked = flags[0] === 'l' ? fs.slice(-1) : flags[0] === 'f' ? fs.slice(0, 1) : fs;
  let ret = -1;
  for (const f of picked) {
    const r = applySubst(ctx, { text: rawBody(ctx, f), base: f.valueStart }, se);
    if (r > 0) ret = 1;
    else if (flags[0] === 'f' || flags[0] === 'l') return -1;
  }
  return ret;
}

// ---- R-URI -------------------------------------------------------------------------------------

function substUser(ctx: MsgContext, expr: KemiArg): number {
  const se = subst(ctx, expr);
  if (!se || !ctx.msg.isRequest) return -1;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)(?:([^@]*)@)?(.*)$/.exec(ctx.msg.ruri);
  if (!m) return -1;
  const userinfo = m[2] ?? '';
  const colon = m[1]!.toLowerCase() === 'tel:' ? -1 : userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const pass = colon < 0 ? '' : userinfo.slice(colon);
  const out = substStr(ctx, se, user);
  if (out === null) return -1;
  ctx.msg.ruri = `${m[1]}${out || pass ? `${out}${pass}@` : ''}${m[3]}`;
  ctx.markRuriNew();
  return 1;
}

function regexSubstring(ctx: MsgContext, input: string, reSrc: string, mindex: number, nmatch: number, dst: string): number {
  if (!dst) return -1;
  if (mindex > nmatch - 1) return -1;
  let re: PosixRegex;
  try {
    re = new PosixRegex(reSrc, { newline: false });
  } catch {
    return -1;
  }
  const m = re.exec(input);
  if (!m) return -2;
  const g = m.groups[mindex];
  if (g === undefined || g === '') return -1;
  try {
    setPv(ctx, dst, g);
  } catch {
    return -1;
  }
  return 1;
}

function getBodyPart(ctx: MsgContext, ct: string, dst: string, raw: boolean): number {
  const body = ctx.msg.receivedBody;
  if (body.length === 0) return -1;
  if (!boundary(ctx)) {
    try {
      setPv(ctx, dst, body.toString('latin1'));
    } catch {
      return -1;
    }
    return 1;
  }
  const part = findPart(ctx, ct);
  if (!part) return -1;
  const text = body.toString('latin1');
  try {
    setPv(ctx, dst, raw ? text.slice(part.start, part.end) : text.slice(part.headersEnd, part.bstart));
  } catch {
    return -1;
  }
  return 1;
}

function filterBody(ctx: MsgContext, ct: string): number {
  const body = ctx.msg.receivedBody;
  if (body.length === 0) return -1;
  if (mimeCode(ctx.msg.contentType ?? '') !== 'multipart/mixed') return -1;
  const b = boundary(ctx);
  if (!b) return -1;
  const text = body.toString('latin1');
  const want = ct.toLowerCase();
  const base = ctx.msg.headerBlock.length;
  let lineStart = 0;
  while (lineStart < text.length) {
    let le = text.indexOf('\r\n', lineStart);
    if (le < 0) le = text.length;
    const line = text.slice(lineStart, le);
    const m = /^Content-Type:[ \t]*/i.exec(line);
    if (m) {
      if (line.slice(m[0].length).toLowerCase() === want) {
        let start = le + 2;
        while (start < text.length && (text[start] === '\r' || text[start] === '\n')) start++;
        // The end: the next line that starts with the boundary; it and everything after go.
        let p = start;
        for (;;) {
          if (text.startsWith(b, p)) break;
          const e = text.indexOf('\r\n', p);
          if (e < 0) return -1;
          p = e + 2;
        }
        ctx.msg.editRaw(base, base + start, '');
        ctx.msg.editRaw(base + p - 2, base + text.length, '');
        return 1;
      }
    }
    lineStart = le + 2;
  }
  return -1;
}

function removeBodyPart(ctx: MsgContext, ct: string): number {
  if (ctx.msg.receivedBody.length === 0) return -1;
  const part = findPart(ctx, ct);
  if (!part) return -1;
  const base = ctx.msg.headerBlock.length;
  ctx.msg.editRaw(base + part.start, base + part.end, '');
  return 1;
}

/** has_body_helper: a Content-Length header with a non-zero value. */
function hasBody(ctx: MsgContext): boolean {
  return ctx.msg.hasHeader('content-length') && ctx.msg.receivedBody.length > 0;
}

// ---- set_body -------------------------------------------------------------------------------------

function setBody(ctx: MsgContext, body: string, ct: string): number {
  if (!body || !ct) return -1;
  const cur = ctx.msg.header('content-type');
  ctx.msg.setBody(body, cur === ct ? undefined : ct);
  return 1;
}

export default defineModule('textops', [
  { name: 'search', params: ['str'], ret: 'int', fn: (ctx, re) => {
    if (!str(re)) return 1;
    const r = compile(str(re));
    if (!r) return -1;
    const t = ctx.msg.headerBlock + ctx.msg.receivedBody.toString('latin1');
    return r.test(t) ? 1 : -1;
  } },
  { name: 'search_body', params: ['str'], ret: 'int', fn: (ctx, re) => {
    if (!str(re)) return 1;
    const r = compile(str(re));
    if (!r) return -1;
    const b = ctx.msg.receivedBody;
    return b.length > 0 && r.test(b.toString('latin1')) ? 1 : -1;
  } },
  { name: 'search_hf', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, hf, re, fl) => searchHf(ctx, str(hf), str(re), str(fl)) },
  { name: 'search_append', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => replaceFirst(ctx, fromHeaders(ctx), compile(str(re)), () => str(txt), true) },
  { name: 'search_append_body', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => {
    if (ctx.msg.receivedBody.length === 0) return -1;
    return replaceFirst(ctx, bodyText(ctx), compile(str(re)), () => str(txt), true);
  } },
  { name: 'is_present_hf', params: ['str'], ret: 'int', fn: (ctx, hf) => (str(hf) && namedFields(ctx, str(hf)).length > 0 ? 1 : -1) },
  { name: 'is_present_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const r = compile(str(re));
    if (!r) return -1;
    return ctx.msg.headerFields.some((f) => r.test(f.name)) ? 1 : -1;
  } },
  { name: 'subst', params: ['str'], ret: 'int', fn: (ctx, e) => {
    const se = subst(ctx, e);
    return se ? applySubst(ctx, fromHeaders(ctx), se) : -1;
  } },
  { name: 'subst_uri', params: ['str'], ret: 'int', fn: (ctx, e) => {
    const se = subst(ctx, e);
    if (!se || !ctx.msg.isRequest) return -1;
    const out = substStr(ctx, se, ctx.msg.ruri);
    if (out === null) return -1;
    ctx.msg.ruri = out;
    ctx.markRuriNew();
    return 1;
  } },
  { name: 'subst_user', params: ['str'], ret: 'int', fn: substUser },
  { name: 'subst_body', params: ['str'], ret: 'int', fn: (ctx, e) => {
    const se = subst(ctx, e);
    if (!se || ctx.msg.receivedBody.length === 0) return -1;
    return applySubst(ctx, bodyText(ctx), se);
  } },
  { name: 'subst_hf', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, hf, e, fl) => substHf(ctx, str(hf), e, str(fl)) },
  { name: 'remove_hf', params: ['str'], ret: 'int', fn: (ctx, hf) => {
    if (!str(hf)) return -1;
    ctx.msg.removeHeaders(str(hf));
    return 1;
  } },
  { name: 'remove_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => removeByName(ctx, compile(str(re)), null) },
  { name: 'remove_hf_idx', params: ['str', 'int'], ret: 'int', fn: (ctx, hf, idx) => removeHfIdx(ctx, str(hf), int(idx)) },
  { name: 'remove_hf_exp', params: ['str', 'str'], ret: 'int', fn: (ctx, re, skip) => {
    const s = compile(str(skip));
    return s ? removeByName(ctx, compile(str(re)), s) : -1;
  } },
  { name: 'remove_hf_match', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, hf, op, e) => removeHfMatch(ctx, str(hf), str(op), str(e)) },
  { name: 'replace', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => replaceFirst(ctx, fromHeaders(ctx), compile(str(re)), () => str(txt)) },
  { name: 'replace_str', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, k, v, m) => replaceStr(ctx, fromHeaders(ctx), str(k), str(v), str(m)) },
  { name: 'replace_all', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => replaceAll(ctx, fromHeaders(ctx), compile(str(re)), str(txt)) },
  { name: 'replace_body', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => {
    if (ctx.msg.receivedBody.length === 0) return -1;
    return replaceFirst(ctx, bodyText(ctx), compile(str(re)), () => str(txt));
  } },
  { name: 'replace_body_str', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, k, v, m) => {
    if (ctx.msg.receivedBody.length === 0) return -1;
    return replaceStr(ctx, bodyText(ctx), str(k), str(v), str(m));
  } },
  { name: 'replace_hdrs', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => {
    const { start, end } = ctx.msg.headersSpan;
    if (end <= start) return -1;
    return replaceFirst(ctx, { text: ctx.msg.headerBlock.slice(start, end), base: start }, compile(str(re)), () => str(txt));
  } },
  { name: 'replace_hdrs_str', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, k, v, m) => {
    const { start, end } = ctx.msg.headersSpan;
    if (end <= start) return -1;
    return replaceStr(ctx, { text: ctx.msg.headerBlock.slice(start, end), base: start }, str(k), str(v), str(m));
  } },
  { name: 'replace_body_all', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => {
    if (ctx.msg.receivedBody.length === 0) return -1;
    return replaceAll(ctx, bodyText(ctx), compile(str(re)), str(txt), true);
  } },
  { name: 'replace_body_atonce', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => {
    if (ctx.msg.receivedBody.length === 0) return -1;
    return replaceAll(ctx, bodyText(ctx), compile(str(re)), str(txt), false);
  } },
  { name: 'set_body', params: ['str', 'str'], ret: 'int', fn: (ctx, b, ct) => setBody(ctx, str(b), str(ct)) },
  { name: 'set_reply_body', params: ['str', 'str'], ret: 'int', fn: (ctx, body, ct) => {
    if (!str(body) || !str(ct)) return -1;
    ctx.replyBody = { body: Buffer.from(str(body), 'latin1'), contentType: str(ct) };
    return 1;
  } },
  { name: 'has_body', params: [], ret: 'int', fn: (ctx) => (hasBody(ctx) ? 1 : -1) },
  { name: 'has_body_type', params: ['str'], ret: 'int', fn: (ctx, t) => {
    if (!hasBody(ctx)) return -1;
    if (!str(t)) return 1;
    const want = mimeCode(str(t));
    if (!want) return -1;
    const ct = ctx.msg.contentType;
    const have = ct === undefined ? 'application/sdp' : mimeCode(ct);
    return have === want ? 1 : -1;
  } },
  { name: 'filter_body', params: ['str'], ret: 'int', fn: (ctx, ct) => filterBody(ctx, str(ct)) },
  { name: 'is_privacy', params: ['str'], ret: 'int', fn: (ctx, v) => {
    const bits = privacyValues(ctx);
    if (bits === null || !str(v)) return -1;
    const want = privValue(str(v));
    return want && bits & want ? 1 : -1;
  } },
  { name: 'in_list', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, s, l, sep) => inList(str(s), str(l), str(sep), false) },
  { name: 'in_list_prefix', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, s, l, sep) => inList(str(s), str(l), str(sep), true) },
  { name: 'cmp_str', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => cmp(str(a), str(b)) },
  { name: 'cmp_istr', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => cmp(str(a).toLowerCase(), str(b).toLowerCase()) },
  { name: 'search_str', params: ['str', 'str'], ret: 'int', fn: (_c, s, re) => {
    if (!str(re)) return 2;
    if (!str(s)) return -2;
    const r = compile(str(re));
    if (!r) return -2;
    return r.test(str(s)) ? 1 : -1;
  } },
  { name: 'starts_with', params: ['str', 'str'], ret: 'int', fn: (_c, s, p) => {
    const a = str(s);
    const b = str(p);
    return a.length < b.length ? -1 : strncmpRc(a.slice(0, b.length), b);
  } },
  { name: 'ends_with', params: ['str', 'str'], ret: 'int', fn: (_c, s, p) => {
    const a = str(s);
    const b = str(p);
    return b.length > a.length ? -1 : strncmpRc(a.slice(a.length - b.length), b);
  } },
  { name: 'str_find', params: ['str', 'str'], ret: 'int', fn: (_c, s, n) => {
    const a = str(s);
    const b = str(n);
    if (b.length > a.length || !b) return -1;
    const i = a.indexOf(b);
    return i >= 0 ? i + 1 : -1;
  } },
  { name: 'str_ifind', params: ['str', 'str'], ret: 'int', fn: (_c, s, n) => {
    const a = str(s).toLowerCase();
    const b = str(n).toLowerCase();
    if (b.length > a.length || !b) return -1;
    const i = a.indexOf(b);
    return i >= 0 ? i + 1 : -1;
  } },
  { name: 'is_audio_on_hold', params: [], ret: 'int', fn: isAudioOnHold },
  { name: 'append_body_part', params: ['str', 'str'], ret: 'int', fn: (ctx, t, ct) => appendBodyPart(ctx, str(t), str(ct), '') },
  { name: 'append_body_part_cd', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, ct, cd) => appendBodyPart(ctx, str(t), str(ct), str(cd)) },
  { name: 'append_body_part_hex', params: ['str', 'str'], ret: 'int', fn: (ctx, h, ct) => {
    const t = str(h) ? unhex(str(h)) : null;
    return t === null ? -1 : appendBodyPart(ctx, t, str(ct), '');
  } },
  { name: 'append_body_part_hex_cd', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, h, ct, cd) => {
    const t = str(h) ? unhex(str(h)) : null;
    return t === null ? -1 : appendBodyPart(ctx, t, str(ct), str(cd));
  } },
  { name: 'remove_body_part', params: ['str'], ret: 'int', fn: (ctx, ct) => removeBodyPart(ctx, str(ct)) },
  { name: 'get_body_part', params: ['str', 'str'], ret: 'int', fn: (ctx, ct, pv) => getBodyPart(ctx, str(ct), str(pv), false) },
  { name: 'get_body_part_raw', params: ['str', 'str'], ret: 'int', fn: (ctx, ct, pv) => getBodyPart(ctx, str(ct), str(pv), true) },
  { name: 'regex_substring', params: ['str', 'str', 'int', 'int', 'str'], ret: 'int', fn: (ctx, input, re, mi, nm, dst) =>
    regexSubstring(ctx, str(input), str(re), int(mi), int(nm), str(dst)) },
]);
