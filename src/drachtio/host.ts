/**
 * What the drachtio bridge needs from the proxy core. The bridge is a SIP user agent core for the
 * connected apps (drachtio-server's role); the proxy supplies transports, DNS, the transaction
 * state machines' timers and settings. Implemented by kemi-proxy-adapter.ts.
 */
import type { Proto, ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { ListenSocket, SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';
import type { TimerQueue } from '../tm/timer-queue.js';
import type { TmConfig } from '../tm/config.js';

export type LogFn = (level: 'dbg' | 'info' | 'warn' | 'err', text: string) => void;

export interface DrachtioHost {
  /** RFC 3263 targets of a SIP URI; null when it does not parse. */
  resolveUri(uri: string): Target[] | Promise<Target[]> | null;
  /** The listen socket to send to `address` over `proto` from. */
  socketFor(proto: Proto, address: string): ListenSocket | undefined;
  /** Every listen socket (host ports reported to apps, Contact of our responses). */
  sockets(): readonly ListenSocket[];
  send(target: SendTarget, data: Buffer): boolean;
  /** Sends a response to the sender of `req` (Via / rport rules). */
  sendReplyTo(req: SipMessage, rcv: ReceiveInfo, reply: Buffer): boolean;
  /** Timers and settings the transaction state machines run with (the tm module's). */
  readonly timers: TimerQueue;
  readonly tmCfg: TmConfig;
  readonly serverHeader: string;
  log: LogFn;
  /**
   * Hooks the bridge into the receive path, ahead of the routing script: `onRequest` takes
   * retransmissions, CANCEL, ACK and in-dialog requests of what apps own; `onReply` takes replies
   * to requests apps sent. Each returns true when it took the message.
   */
  intercept(hooks: { onRequest(msg: SipMessage, rcv: ReceiveInfo): boolean; onReply(msg: SipMessage, rcv: ReceiveInfo): boolean }): void;
}
