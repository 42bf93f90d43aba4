/**
 * KSR.sl: stateless replies (src/modules/sl). send_reply uses the transaction when one exists.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { TM } from '../src/tm/transaction-layer.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

function slReply(ctx: MsgContext, code: KemiArg, reason: KemiArg): number {
  const c = typeof code === 'number' ? code : 0;
  const r = str(reason);
  if (!ctx.msg.isRequest || ctx.msg.method === 'ACK' || c < 100 || c > 699 || !r) return -1;
  return ctx.proxy.sendReply(ctx, c, r);
}

function sendReply(ctx: MsgContext, code: KemiArg, reason: KemiArg): number {
  const tm = TM.find(ctx);
  // A settled transaction's retransmission too: tm refuses a second final reply, as Kamailio.
  if (tm && (tm.current(ctx) || (ctx.msg.isRequest && tm.has(ctx.msg)))) return tm.reply(ctx, typeof code === 'number' ? code : 0, str(reason));
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
  // sl_forward_reply([code[, reason]]): the reply relayed statelessly now, its code changed
  // within its class and its reason replaced if given (the script then usually drops it).
  { name: 'sl_forward_reply', params: ['str', 'str'], ret: 'int', fn: (ctx, code, reason) => {
    if (ctx.msg.isRequest) return -1;
    const c = str(code);
    let n: number | undefined;
    if (c) {
      if (!/^\d{3}$/.test(c) || c[0] !== String(ctx.msg.status)[0]) {
        ctx.proxy.log(ctx, 'err', c.length === 3 && /^\d{3}$/.test(c) ? 'sl: reply code class cannot be changed' : `sl: invalid reply code value ${c}`);
        return -1;
      }
      n = Number(c);
    }
    return ctx.proxy.forwardReply(ctx, n, str(reason) || undefined) ? 1 : -1;
  } },
  { name: 'sl_reply_error', params: [], ret: 'int', fn: (ctx) => {
    if (ctx.replied) return -2;
    const tm = TM.find(ctx);
    const t = tm?.current(ctx);
    if (t && t.finalSent) return -2;
    // A settled transaction's retransmission: its final reply went.
    if (!t && tm && ctx.msg.isRequest && tm.settledStatus(ctx.msg) >= 200) return -2;
    return slReply(ctx, 500, 'Server Internal Error');
  } },
]);
