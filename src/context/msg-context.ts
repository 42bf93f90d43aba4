/**
 * The per-message context a routing callback runs with: the message, where it came from, and the
 * routing state Kamailio keeps beside a `sip_msg` (flags, $du, branches, AVPs, drop mark, send flags).
 * KSR bindings read and change it; the core reads it back after the callback.
 */
import type { SipMessage } from '../sip/message.js';
import type { LogLevel } from '../lib/log.js';
import type { ModuleStates } from './module-state.js';
import type { Proto, ReceiveInfo } from '../transport/types.js';

export type { LogLevel } from '../lib/log.js';
export type { Proto, ReceiveInfo } from '../transport/types.js';


export type RouteKind =
  | 'request'
  | 'reply'
  | 'onsend'
  | 'branch'
  | 'onreply'
  | 'failure'
  | 'branch_failure'
  | 'event';

/** An additional branch, as `append_branch` / `lookup` create (Kamailio's `branch_t`). */
export interface Branch {
  uri: string;
  dstUri: string | null;
  path: string | null;
  q: number;
  flags: number;
  /** Local socket forced for this branch (`proto:addr:port`), if any. */
  socket: string | null;
  instance: string | null;
  ruid: string | null;
  location_ua: string | null;
}


/** Values Kamailio keeps in AVPs and script variables. */
export type PvValue = string | number;

/** Actions the KSR bindings ask of the proxy core; implemented in src/core. */
export interface ProxyServices {
  /** Stateless forward to `uri` (or $du, else the R-URI when absent). 1 sent, -1 error. */
  forward(ctx: MsgContext, uri?: string): number | Promise<number>;
  /** Send a reply to the current request statelessly (sl). 1 sent, -1 error. */
  sendReply(ctx: MsgContext, code: number, reason: string, extraHeaders?: string, body?: Buffer, contentType?: string): number;
  /** sl_forward_reply: relays the reply being processed statelessly by its Vias, status changed if asked. */
  forwardReply(ctx: MsgContext, code?: number, reason?: string): boolean;
  /** Is this host[:port][;transport] one of ours (listen addresses and aliases)? */
  isMyself(host: string, port?: number, proto?: Proto): boolean;
  /** Write a script log line at a level; carries the Call-ID. */
  log(ctx: MsgContext | null, level: LogLevel, text: string): void;
  /** Local tag used in stateless replies for this request (To-tag). */
  localTag(ctx: MsgContext): string;
  /** The instance's module states (each module's `KEY.of(ctx)` reads its own). */
  readonly modules: ModuleStates;
}

/** How a script callback ended. */
export interface RunOutcome {
  status: 'ok' | 'exit' | 'error' | 'missing';
  error?: { message: string; file?: string; line?: number };
}

/**
 * The routing script as the layers below the engine see it: something that runs a named Lua
 * function on a message context. The engine implements it; tm and app_lua use it.
 */
export interface RouteScript {
  /** Whether the script defines this global function. */
  has(fn: string): boolean;
  /** Runs a global function; a Promise when a KSR call inside waits for I/O. */
  run(fn: string, ctx: MsgContext, args?: readonly string[]): RunOutcome | Promise<RunOutcome>;
}

/** Send flags for TCP-family transports (set_forward_close and friends). */
export interface SendFlags {
  forwardClose: boolean;
  forwardNoConnect: boolean;
  replyClose: boolean;
  replyNoConnect: boolean;
}

let msgIds = 0;

/** The next received message's number ($mi), counted per process as Kamailio counts msg->id. */
export function nextMsgId(): number {
  return ++msgIds;
}

export class MsgContext {
  /** $mi: the number of the received message this context works on (0 for faked messages). */
  msgId = 0;
  /** performance.now() when the message arrived (processing-time histogram). */
  startedAt = 0;
  /** Message flags 0..31 (setflag). Saved with the transaction. */
  flags = 0;
  /** Script flags (setsflag): zeroed before each callback, restored after. */
  sflags = 0;
  /** Branch flags by branch index; index 0 is the R-URI branch. */
  bflags: number[] = [0];
  /** $du: destination URI (next hop), or null. */
  dstUri: string | null = null;
  /** Path of the contact the R-URI was set to by a registrar lookup: sent as Route on that branch. */
  ruriPath: string | null = null;
  /** Extra branches beyond the R-URI branch (append_branch, lookup). */
  branches: Branch[] = [];
  /** $avp(name): a stack of values per name, newest first (as Kamailio adds them). */
  avps = new Map<string, PvValue[]>();
  /** $xavp(name): list of items, each a map of field -> values (newest first). */
  xavps = new Map<string, Map<string, PvValue[]>[]>();
  /** The drop mark (set_drop / KSR.x.drop). */
  drop = false;
  /**
   * Kamailio's ruri_is_new: t_relay forwards the R-URI branch only while it is new. A message
   * starts new; t_relay consumes it; rewriting the R-URI, or setting $du through the PV or
   * loose_route (not KSR.setdsturi), makes it new again. A failure route starts consumed.
   */
  private ruriNew = true;
  private ruriConsumedAt = -1;
  get ruriIsNew(): boolean {
    return this.ruriNew || (this.ruriConsumedAt >= 0 && this.msg.isRequest && this.msg.ruriWrites !== this.ruriConsumedAt);
  }
  markRuriNew(): void {
    this.ruriNew = true;
  }
  consumeRuri(): void {
    this.ruriNew = false;
    this.ruriConsumedAt = this.msg.isRequest ? this.msg.ruriWrites : 0;
  }
  /** force_rport(): answer to the source port whatever the Via says. */
  forceRport = false;
  /** add_local_rport(): add `;rport` to the Via this proxy inserts. */
  addLocalRport = false;
  advertisedAddress: string | null = null;
  advertisedPort: string | null = null;
  sendFlags: SendFlags = { forwardClose: false, forwardNoConnect: false, replyClose: false, replyNoConnect: false };
  /** Local socket forced with force_send_socket (`proto:addr:port`). */
  forcedSocket: string | null = null;
  /** Header lines queued for the next local reply (hdr.append_to_reply, textops.append_to_reply). */
  replyHeaders = '';
  /** Body for the reply the proxy will generate (textops set_reply_body), with its Content-Type. */
  replyBody: { body: Buffer; contentType: string } | null = null;
  /** True once a reply was sent for this request (sl or tm). */
  replied = false;
  /** Which callback is running. */
  route: RouteKind = 'request';
  /** Name of the branch being processed in a branch route, its index. */
  branchIndex = 0;
  /** The script running this context's current callback (app_lua's functions call into it). */
  script: RouteScript | null = null;
  /** Arbitrary per-message data a module keeps (auth results, tm links...), keyed by module name. */
  readonly moduleData = new Map<string, unknown>();

  constructor(
    public msg: SipMessage,
    public readonly rcv: ReceiveInfo,
    public readonly proxy: ProxyServices,
  ) {}
}
