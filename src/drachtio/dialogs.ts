/**
 * Dialogs an app owns (RFC 3261 12): the state to build requests within them and to recognise the
 * requests that arrive in them. Id as drachtio-server writes it: `<Call-ID>;from-tag=<UAC's tag>`.
 */
import type { AppConnection } from './app-connection.js';
import type { ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { SendTarget } from '../transport/types.js';

export interface DialogInit {
  role: 'uac' | 'uas';
  app: AppConnection | null;
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (ours) and To (theirs) name-addrs without tags, as our requests carry them. */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  /** Route set, in the order our requests carry it. */
  routeSet: string[];
  localSeq: number;
  remoteSeq: number;
  localContact: string;
  /** CSeq number of the INVITE that made the dialog (its ACK carries it). */
  inviteSeq: number;
  /** UAS over TCP: the connection the INVITE came on, reused for our requests to that peer. */
  flow?: { address: string; connId: number };
}

export class Dialog implements DialogInit {
  role!: 'uac' | 'uas';
  app!: AppConnection | null;
  callId!: string;
  localTag!: string;
  remoteTag!: string;
  localUri!: string;
  remoteUri!: string;
  remoteTarget!: string;
  routeSet!: string[];
  localSeq!: number;
  remoteSeq!: number;
  localContact!: string;
  inviteSeq!: number;
  flow?: { address: string; connId: number };
  readonly id: string;
  /** UAS: our 2xx, retransmitted until the ACK comes (13.3.1.4). */
  pending2xx: { req: SipMessage; rcv: ReceiveInfo; buf: Buffer; timer: NodeJS.Timeout | null; interval: number; elapsed: number } | null = null;
  /** UAC: the ACK we sent for the 2xx, resent when the 2xx is retransmitted. */
  lastAck: { target: SendTarget; buf: Buffer } | null = null;
  terminated = false;
  /**
   * Early (RFC 3261 12.1: made by a 1xx with a To-tag): PRACK and UPDATE travel in it; it becomes
   * confirmed with the 2xx or goes with a failure.
   */
  early = false;
  /** RFC 4028 session timer (session-timer.ts), when the session has one. */
  session: { interval: number; weRefresh: boolean; timer: NodeJS.Timeout } | null = null;
  /** The last session interval (s), for our refreshing request. */
  sessionInterval = 0;
  /** UAS: our reliable provisional responses awaiting their PRACK (RFC 3262), by RSeq. */
  readonly unacked1xx = new Map<number, NodeJS.Timeout>();

  constructor(init: DialogInit) {
    Object.assign(this, init);
    this.id = `${init.callId};from-tag=${init.role === 'uac' ? init.localTag : init.remoteTag}`;
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  stop2xx(): void {
    if (this.pending2xx?.timer) clearTimeout(this.pending2xx.timer);
    this.pending2xx = null;
  }

  stopSessionTimer(): void {
    if (this.session) clearTimeout(this.session.timer);
    this.session = null;
  }

  /** A PRACK came for RSeq `rseq` (every one when undefined): its 1xx is not resent any more. */
  stop1xx(rseq?: number): void {
    for (const [n, timer] of this.unacked1xx) {
      if (rseq !== undefined && n !== rseq) continue;
      clearTimeout(timer);
      this.unacked1xx.delete(n);
    }
  }
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0001${localTag}\u0001${remoteTag}`;
}

export class DialogTable {
  private readonly byKey = new Map<string, Dialog>();
  private readonly byId = new Map<string, Dialog>();
  /** ACKs of ended UAC dialogs, kept 32 s for 2xx retransmissions still arriving (13.2.2.4). */
  private readonly endedAcks = new Map<string, Dialog['lastAck']>();

  add(d: Dialog): void {
    this.byKey.set(d.key, d);
    this.byId.set(d.id, d);
  }

  remove(d: Dialog): void {
    d.terminated = true;
    d.stop2xx();
    d.stop1xx();
    d.stopSessionTimer();
    if (d.lastAck && !this.endedAcks.has(d.key)) {
      this.endedAcks.set(d.key, d.lastAck);
      setTimeout(() => this.endedAcks.delete(d.key), 32_000).unref();
    }
    if (this.byKey.get(d.key) === d) this.byKey.delete(d.key);
    if (this.byId.get(d.id) === d) this.byId.delete(d.id);
  }

  get(id: string): Dialog | undefined {
    return this.byId.get(id);
  }

  /** The dialog a request received from the network belongs to (its To-tag is ours). */
  forRequest(msg: SipMessage): Dialog | undefined {
    const toTag = msg.to.tag;
    const fromTag = msg.from.tag;
    if (!toTag || fromTag === undefined) return undefined;
    return this.byKey.get(dialogKey(msg.callId, toTag, fromTag));
  }

  /** The dialog a reply to our request belongs to (its From-tag is ours). */
  forReply(msg: SipMessage): Dialog | undefined {
    const toTag = msg.to.tag;
    const fromTag = msg.from.tag;
    if (!toTag || !fromTag) return undefined;
    return this.byKey.get(dialogKey(msg.callId, fromTag, toTag));
  }

  /** The ACK to resend for a retransmitted 2xx (the dialog live or just ended). */
  ackFor(msg: SipMessage): Dialog['lastAck'] {
    const d = this.forReply(msg);
    if (d) return d.lastAck;
    const fromTag = msg.from.tag;
    const toTag = msg.to.tag;
    return fromTag && toTag ? this.endedAcks.get(dialogKey(msg.callId, fromTag, toTag)) ?? null : null;
  }

  ofApp(app: AppConnection): Dialog[] {
    return [...this.byId.values()].filter((d) => d.app === app);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): Dialog[] {
    return [...this.byId.values()];
  }
}
