/**
 * KSR.sl: stateless replies (src/modules/sl). send_reply uses the transaction when one exists.
 */
import type { MsgContext } from '../src/core/context.js';
import { defineModule, type KemiArg } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

function slReply(ctx: MsgContext, code: KemiArg, reason: KemiArg): number {
  const c = typeof code === 'number' ? code : 0;
  const r = str(reason);
  if (!ctx.msg.isRequest || ctx.msg.method === 'ACK' || c < 100 || c > 699 || !r) return -1;
  return ctx.proxy.sendReply(ctx, c, r);
}

function sendReply(ctx: MsgContext, code: KemiArg, reason: KemiArg): number {
  const tm = ctx.proxy.tm;
  if (tm && tm.current(ctx)) return tm.reply(ctx, typeof code === 'number' ? code : 0, str(reason));
  return slReply(ctx, code, reason);
}

export default defineModule('sl', [
  { name: 'sl_send_reply', params: ['int', 'str'], ret: 'int', fn: slReply },
  { name: 'send_reply', params: ['int', 'str'], ret: 'int', fn: sendReply },
  { name: 'send_reply_mode', params: ['int', 'str', 'int'], ret: 'int', fn: (ctx, code, reason, mode) => {
    if (mode === 1) ctx.sendFlags.replyNoConnect = true;
    if (mode === 2) ctx.sendFlags.replyClose = true;
    return sendReply(ctx, code, reason);
  } },
  // Kamailio maps its last internal error to a reply; ours is always a failed relay or a script
  // failure, which Kamailio answers 500. -2 when a final reply already went out.
  { name: 'sl_reply_error', params: [], ret: 'int', fn: (ctx) => {
    if (ctx.replied) return -2;
    const t = ctx.proxy.tm?.current(ctx);
    if (t && t.finalSent) return -2;
    return slReply(ctx, 500, 'Server Internal Error');
  } },
]);
