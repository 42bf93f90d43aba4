/**
 * What the transaction layer needs from the proxy core (the transaction-user boundary): sending,
 * resolving, building our Via, and running script callbacks. KemiProxy implements it.
 */
import type { MsgContext, Proto, ReceiveInfo, RouteScript, RunOutcome } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { ListenSocket, SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';
import type { Logger } from '../lib/log.js';
import type { OnSendInfo } from '../pv/onsend-pvs.js';

export interface TmCore {
  readonly logger: Logger;
  resolveUri(uri: string): Target[] | Promise<Target[]> | null;
  /** The socket to send from: the forced one (`proto:addr:port` id) when it can reach `proto`. */
  socketFor(proto: Proto, address: string, forced?: string | null): ListenSocket | undefined;
  /** Bytes of a branch request: received/rport, Record-Route, our Via (see Forwarder.prepareOutgoing). */
  prepareOutgoing(orig: MsgContext, bctx: MsgContext, out: SipMessage, sock: ListenSocket, branch: string): Buffer;
  send(target: SendTarget, data: Buffer): boolean;
  /** Runs ksr_onsend_route on a request about to go out; false when the script dropped it. */
  onSend(ctx: MsgContext, data: Buffer, dest?: OnSendInfo): boolean;
  /** Sends a reply to the sender of `req` (18.2.2 / RFC 3581). */
  sendReplyTo(req: SipMessage, rcv: ReceiveInfo, reply: Buffer, forceRport: boolean): boolean;
  /** Where sendReplyTo sends replies to `req`: what a settled transaction keeps of its request. */
  replyTarget(req: SipMessage, rcv: ReceiveInfo, forceRport: boolean): SendTarget;
  /** Runs a script callback; a missing function counts as done. */
  runCallback(script: RouteScript, fn: string, ctx: MsgContext): RunOutcome | Promise<RunOutcome>;
  acquireScript(): RouteScript;
  releaseScript(script: RouteScript): void;
  /** Logs a failed callback (file:line, Call-ID) and counts it. */
  callbackFailed(ctx: MsgContext, out: RunOutcome): void;
  /** To-tag for replies this proxy generates for `req`. */
  tagFor(req: SipMessage): string;
  readonly serverHeader: string;
}
