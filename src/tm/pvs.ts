/**
 * tm's pseudo-variables: $T_reply_code, $T_reply_reason, $T_branch_idx, $T_req(pv), $T_rpl(pv).
 */
import type { MsgContext } from '../context/msg-context.js';
import { getPv, type PvRegistry } from '../pv/registry.js';
import { TM } from './transaction-layer.js';
import { defaultReason } from '../sip/reply.js';
import { tmState } from './proxy-transaction.js';

function replyCode(ctx: MsgContext): number {
  const st = tmState(ctx);
  if (st.replyCode) return st.replyCode;
  if (!ctx.msg.isRequest) return ctx.msg.status;
  // A failure-route context without a picked reply (t_continue's route): 0, as tmx.
  if (ctx.route === 'failure' || ctx.route === 'branch_failure') return 0;
  return TM.find(ctx)?.lastStatus(ctx) ?? 0;
}

export function registerTmPvs(reg: PvRegistry): void {
  const registerPv = reg.register.bind(reg);
  registerPv('T_reply_code', { get: (ctx) => replyCode(ctx) });
  registerPv('T_reply_reason', {
    get: (ctx) => {
      const st = tmState(ctx);
      if (st.reply) return st.reply.reason;
      if (!ctx.msg.isRequest) return ctx.msg.reason;
      // No transaction: tmx gives the empty string (with one, a request route has no reply: $null).
      if (!st.replyCode && !TM.find(ctx)?.current(ctx)) return '';
      // A faked reply (fr timer's 408): tm's text for the code, as Kamailio's error_text().
      return st.replyCode ? defaultReason(st.replyCode) : null;
    },
  });
  // As tmx's pv_get_tm_branch_idx: a reply's branch; the branch in branch and branch-failure
  // routes; the appended branches in the request route; in the failure route, the branches
  // already sent plus those appended.
  registerPv('T_branch_idx', {
    get: (ctx) => {
      if (!ctx.msg.isRequest) return tmState(ctx).branch?.index ?? 0;
      switch (ctx.route) {
        case 'branch':
        case 'branch_failure':
          return ctx.route === 'branch' ? ctx.branchIndex : tmState(ctx).branch?.index ?? 0;
        case 'request':
          return ctx.branches.length;
        case 'failure': {
          const t = tmState(ctx).t;
          return (t ? t.branches.length + t.blindBranches : 0) + ctx.branches.length;
        }
        default:
          return tmState(ctx).branch?.index ?? 0;
      }
    },
  });
  // $T_req(pv) reads the transaction's request from a reply (onreply route); on a request
  // (the failure route's faked one included) it is null, as in tmx.
  registerPv('T_req', {
    get: (ctx, arg) => {
      if (ctx.msg.isRequest) return null;
      const t = TM.find(ctx)?.current(ctx);
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
