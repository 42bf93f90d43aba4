/**
 * KSR.textopsx (src/modules/textopsx/textopsx.c), the parts a routing script uses most:
 * msg_apply_changes (queued edits become the message the script reads next), remove_body,
 * keep_hf / keep_hf_re, fnmatch / fnmatch_ex, hf_value_exists.
 * Not provided (fail naming themselves): msg_set_buffer, change_reply_status*, the *_hf_value
 * editors, and the header / body-line iterators.
 */
import { SipMessage, canonicalName } from '../src/sip/index.js';
import { defineModule, type KemiArg } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

/** Headers keep_hf never removes (Kamailio keeps those the SIP transaction needs). */
const MANDATORY = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'route', 'record-route', 'max-forwards', 'content-length', 'content-type']);

/** Shell-style glob (fnmatch(3) without flags; `i` flag: case-insensitive). */
export function globMatch(value: string, pattern: string, flags = ''): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]!}`;
    else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`, flags.includes('i') ? 'is' : 's').test(value);
}

export default defineModule('textopsx', [
  { name: 'msg_apply_changes', params: [], ret: 'int', fn: (ctx) => {
    if (ctx.route !== 'request' && ctx.msg.isRequest) return -1;
    if (!ctx.msg.hasEdits) return 1;
    try {
      ctx.msg = SipMessage.parse(ctx.msg.serialize(), { datagram: ctx.rcv.proto === 'udp' });
    } catch (e) {
      ctx.proxy.log(ctx, 'err', `msg_apply_changes: the changed message does not parse: ${e instanceof Error ? e.message : String(e)}`);
      return -1;
    }
    return 1;
  } },
  { name: 'remove_body', params: [], ret: 'int', fn: (ctx) => {
    if (ctx.msg.body.length === 0) return -1;
    ctx.msg.setBody('', '');
    return 1;
  } },
  { name: 'keep_hf', params: [], ret: 'int', fn: (ctx) => {
    for (const f of ctx.msg.headerFields) if (!MANDATORY.has(f.lname)) ctx.msg.removeHeader(f);
    return 1;
  } },
  { name: 'keep_hf_re', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const r = new RegExp(str(re), 'i');
    for (const f of ctx.msg.headerFields) if (!MANDATORY.has(f.lname) && !r.test(f.name)) ctx.msg.removeHeader(f);
    return 1;
  } },
  { name: 'fnmatch', params: ['str', 'str'], ret: 'int', fn: (_c, v, p) => (globMatch(str(v), str(p)) ? 1 : -1) },
  { name: 'fnmatch_ex', params: ['str', 'str', 'str'], ret: 'int', fn: (_c, v, p, f) => (globMatch(str(v), str(p), str(f)) ? 1 : -1) },
  { name: 'hf_value_exists', params: ['str', 'str'], ret: 'int', fn: (ctx, name, value) => {
    const l = canonicalName(str(name).trim());
    const want = str(value).trim().toLowerCase();
    return ctx.msg.headerList(l).some((v) => v.trim().toLowerCase() === want) ? 1 : -1;
  } },
]);
