/**
 * KSR.maxfwd (src/modules/maxfwd): Max-Forwards processing. process_maxfwd adds the header with
 * the limit when absent (2), answers -1 for 0, otherwise decrements it (after lowering values
 * above max_limit, 70) and returns 1; -2 on a parse error.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { defineModule, type KemiArg } from './types.js';

const MAX_LIMIT = 70;

function processMaxfwd(ctx: MsgContext, limitArg: KemiArg): number {
  const limit = typeof limitArg === 'number' ? limitArg : -1;
  if (limit < 0 || limit > 255 || !ctx.msg.isRequest) return -2;
  const f = ctx.msg.headerField('max-forwards');
  if (!f) {
    ctx.msg.appendHeader(`Max-Forwards: ${limit}\r\n`);
    return 2;
  }
  if (!/^\d{1,10}$/.test(f.value)) return -2;
  let v = Number(f.value);
  if (v === 0) return -1;
  if (v > MAX_LIMIT) v = MAX_LIMIT;
  ctx.msg.insertBefore(f, `${f.name}: ${v - 1}\r\n`);
  ctx.msg.removeHeader(f);
  return 1;
}

export default defineModule('maxfwd', [
  { name: 'process_maxfwd', params: ['int'], ret: 'int', fn: processMaxfwd },
  { name: 'is_maxfwd_lt', params: ['int'], ret: 'int', fn: (ctx, limit) => {
    const v = ctx.msg.header('max-forwards');
    if (v === undefined) return -2;
    if (!/^\d{1,10}$/.test(v)) return -3;
    return Number(v) < (typeof limit === 'number' ? limit : 0) ? 1 : -1;
  } },
]);
