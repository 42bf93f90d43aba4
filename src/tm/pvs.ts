/**
 * tm's pseudo-variables: $T_reply_code, $T_reply_reason, $T_branch_idx, $T_req(pv), $T_rpl(pv).
 */
import type { MsgContext } from '../core/context.js';
import { getPv, registerPv } from '../pv/registry.js';
import { tmState } from './tm-state.js';

function replyCode(ctx: MsgContext): number {
  const st = tmState(ctx);
  if (st.replyCode) return st.replyCode;
  if (!ctx.msg.isRequest) return ctx.msg.status;
  const t = ctx.proxy.tm?.current(ctx);
  return t?.server.lastStatus ?? 0;
}

export function registerTmPvs(): void {
  registerPv('T_reply_code', { get: (ctx) => replyCode(ctx) });
  registerPv('T_reply_reason', {
    get: (ctx) => {
      const st = tmState(ctx);
      if (st.reply) return st.reply.reason;
      return ctx.msg.isRequest ? null : ctx.msg.reason;
    },
  });
  registerPv('T_branch_idx', {
    get: (ctx) => {
      if (ctx.route === 'branch') return ctx.branchIndex;
      return tmState(ctx).branch?.index ?? 0;
    },
  });
  registerPv('T_req', {
    get: (ctx, arg) => {
      const t = ctx.proxy.tm?.current(ctx);
      if (!t) return null;
      const rctx = Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as MsgContext, ctx, { msg: t.request, rcv: t.rcv });
      return getPv(rctx, arg);
    },
  });
  registerPv('T_rpl', {
    get: (ctx, arg) => {
      const r = tmState(ctx).reply;
      if (!r) return null;
      const rctx = Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as MsgContext, ctx, { msg: r });
      return getPv(rctx, arg);
    },
  });
}
