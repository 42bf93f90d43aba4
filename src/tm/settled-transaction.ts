/**
 * What the transaction table keeps of a transaction once it has settled: its final reply went
 * upstream, every client transaction has its final reply, and it waits out wait_timer (or timer
 * J, and its completed non-INVITE branches' timer K) only to absorb retransmissions. No route or
 * module callback runs for it any more.
 *
 * Issue 14: at 2000 calls/s about 20000 transactions wait so, and V8's mark-compact marks all they
 * keep. A ProxyTransaction with its request, branches and client and server transactions is about
 * 17 objects; this record is a handful (itself, its reply target and timer, and the reply's bytes),
 * and the rest dies young (provided no old table keeps it: the layer's tables are SlotMaps). With
 * the records, p99 at 2000 calls/s on a pinned core went from 48 to 32 ms and the scavenges' time
 * down by 43% (README, Benchmarks).
 *
 * Readers on a retransmission's route that look for the message's transaction (current()) do not
 * see a record; those whose answer the wire shows are given it: send_reply and sl_reply_error
 * (no second final reply), $T_reply_code and t_check_status (the last status).
 */
import type { SendTarget } from '../transport/types.js';
import type { TimerHandle, TimerQueue } from './timer-queue.js';

/** What a settled transaction needs from the transaction layer. */
export interface SettledTransactionHost {
  readonly timers: TimerQueue;
  send(target: SendTarget, data: Buffer): boolean;
  /** Its last timer ran out: out of the table. */
  settledExpired(t: SettledTransaction): void;
}

export interface SettledFacts {
  key: string;
  isInvite: boolean;
  /** Where the request's replies went (computed once from its Via and receive info). */
  replyTarget: SendTarget;
  /** The last reply sent upstream, resent for each retransmission of the request. */
  lastReply: Buffer | null;
  /** Its status ($T_reply_code and t_check_status on a retransmission's route read it). */
  lastStatus: number;
  /** The transaction's message flags (t_lookup_cancel_flags copies them). */
  flags: number;
  /** How many branches it forked: a CANCEL after them is answered 'cancel done', else 'canceling'. */
  branchCount: number;
  /** INVITE: Call-ID and CSeq number, for t_lookup_callid; '' and 0 for other methods. */
  callId: string;
  cseq: number;
  /** Keys of completed client transactions whose final-reply retransmissions it absorbs. */
  clientKeys: readonly string[] | null;
}

export class SettledTransaction {
  readonly key: string;
  readonly isInvite: boolean;
  readonly lastStatus: number;
  readonly flags: number;
  readonly branchCount: number;
  readonly callId: string;
  readonly cseq: number;
  readonly clientKeys: readonly string[] | null;
  private readonly replyTarget: SendTarget;
  private readonly lastReply: Buffer | null;
  private timer: TimerHandle | null;

  constructor(
    private readonly host: SettledTransactionHost,
    f: SettledFacts,
    /** How long it is kept: until the last of the timers of the transaction it replaces. */
    ttl: number,
  ) {
    this.key = f.key;
    this.isInvite = f.isInvite;
    this.lastStatus = f.lastStatus;
    this.flags = f.flags;
    this.branchCount = f.branchCount;
    this.callId = f.callId;
    this.cseq = f.cseq;
    this.clientKeys = f.clientKeys;
    this.replyTarget = f.replyTarget;
    this.lastReply = f.lastReply;
    this.timer = host.timers.scheduleCall(Math.max(0, ttl), this, this.expire);
  }

  /** A retransmission of the request: the last reply again (17.2.1 Accepted, 17.2.2 Completed). */
  onRetransmission(): void {
    if (this.lastReply) this.host.send(this.replyTarget, this.lastReply);
  }

  /** Stops its timer (the layer is closing). */
  cancel(): void {
    this.host.timers.cancel(this.timer);
    this.timer = null;
  }

  private expire(): void {
    this.timer = null;
    this.host.settledExpired(this);
  }
}
