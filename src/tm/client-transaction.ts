/**
 * Client transactions: one per branch we send downstream. They retransmit over UDP, run the
 * final-response timer (Kamailio's fr_timer / fr_inv_timer in place of RFC timers B and F) and,
 * for INVITE, ACK negative final replies hop by hop.
 */
import type { SendTarget } from '../transport/types.js';
import type { TimerHandle, TimerQueue } from './timer-queue.js';
import type { TmConfig } from './config.js';

export interface ClientTransactionHost {
  readonly timers: TimerQueue;
  readonly cfg: TmConfig;
  send(target: SendTarget, data: Buffer): boolean;
}

export type ClientState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'terminated';

/** What a client transaction tells its owner. */
export interface ClientTransactionUser {
  /** The final-response timer fired with no final reply. */
  onClientTimeout(): void;
  /** The transaction ended (its timers are all stopped). */
  onClientTerminated(): void;
}

export interface ClientTimers {
  /** Final-response timeout until a provisional reply (ms). */
  fr: number;
  /** INVITE: final-response timeout after a provisional reply (ms). */
  frInv: number;
}

abstract class ClientTransaction {
  state: ClientState;
  /** Highest status received so far (0: none). */
  lastStatus = 0;
  protected retrTimer: TimerHandle | null = null;
  protected frTimer: TimerHandle | null = null;
  protected endTimer: TimerHandle | null = null;
  protected retrInterval: number;
  readonly reliable: boolean;

  constructor(
    protected readonly host: ClientTransactionHost,
    protected readonly user: ClientTransactionUser,
    readonly branch: string,
    readonly target: SendTarget,
    readonly request: Buffer,
    protected readonly timersCfg: ClientTimers,
    initial: ClientState,
  ) {
    this.state = initial;
    this.reliable = target.proto !== 'udp';
    this.retrInterval = host.cfg.retr_timer1;
  }

  /** Sends the request and starts the timers; false when the send failed at once. */
  start(): boolean {
    const ok = this.host.send(this.target, this.request);
    if (!ok) {
      this.terminate();
      return false;
    }
    if (!this.reliable) this.scheduleRetransmit();
    this.frTimer = this.host.timers.scheduleCall(this.timersCfg.fr, this, this.onFrTimeout);
    return true;
  }

  protected scheduleRetransmit(): void {
    this.retrTimer = this.host.timers.schedule(this.retrInterval, () => {
      if (!this.retransmitting()) return;
      this.host.send(this.target, this.request);
      this.retrInterval = Math.min(this.retrInterval * 2, this.host.cfg.retr_timer2);
      this.scheduleRetransmit();
    });
  }

  protected abstract retransmitting(): boolean;

  private onFrTimeout(): void {
    this.frTimer = null;
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.stopRetransmit();
    this.user.onClientTimeout();
  }

  protected stopRetransmit(): void {
    this.host.timers.cancel(this.retrTimer);
    this.retrTimer = null;
  }

  protected restartFr(ms: number): void {
    this.host.timers.cancel(this.frTimer);
    this.frTimer = this.host.timers.scheduleCall(ms, this, this.onFrTimeout);
  }

  /** When its end timer (D, K) fires; 0 when none is pending. */
  get endsAt(): number {
    return this.endTimer && !this.endTimer.cancelled ? this.endTimer.at : 0;
  }

  /**
   * Stops every timer without telling its user: a settled transaction's record takes over what
   * is left (absorbing final-reply retransmissions until endsAt).
   */
  detach(): void {
    this.state = 'terminated';
    this.stopRetransmit();
    this.host.timers.cancel(this.frTimer);
    this.host.timers.cancel(this.endTimer);
    this.frTimer = this.endTimer = null;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.stopRetransmit();
    this.host.timers.cancel(this.frTimer);
    this.host.timers.cancel(this.endTimer);
    this.frTimer = this.endTimer = null;
    this.user.onClientTerminated();
  }

  /** Ends the transaction after `ms` (timers D and K), absorbing reply retransmissions meanwhile. */
  protected linger(ms: number): void {
    this.stopRetransmit();
    this.host.timers.cancel(this.frTimer);
    this.frTimer = null;
    if (ms <= 0) this.terminate();
    else this.endTimer = this.host.timers.scheduleCall(ms, this, this.terminate);
  }
}

/**
 * RFC 3261 17.1.1 INVITE client transaction: Calling (timer A retransmits over UDP) -> Proceeding
 * (1xx: retransmissions stop, FR becomes fr_inv_timer) -> Completed (3xx-6xx: ACK sent, timer D)
 * -> Terminated; a 2xx ends it at once (the ACK for 2xx is end to end). The transaction layer
 * remembers the branch for wait_timer (RFC 6026's Accepted state, as Kamailio keeps the cell) so
 * a provisional arriving late is absorbed while 2xx retransmissions still go up.
 */
export class InviteClientTransaction extends ClientTransaction {
  /** Hop-by-hop ACK for the negative final reply, resent on its retransmissions. */
  private ack: Buffer | null = null;

  constructor(host: ClientTransactionHost, user: ClientTransactionUser, branch: string, target: SendTarget, request: Buffer, timers: ClientTimers) {
    super(host, user, branch, target, request, timers, 'calling');
  }

  protected retransmitting(): boolean {
    return this.state === 'calling';
  }

  /**
   * A reply for this branch. Returns false for a retransmitted final reply (absorbed here: the ACK
   * is resent), true when the owner should process it.
   */
  onReply(status: number, buildAck: () => Buffer): boolean {
    if (this.state === 'completed') {
      if (status >= 300 && this.ack) this.host.send(this.target, this.ack);
      return false;
    }
    if (this.state === 'terminated') return status >= 200 && status < 300;
    if (status < 200) {
      if (this.state === 'calling') this.stopRetransmit();
      this.state = 'proceeding';
      if (this.lastStatus < 100 || this.host.cfg.restart_fr_on_each_reply) this.restartFr(this.timersCfg.frInv);
      if (status > this.lastStatus) this.lastStatus = status;
      return true;
    }
    this.lastStatus = status;
    if (status < 300) {
      this.terminate();
      return true;
    }
    this.ack = buildAck();
    this.host.send(this.target, this.ack);
    this.state = 'completed';
    this.linger(this.reliable ? 0 : 32_000); // timer D
    return true;
  }

  /** True while a provisional reply has come and no final one (a CANCEL may be sent now). */
  get proceeding(): boolean {
    return this.state === 'proceeding';
  }
}

/**
 * RFC 3261 17.1.2 non-INVITE client transaction: Trying (timer E from T1 doubling to T2 over UDP)
 * -> Proceeding (1xx: retransmit every T2) -> Completed (final; timer K = T4 over UDP) -> Terminated.
 */
export class NonInviteClientTransaction extends ClientTransaction {
  constructor(host: ClientTransactionHost, user: ClientTransactionUser, branch: string, target: SendTarget, request: Buffer, timers: ClientTimers) {
    super(host, user, branch, target, request, timers, 'trying');
  }

  protected retransmitting(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  /** False for a retransmitted final reply (absorbed), true when the owner should process it. */
  onReply(status: number): boolean {
    if (this.state === 'completed' || this.state === 'terminated') return false;
    if (status < 200) {
      if (this.state === 'trying') this.retrInterval = this.host.cfg.retr_timer2;
      this.state = 'proceeding';
      if (status > this.lastStatus) this.lastStatus = status;
      return true;
    }
    this.lastStatus = status;
    this.state = 'completed';
    this.linger(this.reliable ? 0 : this.host.cfg.retr_timer4); // timer K
    return true;
  }
}

export type AnyClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
