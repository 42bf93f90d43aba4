/**
 * KSR.textopsx (Kamailio 5.6 src/modules/textopsx/textopsx.c).
 *
 * Return codes are Kamailio 5.6's, oddities included: keep_hf / keep_hf_re remove the headers
 * and then return -1; fnmatch / fnmatch_ex return 0 on a match (the KEMI function hands back
 * fnmatch(3)'s own result) and -1 otherwise. Header and body-line iterators are kept per message
 * (Kamailio keeps four of each per process, pointing into the current message).
 *
 * Not provided (fail naming themselves): append_hf_value, insert_hf_value, assign_hf_value,
 * assign_hf_value2, remove_hf_value, remove_hf_value2 (the `hname[idx].param` value editors).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { SipMessage, type HeaderField } from '../src/sip/index.js';
import { expandFormat } from '../src/pv/registry.js';
import { namedFields } from './textops.js';
import { PosixRegex } from '../src/lib/posix-regex.js';
import { rrState } from '../src/rr/record-route.js';
import { defineModule, type KemiArg } from './types.js';
import { str, int } from './args.js';

/** Header types keep_hf never removes. */
const KEPT = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-length', 'content-type', 'route', 'record-route', 'max-forwards']);

/** fnmatch(3) without flags (FNM_CASEFOLD with `i`): *, ?, [...] with ! or ^, backslash escapes. */
export function globMatch(value: string, pattern: string, icase = false): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!' || pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      const end = pattern.indexOf(']', j);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        const neg = cls[0] === '!' || cls[0] === '^';
        if (neg) cls = cls.slice(1);
        re += `[${neg ? '^' : ''}${cls.replace(/[\\[\]]/g, '\\$&')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`, icase ? 'i' : '').test(value);
}

function applyChanges(ctx: MsgContext): number {
  if (ctx.msg.isRequest && ctx.route !== 'request') return -1;
  // Kamailio refuses after record_route(): the conditional second Record-Route would break.
  if (ctx.msg.isRequest && rrState(ctx).added) {
    ctx.proxy.log(ctx, 'err', 'cannot apply msg changes after adding record-route header - it breaks conditional 2nd header');
    return -1;
  }
  if (!ctx.msg.hasEdits) return 1;
  return setBuffer(ctx, ctx.msg.serialize());
}

/** sip_msg_update_buffer: the message parsed again; 0 (stop) when the new text does not parse. */
function setBuffer(ctx: MsgContext, buf: Buffer): number {
  try {
    ctx.msg = SipMessage.parse(buf, { datagram: true });
    // Parse the main headers, as Kamailio does right after.
    void ctx.msg.from;
    void ctx.msg.to;
    void ctx.msg.callId;
    void ctx.msg.cseq;
  } catch (e) {
    ctx.proxy.log(ctx, 'err', `textopsx: parsing new sip message failed: ${e instanceof Error ? e.message : String(e)}`);
    return 0;
  }
  return 1;
}

function changeStatus(ctx: MsgContext, code: number, reason?: string): number {
  if (reason !== undefined && !reason) return -1;
  if (ctx.msg.isRequest) return -1;
  if (code < 100 || code > 699) return -1;
  const cur = ctx.msg.status;
  if ((code < 300 || cur < 300) && Math.floor(code / 100) !== Math.floor(cur / 100)) return -1;
  ctx.msg.setStatus(code, reason);
  return 1;
}

function keepHf(ctx: MsgContext, re: PosixRegex | null): number {
  for (const f of ctx.msg.headerFields) {
    if (KEPT.has(f.lname)) continue;
    if (re && re.test(f.name)) continue;
    ctx.msg.removeHeader(f);
  }
  return -1;
}

// ---- include / exclude / exists of header values -------------------------------------------------

/** fixup_hname_param for the include/exclude/exists family: a bare header name, no [idx] nor .param. */
function bareName(hexp: string): string | null {
  const m = /^\s*([A-Za-z0-9_-]+)\s*$/.exec(hexp);
  return m ? m[1]! : null;
}

/** Comma-separated values of a header body (quote-aware) with the raw span each one takes. */
function values(body: string): { value: string; start: number; end: number }[] {
  const out: { value: string; start: number; end: number }[] = [];
  let p = 0;
  for (;;) {
    const lumpStart = p;
    while (p < body.length && /\s/.test(body[p]!)) p++;
    const vs = p;
    let quoted = false;
    while (p < body.length && (body[p] !== ',' || quoted)) {
      if (body[p] === '"' && (!quoted || body[p - 1] !== '\\')) quoted = !quoted;
      p++;
    }
    let ve = p;
    while (ve > vs && /\s/.test(body[ve - 1]!)) ve--;
    if (p < body.length) p++;
    out.push({ value: body.slice(vs, ve), start: lumpStart, end: p });
    if (p >= body.length) break;
  }
  return out;
}

function bodyRange(ctx: MsgContext, f: HeaderField): { start: number; end: number; text: string } {
  const t = ctx.msg.headerBlock;
  let e = f.valueEnd;
  while (e > f.valueStart && /[ \t\r\n]/.test(t[e - 1]!)) e--;
  return { start: f.valueStart, end: e, text: t.slice(f.valueStart, e) };
}

type IncExc = 'include' | 'exclude' | 'exists';

function incExc(ctx: MsgContext, hexp: KemiArg, value: KemiArg, op: IncExc): number {
  const name = bareName(str(hexp));
  if (!name) return -1;
  const val = str(value).includes('$') ? expandFormat(ctx, str(value)) : str(value);
  if (!val) return -1;
  const want = val.toLowerCase();
  let first: ReturnType<typeof bodyRange> | null = null;
  for (const f of namedFields(ctx, name)) {
    const b = bodyRange(ctx, f);
    first ??= b;
    for (const v of values(b.text)) {
      if (!v.value || v.value.toLowerCase() !== want) continue;
      if (op !== 'exclude') return 1;
      let s = v.start;
      const e = v.end;
      if (e === b.text.length && s > 0) s--;
      if (s === 0 && e === b.text.length) ctx.msg.removeHeader(f);
      else ctx.msg.editRaw(b.start + s, b.start + e, '');
    }
  }
  if (op === 'exists') return -1;
  if (op === 'include') {
    if (first) ctx.msg.editRaw(first.end, first.end, `,${val}`);
    else ctx.msg.appendHeader(`${name}: ${val}\r\n`);
  }
  return 1;
}

// ---- iterators -------------------------------------------------------------------------------------

const MAX_ITERATORS = 4;
const MAX_NAME = 32;

interface HfIt { it: number; prev: number; eoh: boolean }
interface BlIt { start: number; len: number; eob: boolean; started: boolean }
interface Iterators { hf: Map<string, HfIt>; bl: Map<string, BlIt> }

function iterators(ctx: MsgContext): Iterators {
  let s = ctx.moduleData.get('textopsx') as Iterators | undefined;
  if (!s) {
    s = { hf: new Map(), bl: new Map() };
    ctx.moduleData.set('textopsx', s);
  }
  return s;
}

function hfStart(ctx: MsgContext, name: string): number {
  const its = iterators(ctx).hf;
  if (!its.has(name) && (its.size >= MAX_ITERATORS || name.length >= MAX_NAME)) return -1;
  its.set(name, { it: -1, prev: -1, eoh: false });
  return ctx.msg.headerFields.length ? 1 : -1;
}

function hfNext(ctx: MsgContext, name: string): number {
  const it = iterators(ctx).hf.get(name);
  if (!it || it.eoh) return -1;
  if (it.it >= 0) it.prev = it.it;
  it.it++;
  if (it.it >= ctx.msg.headerFields.length) {
    it.eoh = true;
    it.it = -1;
    return -1;
  }
  return 1;
}

function hfPrev(ctx: MsgContext, name: string): number {
  const it = iterators(ctx).hf.get(name);
  if (!it || it.eoh) return -1;
  if (it.prev < 0) return hfStart(ctx, name);
  if (it.prev !== it.it) {
    it.it = it.prev;
    return 1;
  }
  if (it.it >= 1) {
    it.it--;
    it.prev = it.it - 1;
    return 1;
  }
  return hfStart(ctx, name);
}

function hfCurrent(ctx: MsgContext, name: string): HeaderField | undefined {
  const it = iterators(ctx).hf.get(name);
  return it && it.it >= 0 ? ctx.msg.headerFields[it.it] : undefined;
}

function blStart(ctx: MsgContext, name: string): number {
  const its = iterators(ctx).bl;
  if (!its.has(name) && (its.size >= MAX_ITERATORS || name.length >= MAX_NAME)) return -1;
  its.set(name, { start: 0, len: 0, eob: false, started: false });
  return 1;
}

function blNext(ctx: MsgContext, name: string): number {
  const it = iterators(ctx).bl.get(name);
  if (!it || it.eob) return -1;
  const body = ctx.msg.receivedBody;
  const p = it.started ? it.start + it.len : 0;
  it.started = true;
  if (p >= body.length) {
    it.start = 0;
    it.len = 0;
    it.eob = true;
    return -1;
  }
  const nl = body.indexOf(10, p);
  it.start = p;
  it.len = (nl < 0 ? body.length : nl + 1) - p;
  return 1;
}

function blCurrent(ctx: MsgContext, name: string): BlIt | undefined {
  const it = iterators(ctx).bl.get(name);
  return it && it.started && !it.eob && it.len > 0 ? it : undefined;
}

export default defineModule('textopsx', [
  { name: 'msg_apply_changes', params: [], ret: 'int', fn: applyChanges },
  { name: 'msg_set_buffer', params: ['str'], ret: 'int', fn: (ctx, data) => {
    if (ctx.msg.isRequest && ctx.route !== 'request') return -1;
    if (!str(data)) return -1;
    return setBuffer(ctx, Buffer.from(str(data), 'latin1'));
  } },
  { name: 'change_reply_status', params: ['int', 'str'], ret: 'int', fn: (ctx, code, reason) => changeStatus(ctx, int(code), str(reason)) },
  { name: 'change_reply_status_code', params: ['int'], ret: 'int', fn: (ctx, code) => changeStatus(ctx, int(code)) },
  { name: 'remove_body', params: [], ret: 'int', fn: (ctx) => {
    const b = ctx.msg.receivedBody;
    if (b.length > 0) {
      const base = ctx.msg.headerBlock.length;
      ctx.msg.editRaw(base, base + b.length, '');
    }
    return 1;
  } },
  { name: 'keep_hf', params: [], ret: 'int', fn: (ctx) => keepHf(ctx, null) },
  { name: 'keep_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => {
    if (!str(re)) return keepHf(ctx, null);
    let r: PosixRegex;
    try {
      r = new PosixRegex(str(re), { icase: true, newline: true });
    } catch {
      return -1;
    }
    return keepHf(ctx, r);
  } },
  { name: 'fnmatch', params: ['str', 'str'], ret: 'int', fn: (_c, v, p) => (globMatch(str(v), str(p)) ? 0 : -1) },
  { name: 'fnmatch_ex', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, v, p, f) => (globMatch(str(v), str(p), /^[iI]/.test(str(f))) ? 0 : -1) },
  { name: 'include_hf_value', params: ['str', 'str'], ret: 'int', fn: (ctx, h, v) => incExc(ctx, h, v, 'include') },
  { name: 'exclude_hf_value', params: ['str', 'str'], ret: 'int', fn: (ctx, h, v) => incExc(ctx, h, v, 'exclude') },
  { name: 'hf_value_exists', params: ['str', 'str'], ret: 'int', fn: (ctx, h, v) => incExc(ctx, h, v, 'exists') },
  { name: 'hf_iterator_start', params: ['str'], ret: 'int', fn: (ctx, n) => hfStart(ctx, str(n)) },
  { name: 'hf_iterator_end', params: ['str'], ret: 'int', fn: (ctx, n) => {
    const it = iterators(ctx).hf.get(str(n));
    if (!it) return -1;
    it.it = -1;
    it.eoh = false;
    return 1;
  } },
  { name: 'hf_iterator_next', params: ['str'], ret: 'int', fn: (ctx, n) => hfNext(ctx, str(n)) },
  { name: 'hf_iterator_prev', params: ['str'], ret: 'int', fn: (ctx, n) => hfPrev(ctx, str(n)) },
  { name: 'hf_iterator_rm', params: ['str'], ret: 'int', fn: (ctx, n) => {
    const f = hfCurrent(ctx, str(n));
    if (!f) return -1;
    ctx.msg.removeHeader(f);
    return 1;
  } },
  { name: 'hf_iterator_append', params: ['str', 'str'], ret: 'int', fn: (ctx, n, t) => {
    const f = hfCurrent(ctx, str(n));
    if (!f) return -1;
    ctx.msg.insertAfter(f, str(t));
    return 1;
  } },
  { name: 'hf_iterator_insert', params: ['str', 'str'], ret: 'int', fn: (ctx, n, t) => {
    const f = hfCurrent(ctx, str(n));
    if (!f) return -1;
    ctx.msg.insertBefore(f, str(t));
    return 1;
  } },
  { name: 'hf_iterator_hname', params: ['str'], ret: 'xval', fn: (ctx, n) => hfCurrent(ctx, str(n))?.name ?? null },
  { name: 'hf_iterator_hbody', params: ['str'], ret: 'xval', fn: (ctx, n) => {
    const f = hfCurrent(ctx, str(n));
    return f ? bodyRange(ctx, f).text : null;
  } },
  { name: 'bl_iterator_start', params: ['str'], ret: 'int', fn: (ctx, n) => blStart(ctx, str(n)) },
  { name: 'bl_iterator_end', params: ['str'], ret: 'int', fn: (ctx, n) => {
    const it = iterators(ctx).bl.get(str(n));
    if (!it) return -1;
    Object.assign(it, { start: 0, len: 0, eob: false, started: false });
    return 1;
  } },
  { name: 'bl_iterator_next', params: ['str'], ret: 'int', fn: (ctx, n) => blNext(ctx, str(n)) },
  { name: 'bl_iterator_rm', params: ['str'], ret: 'int', fn: (ctx, n) => {
    const it = blCurrent(ctx, str(n));
    if (!it) return -1;
    const base = ctx.msg.headerBlock.length;
    ctx.msg.editRaw(base + it.start, base + it.start + it.len, '');
    return 1;
  } },
  { name: 'bl_iterator_append', params: ['str', 'str'], ret: 'int', fn: (ctx, n, t) => {
    const it = blCurrent(ctx, str(n));
    if (!it) return -1;
    const at = ctx.msg.headerBlock.length + it.start + it.len;
    ctx.msg.editRaw(at, at, str(t));
    return 1;
  } },
  { name: 'bl_iterator_insert', params: ['str', 'str'], ret: 'int', fn: (ctx, n, t) => {
    const it = blCurrent(ctx, str(n));
    if (!it) return -1;
    const at = ctx.msg.headerBlock.length + it.start;
    ctx.msg.editRaw(at, at, str(t));
    return 1;
  } },
  { name: 'bl_iterator_value', params: ['str'], ret: 'xval', fn: (ctx, n) => {
    const it = blCurrent(ctx, str(n));
    return it ? ctx.msg.receivedBody.toString('latin1', it.start, it.start + it.len) : null;
  } },
]);
