/**
 * The per-message context a routing callback runs with: the message, where it came from, and the
 * routing state Kamailio keeps beside a `sip_msg` (flags, $du, branches, AVPs, drop mark, send flags).
 * KSR bindings read and change it; the core reads it back after the callback.
 */
import type { SipMessage } from '../sip/message.js';
import type { LogLevel } from '../lib/log.js';
import type { ModuleStates } from './module-state.js';
import type { ConnectionQueries, ListenSocket, Proto, ReceiveInfo } from '../transport/types.js';

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
  /** The listen sockets (set_send_socket and $fs choose among them). */
  sockets(): readonly ListenSocket[];
  /** Is this host[:port][;transport] one of ours (listen addresses and aliases)? */
  isMyself(host: string, port?: number, proto?: Proto): boolean;
  /** Write a script log line at a level; carries the Call-ID. */
  log(ctx: MsgContext | null, level: LogLevel, text: string): void;
  /** Local tag used in stateless replies for this request (To-tag). */
  localTag(ctx: MsgContext): string;
  /** The instance's module states (each module's `KEY.of(ctx)` reads its own). */
  readonly modules: ModuleStates;
  /**
   * Runs the script's global function `fn` with one argument, the event name (Kamailio's KEMI
   * event callbacks, e.g. dialog's event_callback with "dialog:end"), on `ctx` or, when null, on a
   * faked message; `setup` prepares the context first. Nothing happens when `fn` is not defined.
   */
  runEvent?(fn: string, evName: string, ctx: MsgContext | null, setup?: (ctx: MsgContext) => void): void | Promise<void>;
  /** Connection facts of the instance's transports (KSR.tls, KSR.websocket); absent in bare test services. */
  readonly transports?: ConnectionQueries;
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

/**
 * Per-message module data that decides what a derived context gets: `inherit()` returns the value
 * for the new context (a copy, so that what one branch route changes stays in that branch), or
 * undefined when the data is not inherited (tm's state belongs to one context). Values without
 * it are shared.
 */
export interface Inheritable {
  inherit(): unknown;
}

function isInheritable(v: unknown): v is Inheritable {
  return typeof v === 'object' && v !== null && typeof (v as { inherit?: unknown }).inherit === 'function';
}

/** Copies module data into a derived context's map by each value's own rule. */
export function inheritModuleData(from: ReadonlyMap<string, unknown>, to: Map<string, unknown>): void {
  for (const [k, v] of from) {
    const x = isInheritable(v) ? v.inherit() : v;
    if (x !== undefined) to.set(k, x);
  }
}

/**
 * The routing state a derived context starts from: the request's own context (branch routes) or
 * the transaction's copy of it (failure, branch-failure, onreply and event routes; Kamailio's
 * t->uas.request with the transaction's flags and AVP lists).
 */
export interface ContextOrigin {
  readonly msgId: number;
  readonly flags: number;
  readonly avps: Map<string, PvValue[]>;
  readonly xavps: Map<string, Map<string, PvValue[]>[]>;
  readonly moduleData: ReadonlyMap<string, unknown>;
  readonly forceRport: boolean;
  readonly addLocalRport: boolean;
  readonly advertisedAddress: string | null;
  readonly advertisedPort: string | null;
  readonly sendFlags: SendFlags;
  readonly forcedSocket: string | null;
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
  /** $avp(name): a stack of values per name, newest first (as Kamailio adds them). Made on first use. */
  get avps(): Map<string, PvValue[]> {
    return (this.avpMap ??= new Map());
  }
  set avps(m: Map<string, PvValue[]>) {
    this.avpMap = m;
  }
  /** $xavp(name): list of items, each a map of field -> values (newest first). Made on first use. */
  get xavps(): Map<string, Map<string, PvValue[]>[]> {
    return (this.xavpMap ??= new Map());
  }
  set xavps(m: Map<string, Map<string, PvValue[]>[]>) {
    this.xavpMap = m;
  }
  // Most messages (replies, in-dialog requests) never use AVPs: their maps are not made for them.
  private avpMap: Map<string, PvValue[]> | null = null;
  private xavpMap: Map<string, Map<string, PvValue[]>[]> | null = null;
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
  /** The listen socket's id (`proto:addr:port`) forced by set_send_socket / $fs; requests go out there. */
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

  /**
   * The one rule for the contexts tm runs its routes with: `msg` (a branch's request, a copy of
   * the stored request, or a reply) with the origin's flags, AVP lists (shared: what a route sets
   * in them stays with the transaction), routing settings and a copy of its module data.
   * `moduleData: false` leaves the request's module data out (onreply runs on the reply).
   */
  static derive(origin: ContextOrigin, msg: SipMessage, rcv: ReceiveInfo, proxy: ProxyServices, route: RouteKind, opts: { moduleData?: boolean } = {}): MsgContext {
    const c = new MsgContext(msg, rcv, proxy);
    c.msgId = origin.msgId;
    c.flags = origin.flags;
    c.avps = origin.avps;
    c.xavps = origin.xavps;
    c.route = route;
    c.forceRport = origin.forceRport;
    c.addLocalRport = origin.addLocalRport;
    c.advertisedAddress = origin.advertisedAddress;
    c.advertisedPort = origin.advertisedPort;
    c.sendFlags = { ...origin.sendFlags };
    c.forcedSocket = origin.forcedSocket;
    if (opts.moduleData !== false) inheritModuleData(origin.moduleData, c.moduleData);
    return c;
  }
}
