/**
 * Server transactions: the upstream side of a proxied request. They own the last reply sent
 * upstream, resend it on request retransmissions, and (INVITE) retransmit a negative final reply
 * until the ACK comes.
 */
import type { ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { TimerHandle, TimerQueue } from './timer-queue.js';
import type { TmConfig } from './config.js';

export interface ServerTransactionHost {
  readonly timers: TimerQueue;
  readonly cfg: TmConfig;
  sendUpstream(req: SipMessage, rcv: ReceiveInfo, reply: Buffer): boolean;
  /** The server transaction reached Terminated. */
  serverTerminated(): void;
}

export type ServerState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

abstract class ServerTransaction {
  state: ServerState;
  lastReply: Buffer | null = null;
  lastStatus = 0;
  protected timer: TimerHandle | null = null;
  protected readonly reliable: boolean;

  constructor(
    protected readonly host: ServerTransactionHost,
    readonly request: SipMessage,
    readonly rcv: ReceiveInfo,
    initial: ServerState,
  ) {
    this.state = initial;
    this.reliable = rcv.proto !== 'udp';
  }

  /** A retransmission of the request: resend the last reply, if any (17.2.1 / 17.2.2). */
  onRetransmission(): void {
    if (this.lastReply && this.state !== 'terminated') this.host.sendUpstream(this.request, this.rcv, this.lastReply);
  }

  abstract sendReply(status: number, reply: Buffer): boolean;

  protected terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.host.timers.cancel(this.timer);
    this.timer = null;
    this.host.serverTerminated();
  }

  /** Stops every timer and ends the transaction now (lifetime expiry, shutdown). */
  kill(): void {
    this.terminate();
  }

  /** When its end timer (wait, H, I, J) fires; 0 when none is pending. */
  get endsAt(): number {
    return this.timer && !this.timer.cancelled ? this.timer.at : 0;
  }

  /**
   * Stops every timer without telling its host: a settled transaction's record takes over what
   * is left (resending the last reply until endsAt).
   */
  detach(): void {
    this.state = 'terminated';
    this.host.timers.cancel(this.timer);
    this.timer = null;
  }
}

/**
 * RFC 3261 17.2.1 INVITE server transaction, with the Accepted state of RFC 6026 after a 2xx:
 * Proceeding -> Completed (3xx-6xx sent; timer G retransmits it over UDP, timer H waits for the
 * ACK) -> Confirmed (ACK; timer I) -> Terminated; Proceeding -> Accepted (2xx) -> Terminated.
 */
export class InviteServerTransaction extends ServerTransaction {
  private gInterval = 0;

  constructor(host: ServerTransactionHost, request: SipMessage, rcv: ReceiveInfo) {
    super(host, request, rcv, 'proceeding');
  }

  sendReply(status: number, reply: Buffer): boolean {
    if (this.state !== 'proceeding' && !(status >= 200 && status < 300 && this.state === 'accepted')) return false;
    this.lastReply = reply;
    this.lastStatus = status;
    const ok = this.host.sendUpstream(this.request, this.rcv, reply);
    if (status < 200) return ok;
    const cfg = this.host.cfg;
    if (status < 300) {
      // 2xx retransmissions are the UAS's job; linger to absorb INVITE retransmissions.
      if (this.state !== 'accepted') {
        this.state = 'accepted';
        this.timer = this.host.timers.scheduleCall(cfg.wait_timer, this, this.terminate);
      }
      return ok;
    }
    this.state = 'completed';
    this.gInterval = cfg.retr_timer1;
    const deadline = 64 * cfg.retr_timer1;
    this.timer = this.host.timers.scheduleCall(deadline, this, this.terminate); // timer H
    if (!this.reliable) this.scheduleG();
    return ok;
  }

  private gTimer: TimerHandle | null = null;

  private scheduleG(): void {
    this.gTimer = this.host.timers.schedule(this.gInterval, () => {
      if (this.state !== 'completed' || !this.lastReply) return;
      this.host.sendUpstream(this.request, this.rcv, this.lastReply);
      this.gInterval = Math.min(this.gInterval * 2, this.host.cfg.retr_timer2);
      this.scheduleG();
    });
  }

  /** ACK to our negative final reply: absorbed (true). False when the ACK is not ours to take. */
  onAck(): boolean {
    if (this.state === 'completed') {
      this.state = 'confirmed';
      this.host.timers.cancel(this.gTimer);
      this.host.timers.cancel(this.timer);
      this.timer = this.host.timers.scheduleCall(this.reliable ? 0 : this.host.cfg.retr_timer4, this, this.terminate); // timer I
      return true;
    }
    return this.state === 'confirmed';
  }

  override detach(): void {
    this.host.timers.cancel(this.gTimer);
    this.gTimer = null;
    super.detach();
  }

  protected override terminate(): void {
    this.host.timers.cancel(this.gTimer);
    this.gTimer = null;
    super.terminate();
  }
}

/**
 * RFC 3261 17.2.2 non-INVITE server transaction: Trying -> Proceeding (1xx sent) -> Completed
 * (final sent; timer J, 64*T1 over UDP, 0 over reliable transports) -> Terminated.
 */
export class NonInviteServerTransaction extends ServerTransaction {
  constructor(host: ServerTransactionHost, request: SipMessage, rcv: ReceiveInfo) {
    super(host, request, rcv, 'trying');
  }

  sendReply(status: number, reply: Buffer): boolean {
    if (this.state !== 'trying' && this.state !== 'proceeding') return false;
    this.lastReply = reply;
    this.lastStatus = status;
    const ok = this.host.sendUpstream(this.request, this.rcv, reply);
    if (status < 200) {
      this.state = 'proceeding';
      return ok;
    }
    this.state = 'completed';
    // Kamailio keeps a completed transaction wait_timer long; RFC timer J is 64*T1 over UDP.
    const j = this.reliable ? 0 : Math.min(64 * this.host.cfg.retr_timer1, this.host.cfg.wait_timer);
    this.timer = this.host.timers.scheduleCall(j, this, this.terminate);
    return ok;
  }

  /** In Trying nothing has been sent yet, so a retransmission is simply absorbed (17.2.2). */
  override onRetransmission(): void {
    if (this.state === 'proceeding' || this.state === 'completed') super.onRetransmission();
  }
}

export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
