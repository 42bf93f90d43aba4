/**
 * KSR.textops (src/modules/textops/textops.c): regular-expression searches and edits of the
 * message, header helpers and string comparisons. Kamailio's regexes are POSIX extended; they are
 * compiled as JavaScript regexes here (the common syntax is the same; POSIX classes such as
 * [[:digit:]] are translated). search/replace match case-insensitively and line by line
 * (REG_ICASE | REG_NEWLINE), as textops compiles them; subst takes its flags from the expression.
 * Edits go on the outgoing copy and keep every other byte (headers through the message's edit
 * list, the body replaced whole).
 * set_reply_body applies to the next reply the proxy generates (sl or tm).
 * Not provided (fail naming themselves): multipart body functions (set_body_multipart*,
 * append_body_part*, remove_body_part, get_body_part*), filter_body, regex_substring,
 * replace_*_str, remove_hf_idx, remove_hf_match.
 */
import type { MsgContext } from '../src/core/context.js';
import { canonicalName } from '../src/sip/index.js';
import { defineModule, type KemiArg } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e', graph: '\\x21-\\x7e',
};

/** A POSIX extended regex as a JavaScript one. */
export function posixRegex(re: string, flags: string): RegExp {
  const js = re.replace(/\[:([a-z]+):\]/g, (all, cls: string) => POSIX_CLASSES[cls] ?? all);
  return new RegExp(js, flags);
}

/** sed-like `/re/repl/flags` (any delimiter), as textops' subst family takes it. */
export interface Subst {
  re: RegExp;
  repl: string;
  global: boolean;
}

export function parseSubst(expr: string): Subst {
  const d = expr[0];
  if (!d) throw new Error('subst: empty expression');
  const parts: string[] = [];
  let cur = '';
  for (let i = 1; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '\\' && expr[i + 1] === d) {
      cur += d;
      i++;
    } else if (c === d) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  if (parts.length !== 3) throw new Error(`subst: bad expression '${expr}'`);
  const [re, repl, fl] = parts as [string, string, string];
  const global = fl.includes('g');
  return { re: posixRegex(re, `m${fl.includes('i') ? 'i' : ''}${global ? 'g' : ''}`), repl, global };
}

/** The replacement for one match: \0..\9 are groups, \\ a backslash. */
function expand(repl: string, m: RegExpExecArray): string {
  return repl.replace(/\\(\d|\\)/g, (_all, g: string) => (g === '\\' ? '\\' : m[Number(g)] ?? ''));
}

/** Applies a regex edit to a text: the new text and how many matches were replaced. */
function substText(text: string, re: RegExp, repl: (m: RegExpExecArray) => string, all: boolean): { out: string; n: number } {
  const r = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let out = '';
  let last = 0;
  let n = 0;
  let m: RegExpExecArray | null;
  while ((m = r.exec(text)) !== null) {
    if (m[0] === '' ) {
      r.lastIndex++;
      continue;
    }
    out += text.slice(last, m.index) + repl(m);
    last = m.index + m[0].length;
    n++;
    if (!all) break;
  }
  return { out: out + text.slice(last), n };
}

/** Regex edits over the header lines (not the start line): one edit per match. */
function editHeaders(ctx: MsgContext, re: RegExp, repl: (m: RegExpExecArray) => string, all: boolean): number {
  const msg = ctx.msg;
  const block = msg.headerBlock;
  const { start, end } = msg.headersSpan;
  const r = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  r.lastIndex = start;
  let n = 0;
  let m: RegExpExecArray | null;
  const region = block.slice(0, end);
  while ((m = r.exec(region)) !== null) {
    if (m[0] === '') {
      r.lastIndex++;
      continue;
    }
    msg.editHeaders(m.index, m.index + m[0].length, repl(m));
    n++;
    if (!all) break;
  }
  return n;
}

function editBody(ctx: MsgContext, re: RegExp, repl: (m: RegExpExecArray) => string, all: boolean): number {
  const body = ctx.msg.body.toString('latin1');
  const { out, n } = substText(body, re, repl, all);
  if (n > 0) ctx.msg.setBody(out);
  return n;
}

/** 1 equal; -1 when the first sorts after the second, -2 before (Kamailio's cmp_str). */
function cmp(a: string, b: string): number {
  if (a === b) return 1;
  return a > b ? -1 : -2;
}

const searchRe = (s: KemiArg): RegExp => posixRegex(str(s), 'im');
const rc = (n: number): number => (n > 0 ? 1 : -1);

function wholeText(ctx: MsgContext): string {
  return ctx.msg.headerBlock + ctx.msg.body.toString('latin1');
}

function hfValues(ctx: MsgContext, name: string, which: string): { value: string; field: import('../src/sip/index.js').HeaderField }[] {
  const l = canonicalName(name.trim());
  const fs = ctx.msg.headerFields.filter((f) => f.lname === l);
  const picked = which === 'f' ? fs.slice(0, 1) : which === 'l' ? fs.slice(-1) : fs;
  return picked.map((f) => ({ value: f.value, field: f }));
}

function inList(subject: string, list: string, sep: string, prefix: boolean): number {
  if (!sep) return -1;
  for (const item of list.split(sep[0]!)) {
    const v = item.trim();
    if (prefix ? v !== '' && subject.startsWith(v) : v === subject) return 1;
  }
  return -1;
}

function isAudioOnHold(ctx: MsgContext): number {
  const ct = ctx.msg.contentType?.toLowerCase() ?? '';
  if (!ct.startsWith('application/sdp')) return -1;
  const sdp = ctx.msg.body.toString('latin1');
  let inAudio = false;
  const session = sdp.split(/^m=/m)[0] ?? '';
  let sessionHold = /^a=(sendonly|inactive)\s*$/m.test(session) || /^c=IN IP4 0\.0\.0\.0\s*$/m.test(session);
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) inAudio = line.startsWith('m=audio');
    else if (inAudio && (/^a=(sendonly|inactive)\s*$/.test(line) || /^c=IN IP4 0\.0\.0\.0\s*$/.test(line))) return 1;
  }
  sessionHold &&= /^m=audio/m.test(sdp);
  return sessionHold ? 1 : -1;
}

export default defineModule('textops', [
  { name: 'search', params: ['str'], ret: 'int', fn: (ctx, re) => (searchRe(re).test(wholeText(ctx)) ? 1 : -1) },
  { name: 'search_body', params: ['str'], ret: 'int', fn: (ctx, re) => (searchRe(re).test(ctx.msg.body.toString('latin1')) ? 1 : -1) },
  { name: 'search_hf', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, hf, re, fl) => {
    const r = searchRe(re);
    return hfValues(ctx, str(hf), str(fl)).some((h) => r.test(h.value)) ? 1 : -1;
  } },
  { name: 'search_append', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editHeaders(ctx, searchRe(re), (m) => m[0] + str(txt), false)) },
  { name: 'search_append_body', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editBody(ctx, searchRe(re), (m) => m[0] + str(txt), false)) },
  { name: 'is_present_hf', params: ['str'], ret: 'int', fn: (ctx, hf) => (ctx.msg.hasHeader(str(hf).trim()) ? 1 : -1) },
  { name: 'is_present_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const r = posixRegex(str(re), 'i');
    return ctx.msg.headerFields.some((f) => r.test(f.name)) ? 1 : -1;
  } },
  { name: 'subst', params: ['str'], ret: 'int', fn: (ctx, e) => {
    const s = parseSubst(str(e));
    const n = editHeaders(ctx, s.re, (m) => expand(s.repl, m), s.global);
    const b = s.global || n === 0 ? editBody(ctx, s.re, (m) => expand(s.repl, m), s.global) : 0;
    return rc(n + b);
  } },
  { name: 'subst_uri', params: ['str'], ret: 'int', fn: (ctx, e) => {
    if (!ctx.msg.isRequest) return -1;
    const s = parseSubst(str(e));
    const { out, n } = substText(ctx.msg.ruri, s.re, (m) => expand(s.repl, m), s.global);
    if (n === 0) return -1;
    ctx.msg.ruri = out;
    return 1;
  } },
  { name: 'subst_user', params: ['str'], ret: 'int', fn: (ctx, e) => {
    if (!ctx.msg.isRequest) return -1;
    const s = parseSubst(str(e));
    const m = /^(sips?:)(?:([^@;?]*)@)?(.*)$/i.exec(ctx.msg.ruri);
    if (!m) return -1;
    const { out, n } = substText(m[2] ?? '', s.re, (x) => expand(s.repl, x), s.global);
    if (n === 0) return -1;
    ctx.msg.ruri = `${m[1]}${out ? `${out}@` : ''}${m[3]}`;
    return 1;
  } },
  { name: 'subst_body', params: ['str'], ret: 'int', fn: (ctx, e) => {
    const s = parseSubst(str(e));
    return rc(editBody(ctx, s.re, (m) => expand(s.repl, m), s.global));
  } },
  { name: 'subst_hf', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, hf, e, fl) => {
    const s = parseSubst(str(e));
    let n = 0;
    for (const h of hfValues(ctx, str(hf), str(fl))) {
      const { out, n: k } = substText(h.value, s.re, (m) => expand(s.repl, m), s.global);
      if (k === 0) continue;
      ctx.msg.editHeaders(h.field.valueStart, h.field.valueEnd, out);
      n += k;
    }
    return rc(n);
  } },
  { name: 'remove_hf', params: ['str'], ret: 'int', fn: (ctx, hf) => {
    const n = ctx.msg.removeHeaders(str(hf).trim());
    return n > 0 ? n : -1;
  } },
  { name: 'remove_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const r = posixRegex(str(re), 'i');
    let n = 0;
    for (const f of ctx.msg.headerFields) if (r.test(f.name)) {
      ctx.msg.removeHeader(f);
      n++;
    }
    return n > 0 ? n : -1;
  } },
  { name: 'remove_hf_exp', params: ['str', 'str'], ret: 'int', fn: (ctx, re, ex) => {
    const r = posixRegex(str(re), 'i');
    const x = str(ex) ? posixRegex(str(ex), 'i') : null;
    let n = 0;
    for (const f of ctx.msg.headerFields) if (r.test(f.name) && !(x && x.test(f.name))) {
      ctx.msg.removeHeader(f);
      n++;
    }
    return n > 0 ? n : -1;
  } },
  { name: 'replace', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editHeaders(ctx, searchRe(re), () => str(txt), false) || editBody(ctx, searchRe(re), () => str(txt), false)) },
  { name: 'replace_all', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editHeaders(ctx, searchRe(re), () => str(txt), true) + editBody(ctx, searchRe(re), () => str(txt), true)) },
  { name: 'replace_hdrs', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editHeaders(ctx, searchRe(re), () => str(txt), true)) },
  { name: 'replace_body', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editBody(ctx, searchRe(re), () => str(txt), false)) },
  { name: 'replace_body_all', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editBody(ctx, searchRe(re), () => str(txt), true)) },
  { name: 'replace_body_atonce', params: ['str', 'str'], ret: 'int', fn: (ctx, re, txt) => rc(editBody(ctx, posixRegex(str(re), 'i'), () => str(txt), true)) },
  { name: 'set_body', params: ['str', 'str'], ret: 'int', fn: (ctx, body, ct) => {
    if (!str(ct)) return -1;
    ctx.msg.setBody(str(body), str(ct));
    return 1;
  } },
  { name: 'set_reply_body', params: ['str', 'str'], ret: 'int', fn: (ctx, body, ct) => {
    if (!ctx.msg.isRequest || !str(ct)) return -1;
    ctx.replyBody = { body: Buffer.from(str(body), 'latin1'), contentType: str(ct) };
    return 1;
  } },
  { name: 'has_body', params: [], ret: 'int', fn: (ctx) => (ctx.msg.body.length > 0 ? 1 : -1) },
  { name: 'has_body_type', params: ['str'], ret: 'int', fn: (ctx, t) => {
    if (ctx.msg.body.length === 0) return -1;
    const ct = (ctx.msg.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    return ct === str(t).trim().toLowerCase() ? 1 : -1;
  } },
  { name: 'is_privacy', params: ['str'], ret: 'int', fn: (ctx, v) => (ctx.msg.headerList('privacy').some((p) => p.trim().toLowerCase() === str(v).toLowerCase()) ? 1 : -1) },
  { name: 'in_list', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, s, l, sep) => inList(str(s), str(l), str(sep), false) },
  { name: 'in_list_prefix', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, s, l, sep) => inList(str(s), str(l), str(sep), true) },
  { name: 'cmp_str', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => cmp(str(a), str(b)) },
  { name: 'cmp_istr', params: ['str', 'str'], ret: 'int', fn: (_c, a, b) => cmp(str(a).toLowerCase(), str(b).toLowerCase()) },
  { name: 'search_str', params: ['str', 'str'], ret: 'int', fn: (_c, s, re) => (posixRegex(str(re), '').test(str(s)) ? 1 : -1) },
  { name: 'starts_with', params: ['str', 'str'], ret: 'int', fn: (_c, s, p) => (str(s).startsWith(str(p)) ? 1 : -1) },
  { name: 'ends_with', params: ['str', 'str'], ret: 'int', fn: (_c, s, p) => (str(s).endsWith(str(p)) ? 1 : -1) },
  { name: 'str_find', params: ['str', 'str'], ret: 'int', fn: (_c, s, n) => { const i = str(s).indexOf(str(n)); return i >= 0 ? i + 1 : -1; } },
  { name: 'str_ifind', params: ['str', 'str'], ret: 'int', fn: (_c, s, n) => { const i = str(s).toLowerCase().indexOf(str(n).toLowerCase()); return i >= 0 ? i + 1 : -1; } },
  { name: 'is_audio_on_hold', params: [], ret: 'int', fn: (ctx) => isAudioOnHold(ctx) },
]);
