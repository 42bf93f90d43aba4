/**
 * KSR.tmx: route-type tests, branch cancelling and transaction lookups by Call-ID
 * (src/modules/tmx/tmx_mod.c).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { tmState } from '../src/tm/proxy-transaction.js';
import { TM, type TransactionLayer } from '../src/tm/transaction-layer.js';
import type { PvRegistry } from '../src/pv/registry.js';
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
    const t = TM.find(ctx)?.lookup(ctx.msg);
    if (!t || t.finished) return -1;
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
    if (!t) return -1;
    return t.replyLocal(Number(code) || 0, str(reason)) ? 1 : -1;
  } },
  { name: 't_cancel_callid', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, callid, cseq) => {
    const t = TM.find(ctx)?.findInvite(str(callid), str(cseq));
    if (!t) return -1;
    for (const b of t.branches) t.cancelBranch(b);
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

/** $T(name) as tmx: the transaction's id_index / id_label (0 without a transaction), reply code. */
function registerTPv(pvs: PvRegistry): void {
  pvs.register('T', {
    get: (ctx, arg) => {
      const tm = TM.find(ctx);
      switch (arg) {
        case 'id_index':
        case 'id_label': {
          const id = tm?.ident(ctx);
          if (!id) return 0;
          return arg === 'id_index' ? id.index : id.label;
        }
        case 'reply_code': {
          const t = tm?.current(ctx);
          return t ? t.server.lastStatus : null;
        }
        default:
          return null;
      }
    },
  });
}

/** Release the transaction silently (no reply goes out) and stop the script: returns 0. */
function dropT(ctx: MsgContext): number {
  const st = tmState(ctx);
  if (st.t) TM.find(ctx)?.release(ctx);
  return 0;
}

export default defineModule('tmx', exports, { init: (env) => registerTPv(env.pvs) });
