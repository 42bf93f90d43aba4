/**
 * A stateful proxy transaction (Kamailio's tm "cell"; RFC 3261 16.6-16.10): one server transaction
 * upstream, one client transaction per branch downstream, the reply context that picks the best
 * final reply (16.7), and the script callbacks tm runs (branch, onreply, branch-failure, failure).
 */
import { MsgContext, inheritModuleData, type ContextOrigin, type PvValue, type ReceiveInfo, type SendFlags } from '../context/msg-context.js';
import { SipMessage, buildReply } from '../sip/index.js';
import type { SendTarget } from '../transport/types.js';
import { tlsServerName } from '../transport/dns.js';
import type { RouteScript, RunOutcome } from '../context/msg-context.js';
import { newBranch } from '../sip/branch.js';
import { replyVia1 } from '../sip/reply-via.js';
import type { TmConfig } from './config.js';
import type { TimerHandle, TimerQueue } from './timer-queue.js';
import type { TmCore } from './tm-core.js';
import type { SettledFacts } from './settled-transaction.js';
import { detached } from '../lib/detach.js';
import { replyPriority } from './priority.js';
import {
  InviteServerTransaction,
  NonInviteServerTransaction,
  type AnyServerTransaction,
  type ServerTransactionHost,
} from './server-transaction.js';
import {
  InviteClientTransaction,
  NonInviteClientTransaction,
  type AnyClientTransaction,
  type ClientTransactionHost,
  type ClientTransactionUser,
} from './client-transaction.js';

/** What the transaction layer provides to a transaction (tables, timers, stats). */
export interface TransactionOwner extends ClientTransactionHost {
  readonly core: TmCore;
  readonly timers: TimerQueue;
  readonly cfg: TmConfig;
  registerClient(key: string, branch: ClientBranch): void;
  unregisterClient(key: string): void;
  /** An INVITE branch (by its id) answered 2xx: late provisionals on it are absorbed for wait_timer. */
  rememberAccepted(branchId: string): void;
  transactionDone(t: ProxyTransaction): void;
  /**
   * The transaction settled and stopped its timers: a record with `facts` takes its place in the
   * table until `facts.at` (the last of its timers), and the transaction itself goes.
   */
  transactionSettled(t: ProxyTransaction, facts: SettledFacts): void;
  countTimeout(): void;
  /** Modules' tm callbacks (acc): the transaction reports its events here. */
  readonly events: TransactionEvents;
}

export interface TmReplyEvent {
  readonly t: ProxyTransaction;
  readonly code: number;
  readonly reason: string;
  /** The received reply relayed upstream; null when tm generated it (Kamailio's FAKED_REPLY). */
  readonly reply: SipMessage | null;
  /** The branch whose reply this is (relayed, or picked for a final >= 300); null otherwise. */
  readonly branch: ClientBranch | null;
}

export interface TmCallbacks {
  requestIn?(t: ProxyTransaction, ctx: MsgContext): void;
  onFailure?(e: TmReplyEvent): void;
  responseOut?(e: TmReplyEvent): void;
}

/** Where a transaction reports to the modules' callbacks (TmCallbackList implements it). */
export interface TransactionEvents {
  /** False when no module listens: the reply path skips building events. */
  readonly active: boolean;
  requestIn(t: ProxyTransaction, ctx: MsgContext): void;
  onFailure(e: TmReplyEvent): void;
  responseOut(e: TmReplyEvent): void;
}

/**
 * The tm part of a message context: the transaction the message belongs to and the callbacks
 * armed with t_on_* before the transaction exists (Kamailio keeps them in globals until t_newtran).
 */
export interface TmMsgState {
  /** tm's state belongs to one context: a derived context starts its own. */
  inherit(): undefined;
  t: ProxyTransaction | null;
  onBranch: string;
  onReply: string;
  onFailure: string;
  onBranchFailure: string;
  /** t_set_fr values waiting for the transaction (ms; 0 = module default). */
  frInv: number;
  fr: number;
  /** The reply being processed (onreply) or the winning reply (failure route); $T_rpl. */
  reply: SipMessage | null;
  /** $T_reply_code: status of that reply (faked ones included). */
  replyCode: number;
  /** The branch a branch / onreply / branch-failure route runs for. */
  branch: ClientBranch | null;
  /** t_set_retr (T1, T2) and t_set_max_lifetime (INVITE, non-INVITE) values waiting for the transaction (ms). */
  retr?: { t1: number; t2: number };
  lifetime?: { inv: number; nonInv: number };
  /** Per-transaction switches (t_set_auto_inv_100 and friends); undefined = module default. */
  autoInv100?: boolean;
  disable6xx?: boolean;
  disableInternalReply?: boolean;
  noE2eCancelReason?: boolean;
}

const KEY = 'tm';
const notInherited = (): undefined => undefined;

export function tmState(ctx: MsgContext): TmMsgState {
  let st = ctx.moduleData.get(KEY) as TmMsgState | undefined;
  if (!st) {
    st = { inherit: notInherited, t: null, onBranch: '', onReply: '', onFailure: '', onBranchFailure: '', frInv: 0, fr: 0, reply: null, replyCode: 0, branch: null };
    ctx.moduleData.set(KEY, st);
  }
  return st;
}

/** The tm state without creating one (cheap check on paths that never used tm). */
export function peekTmState(ctx: MsgContext): TmMsgState | undefined {
  return ctx.moduleData.get(KEY) as TmMsgState | undefined;
}

/**
 * A CANCEL or hop-by-hop ACK from the branch's INVITE as sent, as Kamailio's build_local_reparse
 * (tm's default reparse_invite): the request line with the new method, then the INVITE's own
 * header lines in their order, keeping the first Via, From, Call-ID, To (the reply's To line for
 * an ACK), CSeq (method replaced), Route and Max-Forwards, and Content-Length as `<name>: 0`
 * (only when the INVITE had one); `reason` lines go last.
 */
function buildFromInvite(out: Buffer, inv: SipMessage, method: 'CANCEL' | 'ACK', toLine: string | null, reason: string): Buffer {
  let text = `${method} ${inv.originalRuri} SIP/2.0\r\n`;
  let firstVia = true;
  for (const f of inv.headerFields) {
    const line = out.toString('latin1', f.start, f.end);
    switch (f.lname) {
      case 'via':
        // Ours, on a line of its own (we always insert our Via as a separate header).
        if (firstVia) text += line;
        firstVia = false;
        break;
      case 'cseq':
        text += `${f.name}: ${inv.cseq.seq} ${method}\r\n`;
        break;
      case 'to':
        text += toLine ?? line;
        break;
      case 'from':
      case 'call-id':
      case 'route':
      case 'max-forwards':
        text += line;
        break;
      case 'content-length':
        text += `${f.name}: 0\r\n`;
        break;
      default:
        break;
    }
  }
  return Buffer.from(text + reason + '\r\n', 'latin1');
}

/** A destination to fork to (the R-URI branch or an appended one). */
export interface BranchSpec {
  uri: string;
  dstUri: string | null;
  flags: number;
  /** The message to send for this branch (edits of the request route included). */
  msg: SipMessage;
  /** Transport forced by t_relay_to_proto / t_relay_to_proxy. */
  forceTarget?: { proto?: SendTarget['proto']; address?: string; port?: number };
}

type Maybe<T> = T | Promise<T>;

const isPromise = <T>(v: Maybe<T>): v is Promise<T> => v instanceof Promise;

/** One downstream branch: its request as sent, its client transaction and its outcome. */
export class ClientBranch implements ClientTransactionUser {
  txn: AnyClientTransaction | null = null;
  cancelTxn: NonInviteClientTransaction | null = null;
  /** Final status of the branch (0 while pending); faked for timeouts and send failures. */
  finalCode = 0;
  reply: SipMessage | null = null;
  faked = false;
  timedOut = false;
  /** Any reply (provisional included) came. */
  replied = false;
  cancelPending = false;
  /** Reason header lines for our CANCEL of this branch, when not the received CANCEL's. */
  cancelReason?: string;
  /** Replies of this branch may no longer be picked (t_drop_replies, failure_reply_mode 3). */
  dropped = false;
  /** Send failed: closed as 408 but never the winner. */
  sendFailed = false;
  private outParsed: SipMessage | null = null;
  /** The request as sent; null once released (settled, its client transaction over). */
  private sent: Buffer | null;
  /** Where the transaction layer finds this branch's replies (made once: set, then deleted). */
  readonly key: string;

  constructor(
    readonly t: ProxyTransaction,
    readonly index: number,
    readonly id: string,
    readonly uri: string,
    readonly dstUri: string | null,
    readonly flags: number,
    readonly onFailure: string,
    readonly onBranchFailure: string,
    readonly forkStep: number,
    readonly target: SendTarget,
    out: Buffer,
  ) {
    this.sent = out;
    this.key = clientKey(id, t.method);
  }

  /** The branch request as sent (CANCEL and ACK are built from it). */
  get out(): Buffer {
    if (!this.sent) throw new Error(`tm: branch ${this.id} was released, its request is gone`);
    return this.sent;
  }

  /** The branch request as sent, parsed on demand. */
  get outMsg(): SipMessage {
    this.outParsed ??= SipMessage.parse(this.out, { datagram: true });
    return this.outParsed;
  }

  get pending(): boolean {
    return this.finalCode === 0;
  }

  /**
   * The transaction only absorbs retransmissions now: the parsed reply and request copy go, and,
   * once its client transactions are over, those and the request's bytes too (nothing sends on
   * this branch again; each is an object, and the bytes hold a 64 KB Buffer pool block, that a
   * settled transaction would otherwise keep for wait_timer).
   */
  release(): void {
    this.reply = null;
    this.outParsed = null;
    this.releaseEnded();
  }

  /** Drops the client transactions once terminated, and the request's bytes with the last of them. */
  private releaseEnded(): void {
    if (this.txn?.state === 'terminated') this.txn = null;
    if (this.cancelTxn?.state === 'terminated') this.cancelTxn = null;
    if (!this.txn && !this.cancelTxn) this.sent = null;
  }

  onClientTimeout(): void {
    this.t.branchTimedOut(this);
  }

  onClientTerminated(): void {
    this.t.owner.unregisterClient(this.key);
    this.t.checkDone();
  }
}

export function clientKey(branchId: string, method: string): string {
  return `${branchId}\u0001${method}`;
}

export class ProxyTransaction implements ServerTransactionHost, ClientTransactionHost, ContextOrigin {
  readonly server: AnyServerTransaction;
  readonly isInvite: boolean;
  readonly method: string;
  /** Replaced by an exact-size copy when the transaction settles (see settle()). */
  branches: ClientBranch[] = [];
  /** The R-URI branch was forked by a t_relay of the request route. */
  uriUsed = false;
  canceled = false;
  /** A final reply went upstream (relayed or local). */
  finalSent = false;
  /** Message flags and AVPs of the request, shared with every callback of this transaction. */
  flags: number;
  /** $mi of the request that created the transaction (callbacks see the request's number). */
  readonly msgId: number;
  /** force_rport() was called before the transaction was created (its local replies fill rport). */
  readonly forceRport: boolean;
  /** t_set_disable_6xx: a 6xx does not cancel the other branches. */
  disable6xx = false;
  /** Replaced by empty ones when the transaction settles (see settle()). */
  avps: Map<string, PvValue[]>;
  xavps: MsgContext['xavps'];
  onReply: string;
  onFailure: string;
  onBranchFailure: string;
  fr: number;
  frInv: number;
  /** Index of the current serial fork step (each t_relay adds one). */
  forkStep = 0;
  inFailureRoute = false;
  /** Received CANCEL's Reason headers, copied onto our CANCELs. */
  cancelReason = '';
  /** Kamailio's tindex / tlabel ($T(id_index), $T(id_label)): t_continue finds the transaction by them. */
  index = 0;
  label = 0;
  /** t_suspend: waiting for t_continue; its timer answers 408 when nobody continues it in time. */
  suspended = false;
  suspendTimer: TimerHandle | null = null;
  /** Kamailio's blind UACs (one per t_suspend): they take branch indexes before the relayed branches. */
  blindBranches = 0;
  private lifetime: TimerHandle | null = null;
  private done = false;
  /**
   * When it was created, whole ms on the monotonic clock (t_is_expired): a small integer, where
   * Date.now() would be a heap number of its own on every transaction.
   */
  readonly createdAt = Math.trunc(performance.now());
  /** Module state of the request (record_route marks...), carried into failure-route branches. */
  moduleData = new Map<string, unknown>();
  /** The request's routing settings, for the contexts derived from the transaction. */
  readonly addLocalRport: boolean;
  readonly advertisedAddress: string | null;
  readonly advertisedPort: string | null;
  readonly sendFlags: SendFlags;
  readonly forcedSocket: string | null;

  constructor(
    readonly owner: TransactionOwner,
    readonly key: string,
    readonly request: SipMessage,
    readonly rcv: ReceiveInfo,
    readonly script: RouteScript,
    ctx: MsgContext,
  ) {
    this.method = request.method;
    this.isInvite = this.method === 'INVITE';
    this.server = this.isInvite ? new InviteServerTransaction(this, request, rcv) : new NonInviteServerTransaction(this, request, rcv);
    const st = tmState(ctx);
    this.flags = ctx.flags;
    this.msgId = ctx.msgId;
    this.forceRport = ctx.forceRport;
    this.addLocalRport = ctx.addLocalRport;
    this.advertisedAddress = ctx.advertisedAddress;
    this.advertisedPort = ctx.advertisedPort;
    this.sendFlags = sendFlagsOf(ctx.sendFlags);
    this.forcedSocket = ctx.forcedSocket;
    this.disable6xx = st.disable6xx ?? false;
    this.avps = ctx.avps;
    this.xavps = ctx.xavps;
    this.onReply = st.onReply;
    this.onFailure = st.onFailure;
    this.onBranchFailure = st.onBranchFailure;
    this.fr = st.fr || owner.cfg.fr_timer;
    this.frInv = st.frInv || owner.cfg.fr_inv_timer;
    inheritModuleData(ctx.moduleData, this.moduleData);
    if (st.retr) this.setRetr(st.retr.t1, st.retr.t2);
    this.scheduleLifetime(st.lifetime ? (this.isInvite ? st.lifetime.inv : st.lifetime.nonInv) : 0);
    if (this.owner.events.active) this.owner.events.requestIn(this, ctx);
  }

  /** The branch picked for a final reply >= 300 (Kamailio's t_get_picked_branch), else null. */
  picked: ClientBranch | null = null;

  get timers(): TimerQueue {
    return this.owner.timers;
  }

  /** The module's tm settings, with this transaction's t_set_retr values when it has some. */
  get cfg(): TmConfig {
    return this.cfgOverride ?? this.owner.cfg;
  }

  private cfgOverride: TmConfig | null = null;
  /**
   * ClientTransactionHost: its branches' client transactions send through the transaction layer,
   * with its timers and this transaction's settings (`cfg`, t_set_retr included).
   */
  send(target: SendTarget, data: Buffer): boolean {
    return this.owner.send(target, data);
  }

  /** t_set_retr: T1 and T2 for this transaction's retransmissions (0: the module's). */
  setRetr(t1: number, t2: number): void {
    const base = this.owner.cfg;
    this.cfgOverride = t1 || t2 ? { ...base, retr_timer1: t1 || base.retr_timer1, retr_timer2: t2 || base.retr_timer2 } : null;
  }

  /** t_set_max_lifetime: the transaction ends this long from now at the latest (0: the module's). */
  setMaxLifetime(ms: number): void {
    if (this.done || this.lifetime === null) return;
    this.timers.cancel(this.lifetime);
    this.scheduleLifetime(ms);
  }

  /** The end-of-life timer: `ms` from now, or the module's max_*_lifetime when 0. */
  private scheduleLifetime(ms: number): void {
    const cfg = this.owner.cfg;
    this.lifetime = this.timers.scheduleCall(ms || (this.isInvite ? cfg.max_inv_lifetime : cfg.max_noninv_lifetime), this, this.expire);
  }

  get core(): TmCore {
    return this.owner.core;
  }

  // ---- ServerTransactionHost -----------------------------------------------------------------

  sendUpstream(req: SipMessage, rcv: ReceiveInfo, reply: Buffer): boolean {
    return this.core.sendReplyTo(req, rcv, reply, false);
  }

  serverTerminated(): void {
    this.checkDone();
  }

  // ---- request side ------------------------------------------------------------------------

  /** Replies upstream with a locally generated reply (t_reply, 100 Trying, tm's error replies). */
  replyLocal(code: number, reason: string, extraHeaders?: string, body?: { body: Buffer; contentType: string } | null): boolean {
    if (this.server.state === 'terminated') return false;
    if (code >= 200 && this.finalSent && !(code < 300 && this.isInvite)) return false;
    const toTag = code > 100 ? this.core.tagFor(this.request) : undefined;
    const buf = buildReply(this.request, code, reason, {
      toTag, headers: extraHeaders || undefined, server: this.core.serverHeader, body: body?.body, contentType: body?.contentType,
      via1: replyVia1(this.request, this.rcv, this.forceRport),
    });
    if (code >= 200) this.finalSent = true;
    const sent = this.server.sendReply(code, buf);
    if (this.owner.events.active) this.owner.events.responseOut({ t: this, code, reason, reply: null, branch: code >= 300 ? this.picked : null });
    if (code >= 200) this.settleLater();
    return sent;
  }

  /**
   * Forks to the given destinations (t_relay). Runs the branch route per branch, sends each, and
   * returns how many went out (or a Promise of it when a branch route or DNS had to wait).
   */
  forward(ctx: MsgContext, specs: readonly BranchSpec[], onBranch: string): Maybe<number> {
    this.forkStep++;
    const step = this.forkStep;
    let sent = 0;
    const pending: Promise<boolean>[] = [];
    for (const spec of specs) {
      const r = this.forkOne(ctx, spec, onBranch, step);
      if (isPromise(r)) pending.push(r);
      else if (r) sent++;
    }
    if (pending.length === 0) return sent;
    return Promise.all(pending).then((rs) => sent + rs.filter(Boolean).length);
  }

  private forkOne(ctx: MsgContext, spec: BranchSpec, onBranch: string, step: number): Maybe<boolean> {
    const bctx = MsgContext.derive(ctx, spec.msg, this.rcv, ctx.proxy, 'branch');
    bctx.flags = this.flags;
    bctx.bflags = [spec.flags];
    bctx.dstUri = spec.dstUri;
    bctx.branchIndex = this.branches.length + this.blindBranches;
    if (spec.uri !== spec.msg.ruri) spec.msg.ruri = spec.uri;
    const bst = tmState(bctx);
    bst.t = this;
    if (!onBranch) return this.resolveAndSend(ctx, bctx, spec, step);
    const out = this.core.runCallback(this.script, onBranch, bctx);
    const after = (o: RunOutcome): Maybe<boolean> => {
      this.flags = bctx.flags;
      if (o.status === 'error') this.core.callbackFailed(bctx, o);
      if (bctx.drop) return false;
      return this.resolveAndSend(ctx, bctx, spec, step);
    };
    return isPromise(out) ? out.then(after) : after(out);
  }

  private resolveAndSend(ctx: MsgContext, bctx: MsgContext, spec: BranchSpec, step: number): Maybe<boolean> {
    const f = spec.forceTarget;
    if (f?.address) {
      return this.sendBranch(ctx, bctx, [{ proto: f.proto ?? 'udp', address: f.address, port: f.port ?? 5060 }], step);
    }
    const dest = bctx.dstUri || bctx.msg.ruri;
    const targets = this.core.resolveUri(dest);
    if (targets === null) return false;
    if (isPromise(targets)) {
      return targets.then(
        (t) => this.sendBranch(ctx, bctx, applyProto(t, f?.proto), step),
        () => false,
      );
    }
    return this.sendBranch(ctx, bctx, applyProto(targets, f?.proto), step);
  }

  private sendBranch(ctx: MsgContext, bctx: MsgContext, targets: readonly { proto: SendTarget['proto']; address: string; port: number }[], step: number): boolean {
    const t = targets[0];
    if (!t || this.done) return false;
    const sock = this.core.socketFor(t.proto, t.address, bctx.forcedSocket);
    if (!sock) return false;
    const id = newBranch();
    const buf = this.core.prepareOutgoing(ctx, bctx, bctx.msg, sock, id);
    if (!this.core.onSend(bctx, buf, { to: t, from: sock, buf })) return false;
    const target: SendTarget = {
      proto: t.proto,
      address: t.address,
      port: t.port,
      local: sock.id,
      noConnect: bctx.sendFlags.forwardNoConnect,
      closeAfter: bctx.sendFlags.forwardClose,
    };
    // TLS: the server's certificate must name the URI host (RFC 5922 7.2).
    if (t.proto === 'tls' || t.proto === 'wss') {
      const name = tlsServerName(bctx.dstUri || bctx.msg.ruri);
      if (name) target.serverName = name;
    }
    const branch = new ClientBranch(this, this.branches.length + this.blindBranches, id, bctx.msg.ruri, bctx.dstUri, bctx.bflags[0] ?? 0, this.onFailure, this.onBranchFailure, step, target, buf);
    this.branches.push(branch);
    const timers = { fr: this.fr, frInv: this.frInv };
    branch.txn = this.isInvite
      ? new InviteClientTransaction(this, branch, id, target, buf, timers)
      : new NonInviteClientTransaction(this, branch, id, target, buf, timers);
    this.owner.registerClient(branch.key, branch);
    if (!branch.txn.start()) {
      // Kamailio closes a branch it could not send as 408 but never picks it as the winner.
      branch.finalCode = 408;
      branch.faked = true;
      branch.sendFailed = true;
      return false;
    }
    return true;
  }

  // ---- CANCEL ------------------------------------------------------------------------------

  /** A CANCEL for this INVITE arrived (RFC 3261 16.10): cancel every pending branch. */
  cancelAll(reason: string): void {
    this.canceled = true;
    this.cancelReason = reason;
    if (this.branches.length === 0 && !this.finalSent) {
      this.replyLocal(487, 'Request Terminated');
      return;
    }
    for (const b of this.branches) this.cancelBranch(b);
  }

  /** CANCEL one pending branch now if it had a provisional reply, else when one arrives. */
  cancelBranch(b: ClientBranch, reason?: string): void {
    if (!this.isInvite || !b.pending || b.cancelTxn) return;
    if (reason !== undefined) b.cancelReason = reason;
    const txn = b.txn as InviteClientTransaction | null;
    if (txn && txn.proceeding) this.sendCancel(b);
    else b.cancelPending = true;
  }

  /**
   * Our CANCEL for one branch, built from the branch's INVITE as Kamailio's tm builds it, then
   * the Reason (the received CANCEL's, or RFC 3326's for a branch cancelled by a 2xx or 6xx
   * elsewhere).
   */
  private sendCancel(b: ClientBranch): void {
    if (b.cancelTxn) return;
    const buf = buildFromInvite(b.out, b.outMsg, 'CANCEL', null, b.cancelReason ?? this.cancelReason);
    const cancel = new NonInviteClientTransaction(this.owner, { onClientTimeout: () => undefined, onClientTerminated: () => this.owner.unregisterClient(clientKey(b.id, 'CANCEL')) }, b.id, b.target, buf, { fr: this.fr, frInv: this.fr });
    b.cancelTxn = cancel;
    b.cancelPending = false;
    this.owner.registerClient(clientKey(b.id, 'CANCEL'), b);
    cancel.start();
  }

  /** Hop-by-hop ACK for a negative final reply to one of our INVITE branches (17.1.1.3). */
  private buildAck(b: ClientBranch, reply: SipMessage): Buffer {
    const to = reply.headerField('to');
    const toLine = to ? reply.buf.toString('latin1', to.start, to.end) : null;
    return buildFromInvite(b.out, b.outMsg, 'ACK', toLine, '');
  }

  // ---- reply side ----------------------------------------------------------------------------

  /** A reply matched to branch `b` (RFC 3261 16.7). */
  onBranchReply(b: ClientBranch, reply: SipMessage, rctx: MsgContext): void {
    const code = reply.status;
    const txn = b.txn;
    if (!txn) return;
    const go = txn instanceof InviteClientTransaction ? txn.onReply(code, () => this.buildAck(b, reply)) : txn.onReply(code);
    // A branch's final reply after ours went upstream (487 to our CANCEL) may settle it.
    if (this.finalSent) this.settleLater();
    if (!go) return;
    b.replied = true;
    if (code < 200 && b.cancelPending) this.sendCancel(b);
    const late = !b.pending; // a 2xx on a branch already final
    if (this.onReply) {
      // The reply with the transaction's flags and AVPs; $mi stays the reply's own.
      const octx = MsgContext.derive(this, reply, rctx.rcv, rctx.proxy, 'onreply', { moduleData: false });
      octx.msgId = rctx.msgId;
      octx.branchIndex = b.index;
      const st = tmState(octx);
      st.t = this;
      st.branch = b;
      st.reply = reply;
      st.replyCode = code;
      const out = this.core.runCallback(this.script, this.onReply, octx);
      const after = (o: RunOutcome): void => {
        this.flags = octx.flags;
        if (o.status === 'error') this.core.callbackFailed(octx, o);
        this.afterOnReply(b, reply, octx.drop, late);
      };
      if (isPromise(out)) out.then(after);
      else after(out);
      return;
    }
    this.afterOnReply(b, reply, false, late);
  }

  private afterOnReply(b: ClientBranch, reply: SipMessage, dropped: boolean, late: boolean): void {
    const code = reply.status;
    if (code < 200) {
      // 100 is hop by hop; other provisionals go up at once unless dropped or already answered.
      if (code === 100 || dropped || this.finalSent) return;
      this.relayUpstream(reply, code, '', b);
      return;
    }
    if (code < 300) {
      if (this.isInvite) this.owner.rememberAccepted(b.id);
      if (!late) {
        b.finalCode = code;
        b.reply = reply;
      }
      this.finalSent = true;
      this.relayUpstream(reply, code, '', b);
      if (this.isInvite) for (const o of this.branches) if (o !== b) this.cancelBranch(o, 'Reason: SIP;cause=200;text="Call completed elsewhere"\r\n');
      return;
    }
    if (late) return;
    b.finalCode = code;
    b.reply = reply;
    this.branchFinal(b);
    // A 6xx ends the other branches, unless t_set_disable_6xx(1) asked tm to treat it like any
    // other negative reply.
    if (code >= 600 && this.isInvite && !this.disable6xx) for (const o of this.branches) if (o !== b) this.cancelBranch(o, `Reason: SIP;cause=${code};text="${reply.reason}"\r\n`);
    this.maybeComplete();
  }

  /** The FR timer of a branch fired: a faked 408 (CANCEL too, when the INVITE had a provisional). */
  branchTimedOut(b: ClientBranch): void {
    if (!b.pending) return;
    this.owner.countTimeout();
    b.timedOut = true;
    b.faked = true;
    b.finalCode = 408;
    const txn = b.txn;
    if (txn instanceof InviteClientTransaction && txn.proceeding) this.sendCancel(b);
    txn?.terminate();
    this.branchFinal(b);
    this.maybeComplete();
  }

  /** The connection a branch was sent on closed before its final reply: a faked 503 (transport error). */
  branchConnectionLost(b: ClientBranch): void {
    if (!b.pending) return;
    b.faked = true;
    b.finalCode = 503;
    b.txn?.terminate();
    this.branchFinal(b);
    this.maybeComplete();
  }

  /** Runs the branch-failure route for a branch that ended >= 300, if one was armed. */
  private branchFinal(b: ClientBranch): void {
    if (!b.onBranchFailure || b.sendFailed) return;
    const ctx = this.callbackContext('branch_failure', b);
    const out = this.core.runCallback(this.script, b.onBranchFailure, ctx);
    const after = (o: RunOutcome): void => {
      this.flags = ctx.flags;
      if (o.status === 'error') this.core.callbackFailed(ctx, o);
    };
    // A suspended branch-failure route does not hold the reply decision back.
    if (isPromise(out)) void out.then(after);
    else after(out);
  }

  /** A context on a copy of the stored request, as Kamailio's faked request for callbacks. */
  private callbackContext(route: MsgContext['route'], b: ClientBranch | null): MsgContext {
    const ctx = MsgContext.derive(this, this.request.clone(), this.rcv, this.coreServices(), route);
    if (b) {
      ctx.bflags = [b.flags];
      ctx.branchIndex = b.index;
    }
    const st = tmState(ctx);
    st.t = this;
    st.branch = b;
    st.reply = b?.reply ?? null;
    st.replyCode = b?.finalCode ?? 0;
    return ctx;
  }

  /**
   * A suspended transaction nobody continued in time (Kamailio's blind UAC's fr timer): a faked
   * 408 on the blind branch, the failure route armed before t_suspend runs on it, and the 408 goes
   * upstream unless that route answered or relayed.
   */
  suspendTimedOut(reason: string): void {
    if (this.finalSent || this.done) return;
    if (!this.onFailure) {
      this.replyLocal(408, reason);
      return;
    }
    const blind = new ClientBranch(this, this.blindBranches - 1, '', this.request.ruri, null, 0, this.onFailure, '', this.forkStep,
      { proto: this.rcv.proto, address: this.rcv.srcAddress, port: this.rcv.srcPort }, Buffer.alloc(0));
    blind.finalCode = 408;
    blind.faked = true;
    blind.timedOut = true;
    this.picked = blind;
    this.runFailureRoute(blind);
  }

  /**
   * A context on a copy of the stored request with the transaction's flags, its R-URI set to the
   * branch's URI when one is given (what Kamailio's tm callbacks see: t->uas.request with
   * new_uri = uac[branch].uri).
   */
  /**
   * The context t_continue runs its route with: a copy of the stored request as in the failure
   * route (Kamailio's faked request), its R-URI not yet used, so t_relay forwards it.
   */
  resumeContext(): MsgContext {
    return this.callbackContext('failure', null);
  }

  requestContext(b: ClientBranch | null): MsgContext {
    const ctx = this.callbackContext('event', null);
    if (b) ctx.msg.ruri = b.uri;
    return ctx;
  }

  private services: MsgContext['proxy'] | null = null;

  /** ProxyServices for callback contexts: the ones of the request that created the transaction. */
  setServices(p: MsgContext['proxy']): void {
    this.services = p;
  }

  private coreServices(): MsgContext['proxy'] {
    if (!this.services) throw new Error('tm: transaction has no proxy services');
    return this.services;
  }

  /** When every branch is final: pick the best, run the failure route, relay the answer. */
  maybeComplete(): void {
    if (this.finalSent || this.inFailureRoute || this.done) return;
    for (const b of this.branches) if (b.pending) return;
    const winner = this.pickBranch();
    if (!winner) {
      this.replyLocal(500, 'No Branch Reply');
      return;
    }
    this.picked = winner;
    if (this.owner.events.active) {
      this.owner.events.onFailure({ t: this, code: winner.finalCode, reason: winner.reply?.reason ?? '', reply: winner.faked ? null : winner.reply, branch: winner });
    }
    if (winner.onFailure) {
      this.runFailureRoute(winner);
      return;
    }
    this.relayWinner(winner);
  }

  private runFailureRoute(winner: ClientBranch): void {
    const ctx = this.callbackContext('failure', winner);
    ctx.consumeRuri();
    const before = this.branches.length;
    this.inFailureRoute = true;
    // The route must re-arm t_on_failure for a further serial step.
    this.onFailure = '';
    const out = this.core.runCallback(this.script, winner.onFailure, ctx);
    const after = (o: RunOutcome): void => {
      this.inFailureRoute = false;
      this.flags = ctx.flags;
      if (o.status === 'error') this.core.callbackFailed(ctx, o);
      if (this.finalSent) return; // t_reply in the failure route answered
      const added = this.branches.slice(before).some((b) => b.pending);
      if (added) {
        // failure_reply_mode 3: replies of earlier steps are no longer candidates.
        for (const b of this.branches.slice(0, before)) b.dropped = true;
        return;
      }
      this.relayWinner(winner);
    };
    if (isPromise(out)) out.then(after);
    else after(out);
  }

  /** Lowest priority wins, ties to the lowest branch index; send failures and dropped never win. */
  pickBranch(): ClientBranch | undefined {
    let best: ClientBranch | undefined;
    let bestPrio = Infinity;
    for (const b of this.branches) {
      if (b.sendFailed || b.dropped || b.pending) continue;
      const p = replyPriority(b.finalCode);
      if (p < bestPrio) {
        best = b;
        bestPrio = p;
      }
    }
    return best;
  }

  private relayWinner(w: ClientBranch): void {
    if (w.faked || !w.reply) {
      if (this.canceled) this.replyLocal(487, 'Request Terminated');
      else this.replyLocal(w.finalCode, w.finalCode === 408 ? this.cfg.reply_408_reason : w.finalCode === 503 ? 'Service Unavailable' : 'Server Internal Error');
      return;
    }
    let code = w.finalCode;
    let extra = '';
    if (code === 401 || code === 407) extra = this.aggregatedChallenges(w);
    if (code === 503 && this.cfg.remap_503_500) code = 500;
    this.relayUpstream(w.reply, code, extra, w);
  }

  /** 16.7 step 7: every WWW-/Proxy-Authenticate of the other 401/407 branches joins the winner. */
  private aggregatedChallenges(w: ClientBranch): string {
    let extra = '';
    for (const b of this.branches) {
      if (b === w || !b.reply || b.dropped || (b.finalCode !== 401 && b.finalCode !== 407)) continue;
      for (const v of b.reply.headers('www-authenticate')) extra += `WWW-Authenticate: ${v}\r\n`;
      for (const v of b.reply.headers('proxy-authenticate')) extra += `Proxy-Authenticate: ${v}\r\n`;
    }
    return extra;
  }

  /** Sends a received reply upstream without our Via (status remapped when asked). */
  relayUpstream(reply: SipMessage, code: number, extraHeaders = '', branch: ClientBranch | null = null): void {
    const out = reply.clone();
    out.removeTopVia();
    if (extraHeaders) out.appendHeader(extraHeaders);
    let buf = out.serialize({ stream: this.rcv.proto !== 'udp' });
    if (code !== reply.status) buf = rewriteStatus(buf, code);
    if (code >= 200) this.finalSent = true;
    this.server.sendReply(code, buf);
    if (this.owner.events.active) this.owner.events.responseOut({ t: this, code, reason: reply.reason, reply, branch });
    if (code >= 200) this.settleLater();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Ends the transaction once the server side and every client transaction are done. */
  checkDone(): void {
    if (this.done) return;
    if (this.server.state !== 'terminated') {
      if (this.finalSent) this.settleLater();
      return;
    }
    for (const b of this.branches) {
      if (b.txn && b.txn.state !== 'terminated') return;
      if (b.cancelTxn && b.cancelTxn.state !== 'terminated') return;
    }
    this.finish();
  }

  /** max_*_lifetime passed: stop everything. */
  private expire(): void {
    this.lifetime = null;
    this.kill();
  }

  /** Ends the transaction now: every timer stopped, tables cleaned, nothing more sent. */
  kill(): void {
    if (this.done) return;
    for (const b of this.branches) {
      b.txn?.terminate();
      b.cancelTxn?.terminate();
    }
    this.server.kill();
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.timers.cancel(this.lifetime);
    this.timers.cancel(this.suspendTimer);
    this.suspendTimer = null;
    for (const b of this.branches) {
      this.owner.unregisterClient(b.key);
      if (b.cancelTxn) this.owner.unregisterClient(clientKey(b.id, 'CANCEL'));
    }
    this.owner.transactionDone(this);
  }

  get finished(): boolean {
    return this.done;
  }

  private settled = false;
  private settleQueued = false;

  /**
   * Checks, once the code running now (the route that sent the final reply, a reply's handling)
   * is over, whether the transaction can settle.
   */
  private settleLater(): void {
    if (this.settled || this.settleQueued) return;
    this.settleQueued = true;
    ProxyTransaction.settleQueue.push(this);
    queueMicrotask(ProxyTransaction.settleNext);
  }

  /**
   * Transactions whose settleLater microtask is queued, in the order it was: microtasks run in
   * order, so each settleNext takes the transaction queued with it. One function for all instead
   * of a closure per call: a closure made per call has no instance alive at a mark-compact, which
   * drops its optimized code, and it was compiled again after each.
   */
  private static readonly settleQueue: ProxyTransaction[] = [];
  private static settleNext(this: void): void {
    const t = ProxyTransaction.settleQueue.shift()!;
    t.settleQueued = false;
    t.settle();
  }

  /**
   * Issue 17 (memory): a transaction whose final reply went upstream and whose client transactions
   * all have their final reply waits for its timers only to absorb retransmissions (the server
   * side resends its last reply, a completed INVITE client resends its ACK). No route or module
   * callback can run for it any more, so what they needed goes: the branches' parsed replies, their
   * ended client transactions and request copies, the AVPs and module state, the request's parse
   * and edits. What stays is the request's bytes (the reply goes where its Via says; CANCEL and
   * t_lookup_callid match it), the key, and the bytes of the last reply and ACK. Issue 14: the
   * mark-compact marks every object a settled transaction keeps, about 20000 of them at 2000
   * calls/s; fewer objects each, shorter pauses.
   */
  private settle(): void {
    if (this.settled || this.done || !this.finalSent || this.inFailureRoute || this.suspended) return;
    const s = this.server.state;
    if (s === 'trying' || s === 'proceeding') return;
    for (const b of this.branches) {
      if (b.txn && b.txn.state !== 'completed' && b.txn.state !== 'terminated') return;
      if (b.cancelTxn && b.cancelTxn.state !== 'completed' && b.cancelTxn.state !== 'terminated') return;
    }
    this.settled = true;
    // The server and client timers end it now: as in Kamailio (tm README, max_inv_lifetime), the
    // lifetime does not cut the wait state short; one timer entry fewer to keep meanwhile.
    this.timers.cancel(this.lifetime);
    this.lifetime = null;
    if (this.replaceBySettled()) return;
    for (const b of this.branches) b.release();
    // The array's first push gave it room for 17: a copy holds just the branches.
    this.branches = this.branches.slice();
    this.request.retire();
    this.avps = SETTLED_AVPS;
    this.xavps = SETTLED_XAVPS;
    this.moduleData = SETTLED_MODULE_DATA;
  }

  /** settle(): a record takes this transaction's place; false when it must stay whole. */
  private replaceBySettled(): boolean {
    const r = recordFor(this);
    if (!r) return false;
    this.server.detach();
    for (const b of this.branches) {
      b.txn?.detach();
      b.cancelTxn?.detach();
      this.owner.unregisterClient(b.key);
      if (b.cancelTxn) this.owner.unregisterClient(clientKey(b.id, 'CANCEL'));
    }
    this.done = true;
    this.owner.transactionSettled(this, r);
    return true;
  }
}

/**
 * Hands the table a SettledTransaction in place of this one when a record can do what is left:
 * resend the final reply (2xx to an INVITE, any final to another method) and absorb final replies
 * retransmitted on completed non-INVITE branches. A negative reply to an INVITE waits for its ACK
 * (timers G, H, I) and its branches resend their ACKs (timer D): such a transaction stays whole.
 */
function recordFor(t: ProxyTransaction): SettledFacts | null {
  const server = t.server;
  const s = server.state;
  if (s !== 'terminated' && s !== (t.isInvite ? 'accepted' : 'completed')) return null;
  let at = server.endsAt;
  let clientIds: string | string[] | null = null;
  for (const b of t.branches) {
    const c = b.txn;
    let absorbing = false;
    if (c && c.state !== 'terminated') {
      if (c.state !== 'completed' || c instanceof InviteClientTransaction) return null;
      absorbing = true;
      at = Math.max(at, c.endsAt);
    }
    const x = b.cancelTxn;
    if (x && x.state !== 'terminated') {
      if (x.state !== 'completed') return null;
      absorbing = true;
      at = Math.max(at, x.endsAt);
    }
    if (absorbing) clientIds = withId(clientIds, b.id);
  }
  const req = t.request;
  return {
    key: t.key,
    isInvite: t.isInvite,
    replyTarget: t.core.replyTarget(req, t.rcv, false),
    lastReply: s === 'terminated' ? null : server.lastReply,
    lastStatus: server.lastStatus,
    flags: t.flags,
    branchCount: t.branches.length,
    // Detached: the record outlives the request's text, which these would otherwise hold.
    callId: t.isInvite ? detached(req.callId) : '',
    cseq: t.isInvite ? req.cseq.seq : 0,
    clientIds,
    at,
  };
}

/** `ids` and `id`: one id stays a string (most records absorb for one branch), more an array. */
function withId(ids: string | string[] | null, id: string): string | string[] {
  if (ids === null) return id;
  if (typeof ids === 'string') return [ids, id];
  ids.push(id);
  return ids;
}

/** Nothing set: what most transactions keep, one frozen object for all of them. */
const NO_SEND_FLAGS: SendFlags = Object.freeze({ forwardClose: false, forwardNoConnect: false, replyClose: false, replyNoConnect: false });

/** A transaction's copy of its request's send flags (contexts derived from it copy them again). */
function sendFlagsOf(f: SendFlags): SendFlags {
  return f.forwardClose || f.forwardNoConnect || f.replyClose || f.replyNoConnect ? { ...f } : NO_SEND_FLAGS;
}

/**
 * One empty map shared by every settled transaction, refusing writes: no route runs for a settled
 * transaction, so a write would be a defect (and would leak into every other one).
 */
class SettledMap<K, V> extends Map<K, V> {
  override set(key: K): this {
    throw new Error(`tm: write of ${String(key)} to a settled transaction`);
  }
  override delete(): boolean {
    return false;
  }
  override clear(): void {}
}
const SETTLED_AVPS = new SettledMap<string, PvValue[]>();
const SETTLED_XAVPS: MsgContext['xavps'] = new SettledMap();
const SETTLED_MODULE_DATA = new SettledMap<string, unknown>();

function applyProto<T extends { proto: SendTarget['proto'] }>(targets: readonly T[], proto: SendTarget['proto'] | undefined): readonly T[] {
  if (!proto) return targets;
  return targets.map((t) => ({ ...t, proto }));
}

/** Replaces the status code of a serialized reply's start line (503 -> 500 remapping). */
function rewriteStatus(buf: Buffer, code: number): Buffer {
  // "SIP/2.0 503 ..." : the code sits at bytes 8..10.
  const copy = Buffer.from(buf);
  copy.write(String(code).padStart(3, '0'), 8, 'latin1');
  return copy;
}
