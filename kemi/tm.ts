/**
 * KSR.tm: Kamailio's transaction module (src/modules/tm/tm.c `tm_kemi_exports`) over
 * src/tm/transaction-layer.ts. Return codes as Kamailio's: positive true, negative false, 0 stop.
 */
import type { MsgContext, Proto } from '../src/context/msg-context.js';
import { protoNamed } from '../src/transport/types.js';
import type { TransactionLayer } from '../src/tm/transaction-layer.js';
import { tmState } from '../src/tm/proxy-transaction.js';
import { registerTmPvs } from '../src/tm/pvs.js';
import { loadContacts, nextContacts } from './tm-serial.js';
import { TM } from '../src/tm/transaction-layer.js';
import { defineModule, type KemiArg, type KemiExport } from './types.js';
import { str, int } from './args.js';

function layer(ctx: MsgContext): TransactionLayer {
  const tm = TM.find(ctx);
  if (!tm) throw new Error('KSR.tm: the tm module is not loaded');
  return tm;
}

/** "[proto:]host[:port]" as t_relay_to_proxy takes it. */
function parseProxy(spec: string): { proto?: Proto; address: string; port?: number } | null {
  let s = spec.trim();
  let proto: Proto | undefined;
  const m = /^(udp|tcp|tls|sctp|ws|wss):(?!\d+$)/i.exec(s);
  if (m) {
    proto = protoNamed(m[1]!);
    s = s.slice(m[0].length);
  }
  let host = s;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    port = v6[2] ? Number(v6[2]) : undefined;
  } else {
    const i = s.lastIndexOf(':');
    if (i > 0 && s.indexOf(':') === i) {
      host = s.slice(0, i);
      port = Number(s.slice(i + 1));
      if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
    }
  }
  if (!host) return null;
  return { proto, address: host, port };
}

/** Arms a callback by Lua function name; "" disarms. Stored in T when it exists. */
function arm(which: 'onBranch' | 'onReply' | 'onFailure' | 'onBranchFailure') {
  return (ctx: MsgContext, name: KemiArg): number => {
    const st = tmState(ctx);
    const given = str(name);
    const fn = TM.find(ctx)?.routeNames.intern(given) ?? given;
    st[which] = fn;
    const t = st.t;
    if (t && which !== 'onBranch') t[which] = fn;
    return 1;
  };
}

/** The status t_check_status / t_get_status_code look at, by route (see kemi-api.md §4). */
function statusCode(ctx: MsgContext): number {
  const st = tmState(ctx);
  switch (ctx.route) {
    case 'onreply':
    case 'reply':
      return ctx.msg.isRequest ? -1 : ctx.msg.status;
    case 'failure':
    case 'branch_failure':
      return st.replyCode || -1;
    default: {
      return TM.find(ctx)?.lastStatus(ctx) || -1;
    }
  }
}

function onFailureSide(ctx: MsgContext): boolean {
  return ctx.route === 'failure' || ctx.route === 'branch_failure';
}

const exports: KemiExport[] = [
  { name: 't_relay', params: [], ret: 'int', fn: (ctx) => layer(ctx).relay(ctx) },
  { name: 't_relay_to_proto', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const proto = protoNamed(str(p));
    if (!proto || (proto !== 'udp' && proto !== 'tcp' && proto !== 'tls')) return -1;
    return layer(ctx).relay(ctx, { proto });
  } },
  { name: 't_relay_to_proto_addr', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, p, host, port) => {
    const proto = protoNamed(str(p));
    const h = str(host);
    if (!proto || !h) return -478;
    return layer(ctx).relay(ctx, { proto, address: h.replace(/^\[|\]$/g, ''), port: int(port) || 5060 });
  } },
  { name: 't_relay_to_proxy', params: ['str'], ret: 'int', fn: (ctx, spec) => {
    const d = parseProxy(str(spec));
    if (!d) return -1;
    return layer(ctx).relay(ctx, d);
  } },
  { name: 't_relay_to_flags', params: ['int'], ret: 'int', fn: (ctx, f) => layer(ctx).relay(ctx, { flags: int(f) }) },
  { name: 't_relay_to_proxy_flags', params: ['str', 'int'], ret: 'int', fn: (ctx, spec, f) => {
    const d = parseProxy(str(spec));
    if (!d) return -1;
    return layer(ctx).relay(ctx, { ...d, flags: int(f) });
  } },
  { name: 't_on_branch', params: ['str'], ret: 'int', fn: arm('onBranch') },
  { name: 't_on_failure', params: ['str'], ret: 'int', fn: arm('onFailure') },
  { name: 't_on_branch_failure', params: ['str'], ret: 'int', fn: arm('onBranchFailure') },
  { name: 't_on_reply', params: ['str'], ret: 'int', fn: arm('onReply') },
  { name: 't_is_set', params: ['str'], ret: 'int', fn: (ctx, what) => {
    const st = tmState(ctx);
    const t = st.t;
    switch (str(what).charAt(0)) {
      case 'b': return st.onBranch ? 1 : -1;
      case 'f': return (t ? t.onFailure : st.onFailure) ? 1 : -1;
      case 'o': return (t ? t.onReply : st.onReply) ? 1 : -1;
      default: return -1;
    }
  } },
  { name: 't_reply', params: ['int', 'str'], ret: 'int', fn: (ctx, code, reason) => layer(ctx).reply(ctx, int(code), str(reason)) },
  { name: 't_send_reply', params: ['int', 'str'], ret: 'int', fn: (ctx, code, reason) => layer(ctx).sendReply(ctx, int(code), str(reason)) },
  { name: 't_check_trans', params: [], ret: 'int', fn: (ctx) => layer(ctx).checkTrans(ctx) },
  { name: 't_newtran', params: [], ret: 'int', fn: (ctx) => layer(ctx).newTran(ctx) },
  { name: 't_release', params: [], ret: 'int', fn: (ctx) => layer(ctx).release(ctx) },
  { name: 't_is_canceled', params: [], ret: 'int', fn: (ctx) => (layer(ctx).current(ctx)?.canceled ? 1 : -1) },
  { name: 't_is_expired', params: [], ret: 'int', fn: (ctx) => {
    const t = layer(ctx).current(ctx);
    if (!t) return -1;
    const life = t.isInvite ? t.cfg.max_inv_lifetime : t.cfg.max_noninv_lifetime;
    return Math.trunc(performance.now()) - t.createdAt > life ? 1 : -1;
  } },
  { name: 't_lookup_request', params: [], ret: 'int', fn: (ctx) => (layer(ctx).has(ctx.msg) ? 1 : -1) },
  { name: 't_lookup_cancel', params: [], ret: 'int', fn: (ctx) => (ctx.msg.isRequest && ctx.msg.method === 'CANCEL' && layer(ctx).lookupInviteFor(ctx.msg) ? 1 : -1) },
  { name: 't_lookup_cancel_flags', params: ['int'], ret: 'int', fn: (ctx, f) => {
    if (!ctx.msg.isRequest || ctx.msg.method !== 'CANCEL') return -1;
    const t = layer(ctx).lookupInviteFor(ctx.msg);
    if (!t) return -1;
    if (int(f) & 1) ctx.flags = t.flags;
    return 1;
  } },
  { name: 't_retransmit_reply', params: [], ret: 'int', fn: (ctx) => {
    const l = layer(ctx);
    const t = l.current(ctx);
    if (!t) return ctx.msg.isRequest && l.resendSettled(ctx.msg) ? 1 : -1;
    if (!t.server.lastReply) return -1;
    t.server.onRetransmission();
    return 1;
  } },
  { name: 't_set_fr', params: ['int', 'int'], ret: 'int', fn: (ctx, inv, nonInv) => setFr(ctx, int(inv), int(nonInv)) },
  { name: 't_set_fr_inv', params: ['int'], ret: 'int', fn: (ctx, inv) => setFr(ctx, int(inv), -1) },
  { name: 't_reset_fr', params: [], ret: 'int', fn: (ctx) => setFr(ctx, 0, 0) },
  { name: 't_get_status_code', params: [], ret: 'int', fn: (ctx) => statusCode(ctx) },
  { name: 't_check_status', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const code = statusCode(ctx);
    if (code < 0) return -1;
    let rx: RegExp;
    try {
      rx = new RegExp(str(re), 'i');
    } catch {
      return -1;
    }
    return rx.test(String(code)) ? 1 : -1;
  } },
  { name: 't_grep_status', params: ['int'], ret: 'int', fn: (ctx, code) => {
    const t = layer(ctx).current(ctx);
    if (!t) return -1;
    const c = int(code);
    return t.branches.some((b) => b.finalCode === c && !b.faked) ? 1 : -1;
  } },
  { name: 't_any_replied', params: [], ret: 'int', fn: (ctx) => (layer(ctx).current(ctx)?.branches.some((b) => b.replied) ? 1 : -1) },
  { name: 't_any_timeout', params: [], ret: 'int', fn: (ctx) => (layer(ctx).current(ctx)?.branches.some((b) => b.timedOut) ? 1 : -1) },
  { name: 't_branch_replied', params: [], ret: 'int', fn: (ctx) => {
    if (!onFailureSide(ctx)) return -1;
    const b = tmState(ctx).branch;
    return b && b.replied ? 1 : -1;
  } },
  { name: 't_branch_timeout', params: [], ret: 'int', fn: (ctx) => {
    if (!onFailureSide(ctx)) return -1;
    const b = tmState(ctx).branch;
    return b && b.timedOut ? 1 : -1;
  } },
  { name: 't_set_retr', params: ['int', 'int'], ret: 'int', fn: (ctx, t1, t2) => setRetr(ctx, int(t1), int(t2)) },
  { name: 't_reset_retr', params: [], ret: 'int', fn: (ctx) => setRetr(ctx, 0, 0) },
  { name: 't_set_max_lifetime', params: ['int', 'int'], ret: 'int', fn: (ctx, inv, non) => setLifetime(ctx, int(inv), int(non)) },
  { name: 't_reset_max_lifetime', params: [], ret: 'int', fn: (ctx) => setLifetime(ctx, 0, 0) },
  { name: 't_load_contacts', params: [], ret: 'int', fn: (ctx) => loadContacts(ctx, layer(ctx).cfg.contacts_avp, 0) },
  { name: 'ki_t_load_contacts_mode', params: ['int'], ret: 'int', fn: (ctx, m) => loadContacts(ctx, layer(ctx).cfg.contacts_avp, int(m)) },
  { name: 't_next_contacts', params: [], ret: 'int', fn: (ctx) => nextContacts(ctx, layer(ctx).cfg.contacts_avp, layer(ctx).cfg.contact_flows_avp) },
  { name: 't_drop_replies_all', params: [], ret: 'int', fn: (ctx) => dropReplies(ctx, 'a') },
  { name: 't_drop_replies', params: ['str'], ret: 'int', fn: (ctx, mode) => dropReplies(ctx, str(mode)) },
  { name: 't_get_branch_index', params: [], ret: 'int', fn: (ctx) => branchIndex(ctx) },
  // Kamailio's t_clean frees old transactions left active; here finished and expired ones are
  // swept by their own timers (max_*_lifetime), so there is nothing left to clean.
  { name: 't_clean', params: [], ret: 'int', fn: () => 1 },
  { name: 't_set_auto_inv_100', params: ['int'], ret: 'int', fn: (ctx, v) => { tmState(ctx).autoInv100 = int(v) !== 0; return 1; } },
  { name: 't_set_disable_6xx', params: ['int'], ret: 'int', fn: (ctx, v) => {
    const st = tmState(ctx);
    st.disable6xx = int(v) !== 0;
    if (st.t) st.t.disable6xx = st.disable6xx;
    return 1;
  } },
  { name: 't_set_disable_internal_reply', params: ['int'], ret: 'int', fn: (ctx, v) => { tmState(ctx).disableInternalReply = int(v) !== 0; return 1; } },
  { name: 't_set_no_e2e_cancel_reason', params: ['int'], ret: 'int', fn: (ctx, v) => { tmState(ctx).noE2eCancelReason = int(v) !== 0; return 1; } },
  // We never fail over to other DNS targets, so turning failover off is already the behaviour.
  { name: 't_set_disable_failover', params: ['int'], ret: 'int', fn: () => 1 },
];

/** t_set_fr(fr_inv, fr): ms; 0 = module default; before T exists the values wait for it. */
function setFr(ctx: MsgContext, inv: number, nonInv: number): number {
  const st = tmState(ctx);
  const tm = layer(ctx);
  if ((inv > 0 && inv < 10) || (nonInv > 0 && nonInv < 10)) return -1;
  if (inv >= 0) st.frInv = inv;
  if (nonInv >= 0) st.fr = nonInv;
  const t = st.t;
  if (t) {
    if (inv >= 0) t.frInv = inv || tm.cfg.fr_inv_timer;
    if (nonInv >= 0) t.fr = nonInv || tm.cfg.fr_timer;
  }
  return 1;
}

/** t_set_retr(t1, t2): retransmission intervals (ms) for this transaction, or the next one created. */
function setRetr(ctx: MsgContext, t1: number, t2: number): number {
  if (t1 < 0 || t2 < 0) return -1;
  const st = tmState(ctx);
  st.retr = { t1, t2 };
  st.t?.setRetr(t1, t2);
  return 1;
}

/** t_set_max_lifetime(inv, noninv): how long the transaction may live at most (ms; 0 = default). */
function setLifetime(ctx: MsgContext, inv: number, nonInv: number): number {
  if (inv < 0 || nonInv < 0) return -1;
  const st = tmState(ctx);
  st.lifetime = { inv, nonInv };
  const t = st.t;
  if (t) t.setMaxLifetime(t.isInvite ? inv : nonInv);
  return 1;
}

function dropReplies(ctx: MsgContext, mode: string): number {
  const t = tmState(ctx).t;
  if (!t) return -1;
  if (mode === 'n') return 1;
  const last = t.forkStep;
  for (const b of t.branches) {
    if (mode === 'l' && b.forkStep !== last) continue;
    b.dropped = true;
  }
  return 1;
}

/** $T_branch_idx: the branch a branch/onreply/failure route runs for; 0 elsewhere. */
export function branchIndex(ctx: MsgContext): number {
  if (ctx.route === 'branch') return ctx.branchIndex;
  const b = tmState(ctx).branch;
  return b ? b.index : 0;
}

export default defineModule('tm', exports, { init: (env) => registerTmPvs(env.pvs) });
