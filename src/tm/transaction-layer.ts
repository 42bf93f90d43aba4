/**
 * The transaction layer: matching tables (RFC 3261 17.2.3 server side, 17.1.3 client side), the
 * entry points KSR.tm calls (t_relay, t_newtran, t_check_trans, t_reply, ...) and the reply path
 * the core hands matched replies to.
 */
import { Interner } from '../lib/interner.js';
import { SlotMap } from '../lib/slot-map.js';
import type { MsgContext, Proto, ReceiveInfo, RunOutcome } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import { normalizeAddress, type SendTarget } from '../transport/types.js';
import type { TmConfig } from './config.js';
import { TimerQueue, type TimerClock, type TimerHandle } from './timer-queue.js';
import { TmCallbackList } from './callbacks.js';
import { ModuleKey } from '../context/module-state.js';
import type { TmCore } from './tm-core.js';
import { peekTmState, tmState } from './proxy-transaction.js';
import { ProxyTransaction, clientKey, type BranchSpec, type ClientBranch, type TransactionOwner } from './proxy-transaction.js';
import { SettledTransaction, type SettledFacts, type SettledTransactionHost } from './settled-transaction.js';
import { SettledList } from './settled-list.js';
import { MAGIC_COOKIE } from '../sip/branch.js';
import { detached } from '../lib/detach.js';

export interface TmStats {
  created: number;
  completed: number;
  timedOut: number;
  absorbed: number;
  localReplies: number;
}

/** t_relay variants: a forced transport or destination, and Kamailio's t_relay flags. */
export interface RelayOptions {
  proto?: Proto;
  address?: string;
  port?: number;
  /** 1: no automatic 100; 2: no internal negative reply; 4: no DNS failover. */
  flags?: number;
}

type Maybe<T> = T | Promise<T>;

/**
 * Server transaction key: branch + sent-by + Via transport + method (ACK matches its INVITE), as
 * tm's via_matching compares them. Made from the message as received, so it is computed once per
 * message (lookups, t_check_trans, t_newtran).
 */
export function serverKey(msg: SipMessage, methodOverride?: string): string {
  if (methodOverride === undefined) return msg.derived('tm:key', makeServerKey);
  return makeServerKey(msg, methodOverride);
}

function makeServerKey(msg: SipMessage, methodOverride?: string): string {
  const via = msg.topVia;
  const method = methodOverride ?? (msg.method === 'ACK' ? 'INVITE' : msg.method);
  const branch = via.branch;
  const sentBy = `${via.transport} ${via.host}:${via.port ?? ''}`;
  // Detached: the key outlives the parse (a settled transaction keeps it, not the header text).
  if (branch && branch.startsWith(MAGIC_COOKIE)) return detached(`${branch}\u0001${sentBy}\u0001${method}`);
  // RFC 2543 peers: no unique branch; match on what identifies the request (17.2.3 fallback).
  return detached(`2543\u0001${msg.callId}\u0001${msg.from.tag ?? ''}\u0001${msg.cseq.seq}\u0001${sentBy}\u0001${branch ?? ''}\u0001${msg.originalRuri}\u0001${method}`);
}

/** Where an instance keeps its transaction layer (when the tm module is loaded). */
export const TM = new ModuleKey<TransactionLayer>('tm');

/** A transaction in the table: in progress (or whole while settled), or the record of a settled one. */
export type TableEntry = ProxyTransaction | SettledTransaction;

export class TransactionLayer implements TransactionOwner, SettledTransactionHost {
  readonly timers: TimerQueue;
  readonly stats: TmStats = { created: 0, completed: 0, timedOut: 0, absorbed: 0, localReplies: 0 };
  /** Modules' callbacks (acc) on this layer's transactions. */
  readonly callbacks = new TmCallbackList();
  /** t_on_failure & co.: one string per route name, which a transaction keeps for seconds. */
  readonly routeNames = new Interner(1024);
  get events(): TmCallbackList {
    return this.callbacks;
  }
  /** By server key. A SlotMap, not a Map: a Map's old tables kept dropped transactions alive (slot-map.ts). */
  private readonly table = new SlotMap<TableEntry>();
  /**
   * The last `lookup`: a script looks the same request up several times (t_precheck_trans,
   * t_check_trans, then t_relay's t_newtran), each a probe of a table of tens of thousands of
   * entries (the first two took about 1.5% of a process's CPU at 2000 calls/s, perf). The answer
   * holds for that message until the table changes: `tableVersion` counts the changes.
   */
  private lastLookupMsg: SipMessage | null = null;
  private lastLookupFound: TableEntry | undefined = undefined;
  private lastLookupVersion = -1;
  private tableVersion = 0;
  private readonly clients = new SlotMap<ClientBranch>();
  /** Completed client transactions of settled records, by branch id: their final replies are absorbed. */
  private readonly settledClients = new SlotMap<SettledTransaction>();
  /** The records, in the order they expire. */
  private readonly settledList: SettledList<SettledTransaction>;
  /** Suspended transactions (t_suspend) by `index:label`, as t_continue names them. */
  private readonly suspendedById = new Map<string, ProxyTransaction>();
  /** tm's per-entry label counter: labels are unique within this layer. */
  private nextLabel = 1 + Math.floor(Math.random() * 0x3fffffff);

  constructor(
    readonly core: TmCore,
    readonly cfg: TmConfig,
    clock?: TimerClock,
  ) {
    this.timers = new TimerQueue(clock);
    this.settledList = new SettledList(this.timers, (rec) => this.settledExpired(rec));
  }

  get active(): number {
    return this.table.size;
  }

  send(target: SendTarget, data: Buffer): boolean {
    return this.core.send(target, data);
  }

  registerClient(key: string, branch: ClientBranch): void {
    this.clients.set(key, branch);
  }

  unregisterClient(key: string): void {
    this.clients.delete(key);
  }

  /**
   * A stream connection (tcp, tls, ws, wss) closed: each branch still waiting for a final reply
   * that was sent on it ends with a faked 503, as a branch whose send failed, instead of waiting
   * for fr_timer on a connection that can no longer answer. A scan of the pending branches: closes
   * are rare next to messages.
   */
  connectionClosed(proto: Proto, connId: number, address: string, port: number): void {
    if (proto === 'udp') return;
    const lost: ClientBranch[] = [];
    for (const b of this.clients.values()) {
      const tg = b.target;
      if (!b.pending || tg.proto !== proto) continue;
      const same = tg.connId !== undefined ? tg.connId === connId : normalizeAddress(tg.address) === address && tg.port === port;
      if (same) lost.push(b);
    }
    for (const b of lost) b.t.branchConnectionLost(b);
  }

  /**
   * INVITE branches answered 2xx in the last one or two wait_timer periods (two generations of a
   * set, rotated each period: no timer per branch). A late provisional or negative reply on one of
   * them is absorbed, as Kamailio absorbs it on the cell it keeps for wait_timer; a retransmitted
   * 2xx goes on statelessly by Via.
   */
  private acceptedNow = new Set<string>();
  private acceptedBefore = new Set<string>();
  private acceptedRotation: TimerHandle | null = null;

  rememberAccepted(branchId: string): void {
    if (!this.acceptedRotation) this.rotateAcceptedLater();
    this.acceptedNow.add(branchId);
  }

  /** On the transaction timers (so a test's manual clock drives it too); stops when both sets are empty. */
  private rotateAcceptedLater(): void {
    this.acceptedRotation = this.timers.schedule(this.cfg.wait_timer, () => {
      this.acceptedBefore = this.acceptedNow;
      this.acceptedNow = new Set();
      this.acceptedRotation = null;
      if (this.acceptedBefore.size > 0) this.rotateAcceptedLater();
    });
  }

  private wasAccepted(branchId: string): boolean {
    return this.acceptedNow.has(branchId) || this.acceptedBefore.has(branchId);
  }

  transactionDone(t: ProxyTransaction): void {
    if (this.table.get(t.key) === t) this.forget(t.key);
    if (t.suspended) this.suspendedById.delete(`${t.index}:${t.label}`);
    this.core.releaseScript(t.script);
    this.stats.completed++;
  }

  /** The record of a settled transaction takes its place (see SettledTransaction). */
  transactionSettled(t: ProxyTransaction, facts: SettledFacts): void {
    const rec = new SettledTransaction(this, facts);
    // A transaction t_release took out of the table stays out; its record still absorbs replies.
    if (this.table.get(t.key) === t) {
      this.table.set(t.key, rec);
      this.tableVersion++;
    }
    const ids = facts.clientIds;
    if (typeof ids === 'string') this.settledClients.set(ids, rec);
    else if (ids) for (const id of ids) this.settledClients.set(id, rec);
    this.settledList.add(rec);
    this.core.releaseScript(t.script);
  }

  private settledExpired(rec: SettledTransaction): void {
    if (this.table.get(rec.key) === rec) this.forget(rec.key);
    const ids = rec.clientIds;
    if (typeof ids === 'string') this.dropSettledClient(ids, rec);
    else if (ids) for (const id of ids) this.dropSettledClient(id, rec);
    this.stats.completed++;
  }

  private dropSettledClient(id: string, rec: SettledTransaction): void {
    if (this.settledClients.get(id) === rec) this.settledClients.delete(id);
  }

  countTimeout(): void {
    this.stats.timedOut++;
  }

  close(): void {
    this.timers.cancel(this.acceptedRotation);
    this.acceptedRotation = null;
    this.settledList.clear();
    this.settledClients.clear();
    this.timers.close();
    this.table.clear();
    this.tableVersion++;
    this.lastLookupMsg = null;
    this.clients.clear();
    this.suspendedById.clear();
  }

  // ---- lookups --------------------------------------------------------------------------------

  /**
   * The transaction of this request (retransmission, ACK to a negative reply) while in progress,
   * or while it stays whole once settled; a settled transaction's record is not one (see find).
   */
  lookup(msg: SipMessage): ProxyTransaction | undefined {
    const e = this.find(msg);
    return e instanceof SettledTransaction ? undefined : e;
  }

  /** Whether this request belongs to a transaction, settled ones included (t_lookup_request). */
  has(msg: SipMessage): boolean {
    return this.find(msg) !== undefined;
  }

  /** What the table has for this request: a transaction or a settled one's record. */
  private find(msg: SipMessage): TableEntry | undefined {
    if (msg === this.lastLookupMsg && this.lastLookupVersion === this.tableVersion) return this.lastLookupFound;
    let found: TableEntry | undefined;
    try {
      found = this.table.get(serverKey(msg));
    } catch {
      found = undefined;
    }
    this.lastLookupMsg = msg;
    this.lastLookupFound = found;
    this.lastLookupVersion = this.tableVersion;
    return found;
  }

  /** A retransmitted request of a settled transaction: its record resends the last reply; 0 (absorbed). */
  private absorbBySettled(rec: SettledTransaction): 0 {
    rec.onRetransmission();
    this.stats.absorbed++;
    return 0;
  }

  private forget(key: string): void {
    if (this.table.delete(key)) this.tableVersion++;
  }

  /** The INVITE transaction a CANCEL is for (or the record of it, settled). */
  lookupInviteFor(cancel: SipMessage): TableEntry | undefined {
    try {
      return this.table.get(serverKey(cancel, 'INVITE'));
    } catch {
      return undefined;
    }
  }

  /** The transaction of the current message: its own (callbacks) or the one it matches. */
  current(ctx: MsgContext): ProxyTransaction | undefined {
    const st = tmState(ctx);
    if (st.t) return st.t;
    if (!ctx.msg.isRequest) return undefined;
    const t = this.lookup(ctx.msg);
    return t && !t.finished ? t : undefined;
  }

  // ---- request route entry points --------------------------------------------------------------

  /**
   * t_newtran: 1 created, 0 retransmission (last reply resent) or ACK absorbed, -10 when the
   * message already has one, -1 for an ACK with no transaction (never creates one).
   */
  newTran(ctx: MsgContext): number {
    const st = tmState(ctx);
    if (st.t) return -10;
    const msg = ctx.msg;
    const existing = this.find(msg);
    if (existing instanceof SettledTransaction) {
      // An accepted INVITE's record takes no ACK (the 2xx's ACK is end to end), as the whole one.
      if (msg.method === 'ACK') return -1;
      return this.absorbBySettled(existing);
    }
    if (existing && !existing.finished) {
      if (msg.method === 'ACK') {
        if (existing.server instanceof Object && 'onAck' in existing.server && existing.server.onAck()) {
          this.stats.absorbed++;
          return 0;
        }
        return -1;
      }
      existing.server.onRetransmission();
      this.stats.absorbed++;
      return 0;
    }
    if (msg.method === 'ACK') return -1;
    if (this.table.size >= this.cfg.max_transactions) {
      ctx.proxy.sendReply(ctx, 503, 'Server Busy');
      return -1;
    }
    const script = this.core.acquireScript();
    const t = new ProxyTransaction(this, serverKey(msg), msg, ctx.rcv, script, ctx);
    t.setServices(ctx.proxy);
    t.index = hashIndex(msg.callId, String(msg.cseq.seq));
    t.label = this.nextLabel++;
    this.table.set(t.key, t);
    this.tableVersion++;
    this.stats.created++;
    st.t = t;
    return 1;
  }

  /**
   * t_check_trans (request route): CANCEL -> 1 if its INVITE transaction exists, else -1; other
   * requests -> 0 for a retransmission (reply resent) or an ACK to a negative reply (absorbed),
   * 1 for an ACK that may be end to end for an existing transaction, -1 none. Reply: 1 / -1.
   * In tm callbacks: always 1.
   */
  checkTrans(ctx: MsgContext): number {
    if (ctx.route !== 'request' && ctx.route !== 'reply') return 1;
    const msg = ctx.msg;
    if (!msg.isRequest) return this.matchReply(msg) ? 1 : -1;
    if (msg.method === 'CANCEL') return this.lookupInviteFor(msg) ? 1 : -1;
    const t = this.find(msg);
    if (t instanceof SettledTransaction) {
      if (msg.method === 'ACK') return 1;
      return this.absorbBySettled(t);
    }
    if (!t || t.finished) return -1;
    if (msg.method === 'ACK') {
      const s = t.server;
      if ('onAck' in s && s.onAck()) {
        this.stats.absorbed++;
        return 0;
      }
      return 1;
    }
    t.server.onRetransmission();
    this.stats.absorbed++;
    return 0;
  }

  /** t_relay and its variants. */
  relay(ctx: MsgContext, opts: RelayOptions = {}): Maybe<number> {
    const msg = ctx.msg;
    const st = tmState(ctx);
    if (ctx.route === 'failure') return this.relayFromFailure(ctx, opts);
    if (!msg.isRequest) return -1;
    if (msg.method === 'ACK') {
      // ACK to a negative reply of ours is absorbed; an end-to-end ACK goes on statelessly.
      const t = this.lookup(msg);
      if (t && !t.finished && 'onAck' in t.server && t.server.onAck()) {
        this.stats.absorbed++;
        return 1;
      }
      return this.forwardAckStateless(ctx, opts);
    }
    if (msg.method === 'CANCEL') {
      const inv = this.lookupInviteFor(msg);
      if (inv && (inv instanceof SettledTransaction || !inv.finished)) return this.relayCancel(ctx, inv);
    }
    if (!st.t) {
      const r = this.newTran(ctx);
      if (r === 0) return 1; // retransmission absorbed
      if (r < 0) return r;
    }
    const t = st.t!;
    if (st.disableInternalReply) opts = { ...opts, flags: (opts.flags ?? 0) | 2 };
    const auto100 = st.autoInv100 ?? this.cfg.auto_inv_100;
    if (t.isInvite && auto100 && !((opts.flags ?? 0) & 1) && t.server.lastStatus === 0) {
      t.replyLocal(100, this.cfg.auto_inv_100_reason);
    }
    return this.fork(ctx, t, opts, ctx.ruriIsNew);
  }

  /** Sends the R-URI branch (when unused) plus every appended branch; error reply when none went. */
  private fork(ctx: MsgContext, t: ProxyTransaction, opts: RelayOptions, withRuri: boolean): Maybe<number> {
    const st = tmState(ctx);
    const specs: BranchSpec[] = [];
    const force = opts.address || opts.proto ? { proto: opts.proto, address: opts.address, port: opts.port } : undefined;
    if (withRuri) {
      const m = ctx.msg.clone();
      if (ctx.ruriPath) m.insertHeader(ctx.ruriPath.split(',').map((p) => `Route: ${p.trim()}\r\n`).join(''));
      specs.push({ uri: ctx.msg.ruri, dstUri: ctx.dstUri, flags: ctx.bflags[0] ?? 0, msg: m, forceTarget: force });
      if (ctx.route === 'request') t.uriUsed = true;
      ctx.consumeRuri();
    }
    for (const b of ctx.branches) {
      const m = ctx.msg.clone();
      if (b.path) m.insertHeader(b.path.split(',').map((p) => `Route: ${p.trim()}\r\n`).join(''));
      specs.push({ uri: b.uri, dstUri: b.dstUri, flags: b.flags, msg: m, forceTarget: force });
    }
    ctx.branches = [];
    // Kamailio's t_forward_nonack: the transaction takes the request's flags as they are at t_relay.
    if (ctx.route === 'request') t.flags = ctx.flags;
    // t_on_failure armed now applies to these branches.
    t.onFailure = st.onFailure || t.onFailure;
    t.onReply = st.onReply || t.onReply;
    t.onBranchFailure = st.onBranchFailure || t.onBranchFailure;
    const onBranch = st.onBranch;
    st.onBranch = ''; // consumed by this t_relay
    if (specs.length === 0) return this.noBranch(ctx, t, opts);
    const sent = t.forward(ctx, specs, onBranch);
    const finish = (n: number): number => {
      if (n > 0) return 1;
      return this.noBranch(ctx, t, opts);
    };
    return sent instanceof Promise ? sent.then(finish) : finish(sent);
  }

  private noBranch(ctx: MsgContext, t: ProxyTransaction, opts: RelayOptions): number {
    if (ctx.route === 'failure') return -1;
    if (!((opts.flags ?? 0) & 2) && !t.finalSent && t.branches.every((b) => !b.pending)) {
      t.replyLocal(500, 'Unresolvable destination');
      ctx.replied = true;
      this.stats.localReplies++;
    }
    return -1;
  }

  private relayFromFailure(ctx: MsgContext, opts: RelayOptions): Maybe<number> {
    const t = tmState(ctx).t;
    if (!t) return -1;
    // As in Kamailio, the R-URI is a new branch only once the script rewrote it (or set $du by PV).
    return this.fork(ctx, t, opts, ctx.ruriIsNew);
  }

  /** CANCEL for a known INVITE: 200 to the CANCEL, hop-by-hop CANCELs downstream (16.10). */
  private relayCancel(ctx: MsgContext, inv: TableEntry): number {
    const st = tmState(ctx);
    if (!st.t) {
      const r = this.newTran(ctx);
      if (r === 0) return 1;
      if (r < 0) return r;
    }
    const ct = st.t!;
    if (inv instanceof SettledTransaction) {
      // Its branches all have their final reply: nothing to cancel.
      ct.replyLocal(200, inv.branchCount === 0 ? 'canceling' : 'cancel done');
      return 1;
    }
    const anyPending = inv.branches.some((b) => b.pending);
    ct.replyLocal(200, anyPending || inv.branches.length === 0 ? 'canceling' : 'cancel done');
    let reason = '';
    if (!st.noE2eCancelReason) for (const r of ctx.msg.headers('reason')) reason += `Reason: ${r}\r\n`;
    inv.cancelAll(reason);
    return 1;
  }

  private forwardAckStateless(ctx: MsgContext, opts: RelayOptions): Maybe<number> {
    if (opts.address) {
      const uri = `sip:${opts.address.includes(':') ? `[${opts.address}]` : opts.address}:${opts.port ?? 5060}${opts.proto ? `;transport=${opts.proto}` : ''}`;
      return ctx.proxy.forward(ctx, uri);
    }
    return ctx.proxy.forward(ctx);
  }

  /** t_reply: a local reply within the transaction (creating none). */
  reply(ctx: MsgContext, code: number, reason: string): number {
    const t = this.current(ctx);
    if (!t) return -1;
    if (ctx.msg.isRequest && ctx.msg.method === 'ACK' && ctx.route === 'request') return -1;
    const ok = t.replyLocal(code, reason, ctx.replyHeaders || undefined, ctx.replyBody);
    if (ok) {
      ctx.replied = true;
      this.stats.localReplies++;
      if (code >= 200) for (const b of t.branches) t.cancelBranch(b);
    }
    return ok ? 1 : -1;
  }

  /** tm's t_lookup_callid: the INVITE transaction (or settled record) with this Call-ID and CSeq number. */
  findInvite(callId: string, cseq: string): TableEntry | undefined {
    const n = cseq.trim();
    for (const t of this.table.values()) {
      if (!t.isInvite) continue;
      if (t instanceof SettledTransaction) {
        if (t.callId === callId && String(t.cseq) === n) return t;
        continue;
      }
      if (t.finished) continue;
      const r = t.request;
      if (r.callId === callId && String(r.cseq.seq) === n) return t;
    }
    return undefined;
  }

  /** The last status of the settled transaction this request retransmits; 0 when none. */
  settledStatus(msg: SipMessage): number {
    if (!msg.isRequest) return 0;
    const e = this.find(msg);
    return e instanceof SettledTransaction ? e.lastStatus : 0;
  }

  /** The last status sent upstream for the message's transaction, settled ones included; 0 when none. */
  lastStatus(ctx: MsgContext): number {
    const t = this.current(ctx);
    return t ? t.server.lastStatus : this.settledStatus(ctx.msg);
  }

  /** t_retransmit_reply / t_precheck_trans on a settled transaction's record: its last reply again. */
  resendSettled(msg: SipMessage): boolean {
    const e = this.find(msg);
    if (!(e instanceof SettledTransaction)) return false;
    e.onRetransmission();
    return true;
  }

  /** t_send_reply: t_newtran when needed, then t_reply. */
  sendReply(ctx: MsgContext, code: number, reason: string): number {
    if (!this.current(ctx)) {
      const r = this.newTran(ctx);
      if (r === 0) return 0;
      if (r < 0 && r !== -10) return r;
    }
    return this.reply(ctx, code, reason);
  }

  /**
   * t_suspend (tm's t_suspend.c): the transaction (created when the request has none, as
   * t_newtran) waits for t_continue. As Kamailio's blind branch, an fr_timer runs meanwhile and
   * answers 408 when nobody continued it. 1 suspended, -1 otherwise.
   */
  suspend(ctx: MsgContext): number {
    if (!ctx.msg.isRequest || ctx.msg.method === 'ACK') return -1;
    let t = this.current(ctx);
    if (!t) {
      if (ctx.route !== 'request') return -1;
      if (this.newTran(ctx) !== 1) return -1;
      t = tmState(ctx).t!;
    }
    if (t.suspended || t.finalSent || t.finished) return -1;
    // As tm's t_suspend: an INVITE gets its 100 now, processing will take a while.
    const auto100 = tmState(ctx).autoInv100 ?? this.cfg.auto_inv_100;
    if (t.isInvite && auto100 && t.server.lastStatus === 0) t.replyLocal(100, this.cfg.auto_inv_100_reason);
    t.suspended = true;
    t.blindBranches++;
    this.suspendedById.set(`${t.index}:${t.label}`, t);
    const tx = t;
    t.suspendTimer = this.timers.schedule(t.fr, () => {
      tx.suspendTimer = null;
      if (!tx.suspended) return;
      this.unsuspend(tx);
      this.stats.timedOut++;
      if (!tx.finalSent && tx.branches.every((b) => !b.pending)) tx.suspendTimedOut(this.cfg.reply_408_reason);
    });
    return 1;
  }

  /** $T(id_index) / $T(id_label) of the current transaction, or null without one. */
  ident(ctx: MsgContext): { index: number; label: number } | null {
    const t = this.current(ctx);
    return t ? { index: t.index, label: t.label } : null;
  }

  private unsuspend(t: ProxyTransaction): void {
    t.suspended = false;
    this.suspendedById.delete(`${t.index}:${t.label}`);
    this.timers.cancel(t.suspendTimer);
    t.suspendTimer = null;
  }

  /**
   * t_continue(tindex, tlabel, fn): runs the script function `fn` on the suspended transaction's
   * request (a failure-route-like context where t_relay and t_reply act on that transaction).
   * When the function leaves it with neither a final reply nor a pending branch, it is answered
   * 500 as Kamailio's kill_transaction. -1 when no such suspended transaction exists. `setup`
   * prepares the context first (http_async_client's reply).
   */
  resume(index: number, label: number, fn: string, setup?: (ctx: MsgContext) => void): Maybe<number> {
    const t = this.suspendedById.get(`${index}:${label}`);
    if (!t || t.finished || !t.suspended) return -1;
    this.unsuspend(t);
    // Canceled meanwhile (answered 487): as Kamailio, nothing left to continue; not an error.
    if (t.canceled) return 1;
    const ctx = t.resumeContext();
    setup?.(ctx);
    const settle = (o: RunOutcome): number => {
      t.flags = ctx.flags;
      if (o.status === 'error') this.core.callbackFailed(ctx, o);
      if (!t.finalSent && !t.finished && t.branches.every((b) => !b.pending)) {
        t.replyLocal(500, "I'm terribly sorry, server error occurred (1/TM)");
        this.stats.localReplies++;
      }
      return 1;
    };
    let out: RunOutcome | Promise<RunOutcome>;
    try {
      out = this.core.runCallback(t.script, fn, ctx);
    } catch (e) {
      out = { status: 'error', error: { message: e instanceof Error ? e.message : String(e) } };
    }
    return out instanceof Promise ? out.then(settle, (e: unknown) => settle({ status: 'error', error: { message: String(e) } })) : settle(out);
  }

  /** t_release: stop keeping state for the transaction of this request. */
  release(ctx: MsgContext): number {
    const st = tmState(ctx);
    const t = st.t;
    if (!t || ctx.route !== 'request') return -1;
    this.forget(t.key);
    st.t = null;
    return 1;
  }

  /**
   * After the request route (Kamailio's post-script t_unref): a transaction the script created but
   * neither relayed nor answered is dropped, so it cannot linger until its lifetime ends.
   */
  afterRequestRoute(ctx: MsgContext): void {
    const t = peekTmState(ctx)?.t;
    if (!t || t.finished || t.suspended) return;
    if (t.branches.length === 0 && t.server.lastStatus === 0) t.kill();
  }

  // ---- replies ---------------------------------------------------------------------------------

  private matchReply(msg: SipMessage): ClientBranch | undefined {
    let via;
    try {
      via = msg.topVia;
    } catch {
      return undefined;
    }
    const branch = via.branch;
    if (!branch) return undefined;
    return this.clients.get(clientKey(branch, msg.cseq.method));
  }

  /**
   * A reply from downstream (after the core reply route). True when it matched a transaction and
   * tm took it; false: the core relays it statelessly by Via.
   */
  onReply(ctx: MsgContext): boolean {
    const msg = ctx.msg;
    const b = this.matchReply(msg);
    if (!b) {
      let key: string | undefined;
      try {
        key = msg.topVia.branch;
      } catch {
        return false;
      }
      if (key === undefined) return false;
      // A final reply again on a settled transaction's completed client transaction: absorbed.
      const rec = this.settledClients.size > 0 ? this.settledClients.get(key) : undefined;
      if (rec && rec.absorbs(msg.cseq.method)) return true;
      if (msg.status >= 200 && msg.status < 300) return false;
      return msg.cseq.method === 'INVITE' && this.wasAccepted(key);
    }
    const t = b.t;
    if (msg.cseq.method === 'CANCEL') {
      // Replies to our hop-by-hop CANCEL end there.
      const ct = b.cancelTxn;
      if (ct) ct.onReply(msg.status);
      return true;
    }
    t.onBranchReply(b, msg, ctx);
    return true;
  }

  // ---- script helpers --------------------------------------------------------------------------

  /** t_cancel_branches("all" | "others" | "this") from an onreply route. */
  cancelBranches(ctx: MsgContext, which: string): number {
    const st = tmState(ctx);
    const t = st.t;
    if (!t) return -1;
    for (const b of t.branches) {
      if (which === 'this' && b !== st.branch) continue;
      if (which === 'others' && b === st.branch) continue;
      t.cancelBranch(b);
    }
    return 1;
  }

  /** Stored reply state for checks in failure/branch-failure routes. */
  branchOf(ctx: MsgContext): ClientBranch | null {
    return tmState(ctx).branch;
  }

  /** Where a reply for `rcv` goes: used by statistics and tests. */
  receiveInfo(t: ProxyTransaction): ReceiveInfo {
    return t.rcv;
  }
}

/** tm's hash index of a transaction (0..65535) from its Call-ID and CSeq number. */
function hashIndex(callId: string, cseq: string): number {
  let h = 0;
  const s = callId + cseq;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h & 0xffff;
}
