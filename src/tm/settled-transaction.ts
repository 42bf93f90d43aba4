/**
 * What the transaction table keeps of a transaction once it has settled: its final reply went
 * upstream, every client transaction has its final reply, and it waits out wait_timer (or timer
 * J, and its completed non-INVITE branches' timer K) only to absorb retransmissions. No route or
 * module callback runs for it any more.
 *
 * Issue 14: at 2000 calls/s about 20000 transactions wait so, and V8's mark-compact marks all they
 * keep. A ProxyTransaction with its request, branches and client and server transactions is about
 * 17 objects; a record is itself, its key and the reply's bytes (its reply target is fields, its
 * expiry a place in the layer's SettledList, the peer's address an interned string), and the rest
 * dies young (provided no old table keeps it: the layer's tables are SlotMaps). With the records,
 * p99 at 2000 calls/s on a pinned core went from 48 to 32 ms and the scavenges' time down by 43%
 * (README, Benchmarks).
 *
 * Readers on a retransmission's route that look for the message's transaction (current()) do not
 * see a record; those whose answer the wire shows are given it: send_reply and sl_reply_error
 * (no second final reply), $T_reply_code and t_check_status (the last status).
 */
import type { Proto, SendTarget } from '../transport/types.js';
import type { SettledListItem } from './settled-list.js';

/** What a settled transaction needs from the transaction layer. */
export interface SettledTransactionHost {
  send(target: SendTarget, data: Buffer): boolean;
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
  /**
   * Branch ids (the Via branch we sent) of its completed client transactions, whose final replies
   * it absorbs: an INVITE's completed CANCELs, another method's own. One id alone is kept as is,
   * not in an array (one object fewer for the common single branch).
   */
  clientIds: string | readonly string[] | null;
  /** When its last timer runs out (ms, the transaction timers' clock). */
  at: number;
}

export class SettledTransaction implements SettledListItem {
  readonly key: string;
  readonly isInvite: boolean;
  readonly lastStatus: number;
  readonly flags: number;
  readonly branchCount: number;
  readonly callId: string;
  readonly cseq: number;
  readonly clientIds: string | readonly string[] | null;
  readonly at: number;
  prev: SettledListItem | null = null;
  next: SettledListItem | null = null;
  // The reply target's fields, not the object: one object fewer per record.
  private readonly proto: Proto;
  private readonly address: string;
  private readonly port: number;
  private readonly connId: number | undefined;
  private readonly lastReply: Buffer | null;

  constructor(
    private readonly host: SettledTransactionHost,
    f: SettledFacts,
  ) {
    this.key = f.key;
    this.isInvite = f.isInvite;
    this.lastStatus = f.lastStatus;
    this.flags = f.flags;
    this.branchCount = f.branchCount;
    this.callId = f.callId;
    this.cseq = f.cseq;
    this.clientIds = f.clientIds;
    this.at = f.at;
    const t = f.replyTarget;
    this.proto = t.proto;
    this.address = t.address;
    this.port = t.port;
    this.connId = t.connId;
    this.lastReply = f.lastReply;
  }

  /** A retransmission of the request: the last reply again (17.2.1 Accepted, 17.2.2 Completed). */
  onRetransmission(): void {
    if (!this.lastReply) return;
    const target: SendTarget = this.connId === undefined
      ? { proto: this.proto, address: this.address, port: this.port }
      : { proto: this.proto, address: this.address, port: this.port, connId: this.connId };
    this.host.send(target, this.lastReply);
  }

  /**
   * Whether a final reply retransmitted on one of its client transactions (by `clientIds`) ends
   * here: on an INVITE's record only a CANCEL's (the INVITE's own 2xx go on by Via), on another
   * method's its own (a CANCEL is for INVITEs only).
   */
  absorbs(method: string): boolean {
    return (method === 'CANCEL') === this.isInvite;
  }
}
