/**
 * KSR.hdr: header edits queued for the outgoing copy and header reads of the received message
 * (src/core/kemi.c `_sr_kemi_hdr`). Header text is whole lines, "Name: value\r\n".
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { canonicalName } from '../src/sip/index.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

function field(ctx: MsgContext, name: string, last = false) {
  const l = canonicalName(name.trim());
  const fs = ctx.msg.headerFields.filter((f) => f.lname === l);
  return last ? fs[fs.length - 1] : fs[0];
}

function nth(ctx: MsgContext, name: KemiArg, idx: KemiArg): string | null {
  const all = ctx.msg.headers(str(name));
  const i = typeof idx === 'number' ? idx : 0;
  return all[i < 0 ? all.length + i : i] ?? null;
}

function text(v: KemiArg): string | null {
  const s = str(v);
  return s ? s : null;
}

function matchContent(ctx: MsgContext, name: KemiArg, op: KemiArg, value: KemiArg, which: KemiArg): boolean {
  const vals = ctx.msg.headers(str(name)).map((v) => v.trim().toLowerCase());
  const want = str(value).trim().toLowerCase();
  const test = (v: string): boolean => {
    switch (str(op)) {
      case 'eq': return v === want;
      case 'ne': return v !== want;
      case 'sw': return v.startsWith(want);
      case 'in': return v.includes(want);
      default: return false;
    }
  };
  if (vals.length === 0) return false;
  switch (str(which)) {
    case 'f': return test(vals[0]!);
    case 'l': return test(vals[vals.length - 1]!);
    case 'a': return vals.every(test);
    case 'o': return vals.some(test);
    default: return false;
  }
}

export default defineModule('hdr', [
  { name: 'append', params: ['str'], ret: 'int', fn: (ctx, t) => {
    const s = text(t);
    if (!s) return -1;
    ctx.msg.appendHeader(s);
    return 1;
  } },
  { name: 'append_after', params: ['str', 'str'], ret: 'int', fn: (ctx, t, name) => {
    const s = text(t);
    if (!s) return -1;
    const f = field(ctx, str(name));
    if (f) ctx.msg.insertAfter(f, s);
    else ctx.msg.appendHeader(s);
    return 1;
  } },
  { name: 'insert', params: ['str'], ret: 'int', fn: (ctx, t) => {
    const s = text(t);
    if (!s) return -1;
    ctx.msg.insertHeader(s);
    return 1;
  } },
  { name: 'insert_before', params: ['str', 'str'], ret: 'int', fn: (ctx, t, name) => {
    const s = text(t);
    if (!s) return -1;
    const f = field(ctx, str(name));
    if (f) ctx.msg.insertBefore(f, s);
    else ctx.msg.insertHeader(s);
    return 1;
  } },
  { name: 'remove', params: ['str'], ret: 'int', fn: (ctx, name) => {
    if (!str(name)) return -1;
    ctx.msg.removeHeaders(str(name));
    return 1;
  } },
  { name: 'rmappend', params: ['str', 'str'], ret: 'int', fn: (ctx, name, t) => {
    const s = text(t);
    if (!s || !str(name)) return -1;
    ctx.msg.removeHeaders(str(name));
    ctx.msg.appendHeader(s);
    return 1;
  } },
  { name: 'rminsert', params: ['str', 'str'], ret: 'int', fn: (ctx, name, t) => {
    const s = text(t);
    if (!s || !str(name)) return -1;
    ctx.msg.removeHeaders(str(name));
    ctx.msg.insertHeader(s);
    return 1;
  } },
  { name: 'is_present', params: ['str'], ret: 'int', fn: (ctx, name) => (ctx.msg.hasHeader(str(name)) ? 1 : -1) },
  { name: 'append_to_reply', params: ['str'], ret: 'int', fn: (ctx, t) => {
    const s = text(t);
    if (!s) return -1;
    ctx.replyHeaders += s;
    return 1;
  } },
  { name: 'get', params: ['str'], ret: 'xval', fn: (ctx, name) => ctx.msg.header(str(name)) ?? null },
  { name: 'gete', params: ['str'], ret: 'xval', fn: (ctx, name) => ctx.msg.header(str(name)) ?? '' },
  { name: 'getw', params: ['str'], ret: 'xval', fn: (ctx, name) => ctx.msg.header(str(name)) ?? '<null>' },
  { name: 'get_idx', params: ['str', 'int'], ret: 'xval', fn: (ctx, name, i) => nth(ctx, name, i) },
  { name: 'gete_idx', params: ['str', 'int'], ret: 'xval', fn: (ctx, name, i) => nth(ctx, name, i) ?? '' },
  { name: 'getw_idx', params: ['str', 'int'], ret: 'xval', fn: (ctx, name, i) => nth(ctx, name, i) ?? '<null>' },
  { name: 'match_content', params: ['str', 'str', 'str', 'str'], ret: 'bool', fn: matchContent },
]);
