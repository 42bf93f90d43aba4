/**
 * KSR.tmx: route-type tests, branch cancelling and transaction lookups by Call-ID
 * (src/modules/tmx/tmx_mod.c).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { tmState } from '../src/tm/proxy-transaction.js';
import { TM, type TransactionLayer } from '../src/tm/transaction-layer.js';
import { SettledTransaction } from '../src/tm/settled-transaction.js';
import { getPv, type PvRegistry } from '../src/pv/registry.js';
import type { PvValue } from '../src/context/msg-context.js';
import { defineModule, type KemiArg, type KemiExport } from './types.js';
import { str } from './args.js';

function isRoute(...routes: MsgContext['route'][]) {
  return (ctx: MsgContext): number => (routes.includes(ctx.route) ? 1 : -1);
}

const exports: KemiExport[] = [
  // A retransmission racing its original in another worker: we have one event loop per process and
  // t_newtran runs synchronously, so a request is never "being processed" unseen.
  { name: 't_precheck_trans', params: [], ret: 'int', fn: (ctx) => {
    if (!ctx.msg.isRequest || ctx.msg.method === 'ACK' || ctx.msg.method === 'CANCEL') return -1;
    const tm = TM.find(ctx);
    const t = tm?.lookup(ctx.msg);
    if (!t || t.finished) return tm?.resendSettled(ctx.msg) ? 1 : -1;
    t.server.onRetransmission();
    return 1;
  } },
  { name: 't_is_request_route', params: [], ret: 'int', fn: isRoute('request') },
  { name: 't_is_reply_route', params: [], ret: 'int', fn: isRoute('onreply', 'reply') },
  { name: 't_is_failure_route', params: [], ret: 'int', fn: isRoute('failure') },
  { name: 't_is_branch_route', params: [], ret: 'int', fn: isRoute('branch') },
  { name: 't_flush_flags', params: [], ret: 'int', fn: (ctx) => {
    const t = TM.find(ctx)?.current(ctx);
    if (!t) return -1;
    t.flags = ctx.flags;
    return 1;
  } },
  { name: 't_cancel_branches', params: ['str'], ret: 'int', fn: (ctx, which) => {
    const w = str(which);
    if (w !== 'all' && w !== 'others' && w !== 'this') return -1;
    const tm = TM.find(ctx);
    if (!tm) throw new Error('KSR.tmx.t_cancel_branches: the tm module is not loaded');
    return tm.cancelBranches(ctx, w);
  } },
  // By Call-ID and CSeq number, as tm's t_lookup_callid: only INVITE transactions.
  { name: 't_reply_callid', params: ['str', 'str', 'int', 'str'], ret: 'int', fn: (ctx, callid, cseq, code, reason) => {
    const t = TM.find(ctx)?.findInvite(str(callid), str(cseq));
    // A settled transaction's record replies no more: its final reply went.
    if (!t || t instanceof SettledTransaction) return -1;
    return t.replyLocal(Number(code) || 0, str(reason)) ? 1 : -1;
  } },
  { name: 't_cancel_callid', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, callid, cseq) => {
    const t = TM.find(ctx)?.findInvite(str(callid), str(cseq));
    if (!t) return -1;
    // A settled one has no branch left to cancel.
    if (!(t instanceof SettledTransaction)) for (const b of t.branches) t.cancelBranch(b);
    return 1;
  } },
  // The message's extended flags (corex setxflag) go to its transaction.
  { name: 't_flush_xflags', params: [], ret: 'int', fn: (ctx) => {
    const t = TM.find(ctx)?.current(ctx);
    if (!t) return -1;
    const x = ctx.moduleData.get('corex:xflags');
    if (x === undefined) t.moduleData.delete('corex:xflags');
    else t.moduleData.set('corex:xflags', x);
    return 1;
  } },
  { name: 't_drop', params: [], ret: 'int', fn: (ctx) => dropT(ctx) },
  // tm's t_suspend: the transaction waits for t_continue; the script usually exits after it.
  { name: 't_suspend', params: [], ret: 'int', fn: (ctx) => layer(ctx, 't_suspend').suspend(ctx) },
  // Runs the named function on the suspended transaction. It runs after the calling coroutine
  // yields (not nested inside the caller's Lua call); the caller gets 1 once it has run.
  { name: 't_continue', params: ['int', 'int', 'str'], ret: 'int', fn: (ctx, index, label, cb) => {
    const tm = layer(ctx, 't_continue');
    return Promise.resolve().then(() => tm.resume(Number(index), Number(label), str(cb)));
  } },
  { name: 't_drop_rcode', params: ['int'], ret: 'int', fn: (ctx) => dropT(ctx) },
];

function layer(ctx: MsgContext, fn: string): TransactionLayer {
  const tm = TM.find(ctx);
  if (!tm) throw new Error(`KSR.tmx.${fn}: the tm module is not loaded`);
  return tm;
}

/**
 * tmx's $T(name) (t_var.c pv_get_t): reply_code, reply_reason and branch_index are $T_reply_code,
 * $T_reply_reason and $T_branch_idx; id_index / id_label / reply_type read $null without a
 * transaction; id_index_n / id_label_n create it first (t_newtran). reply_type is 1 in a failure
 * route whose picked reply was faked (a timeout), else 0.
 */
function tValue(ctx: MsgContext, arg: string): PvValue | null {
  switch (arg) {
    case 'reply_code':
      return getPv(ctx, '$T_reply_code');
    case 'reply_reason':
      return getPv(ctx, '$T_reply_reason');
    case 'branch_index':
      return getPv(ctx, '$T_branch_idx');
  }
  const tm = TM.find(ctx);
  if (!tm) return null;
  let t = tm.current(ctx);
  if (!t && (arg === 'id_index_n' || arg === 'id_label_n')) {
    if (ctx.msg.isRequest && ctx.route === 'request' && tm.newTran(ctx) === 1) t = tm.current(ctx);
  }
  if (!t) return null;
  switch (arg) {
    case 'id_index':
    case 'id_index_n':
      return t.index;
    case 'id_label':
    case 'id_label_n':
      return t.label;
    case 'reply_type':
      return ctx.route === 'failure' && tmState(ctx).branch?.faked ? 1 : 0;
    default:
      return null;
  }
}

/** The names tmx's pv_parse_t_name knows ($T and $T_branch share it). */
const T_NAMES = new Set(['id_index', 'id_label', 'id_index_n', 'id_label_n', 'reply_code', 'reply_type', 'reply_reason', 'branch_index', 'uri', 'ruid', 'flags']);

function unknownName(ctx: MsgContext, pvs: PvRegistry, pv: string, arg: string): null {
  if (pvs.firstReport(`$${pv}(${arg})`)) ctx.proxy.log(ctx, 'err', `tmx: unknown PV name $${pv}(${arg})`);
  return null;
}

/**
 * $T_branch(flags|uri): the branch flags of the reply's branch (onreply) or the picked one
 * (failure, branch-failure routes); the reply's branch URI (onreply only). $T_branch(ruid) (the
 * usrloc record id of a branch) is not kept by kemi-proxy: it reads $null and says so once.
 * $T_reply_last: in the onreply route, the last code the reply's branch received (this one).
 */
function registerTPv(pvs: PvRegistry): void {
  pvs.register('T', {
    get: (ctx, arg) => {
      if (!T_NAMES.has(arg) || arg === 'uri' || arg === 'ruid' || arg === 'flags') return unknownName(ctx, pvs, 'T', arg);
      return tValue(ctx, arg);
    },
  });
  pvs.register('T_branch', {
    get: (ctx, arg) => {
      if (!T_NAMES.has(arg)) return unknownName(ctx, pvs, 'T_branch', arg);
      const st = tmState(ctx);
      if (!TM.find(ctx)?.current(ctx)) return null;
      const b = st.branch;
      switch (arg) {
        case 'flags':
          if (ctx.route !== 'failure' && ctx.route !== 'branch_failure' && ctx.route !== 'onreply') return null;
          return b ? b.flags : null;
        case 'uri':
          return ctx.route === 'onreply' && b ? b.uri : null;
        case 'ruid':
          if (pvs.firstReport('$T_branch(ruid)')) ctx.proxy.log(ctx, 'err', 'pseudo-variable $T_branch(ruid) is not provided in kemi-proxy: it reads as $null');
          return null;
        default:
          return null;
      }
    },
  });
  pvs.register('T_reply_last', {
    get: (ctx) => (ctx.route === 'onreply' && !ctx.msg.isRequest ? ctx.msg.status : null),
  });
}

/** Release the transaction silently (no reply goes out) and stop the script: returns 0. */
function dropT(ctx: MsgContext): number {
  const st = tmState(ctx);
  if (st.t) TM.find(ctx)?.release(ctx);
  return 0;
}

export default defineModule('tmx', exports, { init: (env) => registerTPv(env.pvs) });
