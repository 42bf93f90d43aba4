/**
 * The proxy core: bytes from a transport -> SIP message -> routing script -> whatever the script
 * asked for (stateless forward, local reply; tm adds stateful relay). Implements ProxyServices,
 * the actions KSR bindings call back into.
 *
 * Hot path: one parse (lazy), one MsgContext, one synchronous script run when no KSR call does I/O.
 */
import { createHash } from 'node:crypto';
import { MsgContext, type LogLevel, type Proto, type ProxyServices, type ReceiveInfo } from '../context/msg-context.js';
import { ModuleStates } from '../context/module-state.js';
import type { Logger } from '../lib/log.js';
import { SipMessage, SipParseError, buildReply, validateReply, validateRequest } from '../sip/index.js';
import { TransportManager, type UdpBind } from '../transport/manager.js';
import type { TcpSettings, TlsSettings, WsSettings } from '../transport/settings.js';
import type { CoreTransports } from './transports.js';
import { parseListen, type ListenSocket } from '../transport/types.js';
import { SipResolver, type DnsBackend } from '../transport/dns.js';
import { ScriptHost } from '../engine/script-host.js';
import type { LuaScript, RunOutcome } from '../engine/lua-script.js';
import type { StateStore } from '../state/store.js';
import type { KemiCatalog, KemiModule, RpcTable } from '../../kemi/types.js';
import { PVS, PvRegistry } from '../pv/registry.js';
import { registerCorePvs } from '../pv/core-pvs.js';
import { setOnSendInfo, type OnSendInfo } from '../pv/onsend-pvs.js';
import { LocalUac } from './local-uac.js';
import { Forwarder, replyTarget } from './forwarder.js';
import { replyVia1 } from '../sip/reply-via.js';
import { PROCESS_BRANCH_PREFIX, stableHash } from '../sip/branch.js';
import { OverloadGuard } from './overload.js';
import { MessageTrace, parseTraceMode } from './message-trace.js';
import { EdgeEvents } from './edge-events.js';
import { CoreStats } from './stats.js';
import { TM, TransactionLayer } from '../tm/transaction-layer.js';
import type { TimerClock } from '../tm/timer-queue.js';
import { tmConfig } from '../tm/config.js';
import type { TmCore } from '../tm/tm-core.js';
import type { PeerConnections, SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';

type Modparams = Readonly<Record<string, Readonly<Record<string, string | number>>>>;

/** The settings the core reads (the composition root hands in the whole config). */
export interface CoreConfig {
  readonly listen: readonly string[];
  readonly script: string;
  readonly modules: readonly string[];
  readonly aliases: readonly string[];
  readonly modparams: Modparams;
  readonly defines?: Readonly<Record<string, string | number>>;
  readonly watch: boolean;
  readonly serverHeader: string;
  /** Overload guard threshold (src/core/overload.ts); absent or 0: off. */
  readonly overloadBacklogMs?: number;
  /** The operator's message trace at start: "off", "log" or a file. */
  readonly sipTrace?: string;
  /** Transport settings (stream limits, TLS, WebSocket); defaults when absent. */
  readonly tcp?: TcpSettings;
  readonly tls?: TlsSettings;
  readonly ws?: WsSettings;
}

/**
 * With --workers: which worker owns a Call-ID, and the hand-over of a UDP message to its owner.
 * Declared here, implemented by the worker link of the composition root.
 */
export interface Handover {
  readonly index: number;
  /** How many workers there are. */
  readonly count: number;
  /** The stream connections the other workers hold: sends for their clients are handed to them. */
  readonly connections?: PeerConnections;
  ownerOf(callId: string): number;
  /** The worker whose client transaction a reply's top Via branch names: see branchPrefix(). */
  ownerOfBranch?(branch: string): number | undefined;
  /** How this worker binds its UDP listen sockets: its own (SO_REUSEPORT/SO_REUSEADDR) or the shared handle. */
  readonly udpBind: UdpBind;
  /** Queues a message read here for its owner; flush() sends what was queued. */
  forward(owner: number, data: Buffer, rcv: ReceiveInfo): void;
  flush(): void;
  /** Tells the other workers this worker's admitted fraction (overload.ts `share`). */
  shareOverload?(admitted: number): void;
}

/**
 * What every branch this process makes starts with (src/sip/branch.ts). With workers, a request from a TLS/WS/TCP connection is
 * relayed by the worker holding that connection, not always by its Call-ID's owner; a UDP reply
 * goes to the worker whose prefix its Via branch carries.
 */
export function branchPrefix(): string {
  return PROCESS_BRANCH_PREFIX;
}

/** What the composition root gives an instance. */
export interface CoreDeps {
  readonly logger: Logger;
  /** The state backend (memory, Redis, or the primary's over IPC). */
  readonly state: StateStore;
  /** The module tables the config loads (core first), and every export of Kamailio. */
  readonly modules: readonly KemiModule[];
  readonly catalog: KemiCatalog;
  readonly handover?: Handover | null;
  /** Reload on SIGHUP (the process's one instance only). */
  readonly handleSignals?: boolean;
  /**
   * Transports made outside (the offline test harness captures what is sent); by default the
   * instance makes a TransportManager on real sockets. Received messages go to onMessage.
   */
  readonly transports?: CoreTransports;
  /** Name resolution (the test harness answers from a fixed table); node:dns by default. */
  readonly dns?: DnsBackend;
  /** Time and wake-ups of tm's timers (a manual clock in the test harness); the system's by default. */
  readonly clock?: TimerClock;
  /** Told after each script callback ran on a message (the test harness reads flags and PVs there). */
  readonly trace?: RouteTrace;
}

/** Observes script runs: the callback's name, the context it ran on and how it ended. */
export interface RouteTrace {
  routeDone(fn: string, ctx: MsgContext, out: RunOutcome): void;
}

export class KemiProxy implements ProxyServices, TmCore {
  readonly logger: Logger;
  readonly stats = new CoreStats();
  readonly transports: CoreTransports;
  readonly resolver: SipResolver;
  readonly forwarder: Forwarder;
  /** This instance's module states (pv registry, tm, and every loaded module's own). */
  readonly modules = new ModuleStates();
  readonly pvs = new PvRegistry();
  readonly state: StateStore;
  host!: ScriptHost;
  /** The transaction layer, when the tm module is loaded. */
  readonly tm?: TransactionLayer;
  readonly serverHeader: string;
  /** Control RPC methods of the loaded modules, bound to this instance's states. */
  readonly moduleRpc: RpcTable[] = [];
  private readonly aliasSet: Set<string>;
  private readonly tagBase = createHash('md5').update(String(process.pid) + Date.now() + Math.random()).digest('hex').slice(0, 16);
  private readonly handover: Handover | null;
  private readonly slLoaded: boolean;
  private readonly moduleClosers: (() => void | Promise<void>)[] = [];
  /** The operator's message trace (off unless switched on). */
  readonly trace: MessageTrace;
  /** $mi: received messages, counted per instance as Kamailio counts msg->id per process. */
  private msgIds = 0;

  constructor(readonly cfg: CoreConfig, private readonly deps: CoreDeps) {
    this.logger = deps.logger;
    this.trace = new MessageTrace(deps.logger);
    if (cfg.sipTrace) this.trace.set(parseTraceMode(cfg.sipTrace));
    this.state = deps.state;
    this.handover = deps.handover ?? null;
    this.slLoaded = cfg.modules.includes('sl');
    this.resolver = new SipResolver(deps.dns);
    this.aliasSet = new Set(cfg.aliases.map((a) => a.toLowerCase()));
    this.transports = deps.transports ?? new TransportManager({
      onMessage: (data, rcv) => this.onMessage(data, rcv),
      onError: (e, where) => this.logger.warn(`transport ${where}: ${e.message}`),
      tcp: cfg.tcp, tls: cfg.tls, ws: cfg.ws,
      udpBind: deps.handover?.udpBind ?? 'shared',
      peers: deps.handover?.connections,
      connIds: deps.handover ? { first: deps.handover.index, step: deps.handover.count } : undefined,
      onHttpRequest: (req) => this.edge.onHttpRequest(req),
      onWsClosed: (connId, rcv) => this.edge.onWsClosed(connId, rcv),
      onConnClosed: (proto, connId, address, port) => this.tm?.connectionClosed(proto, connId, address, port),
    });
    this.forwarder = new Forwarder(this);
    this.serverHeader = cfg.serverHeader;
    registerCorePvs(this.pvs, { defines: new Map(Object.entries(cfg.defines ?? {}).map(([k, v]) => [k, String(v)])) });
    this.modules.set(PVS, this.pvs);
    if (cfg.modules.includes('tm')) {
      this.tm = new TransactionLayer(this, tmConfig(cfg.modparams.tm), deps.clock);
      this.modules.set(TM, this.tm);
    }
  }

  get scriptPath(): string {
    return this.cfg.script;
  }

  /** Load shedding (config overloadBacklogMs) and event-loop lag; made in start(), when the config is there. */
  overload = new OverloadGuard(0);

  async start(): Promise<void> {
    const t = this.transports;
    const h = this.handover;
    this.overload = new OverloadGuard({
      backlogMs: this.cfg.overloadBacklogMs ?? 0,
      backlog: t.udpBacklog ? () => t.udpBacklog?.() : undefined,
      share: h?.shareOverload ? (a) => h.shareOverload?.(a) : undefined,
      log: (text) => this.logger.warn(text),
    });
    this.overload.start();
    const defines = new Map(Object.entries(this.cfg.defines ?? {}).map(([k, v]) => [k, String(v)]));
    for (const m of this.deps.modules) {
      const st = m.init ? await m.init({
        params: this.cfg.modparams[m.name] ?? {},
        allParams: this.cfg.modparams,
        state: this.state,
        proxy: this,
        pvs: this.pvs,
        modules: this.modules,
        tm: this.tm,
        uac: this.uac,
        defines,
        log: (level, text) => this.logger.log(level, `${m.name}: ${text}`),
      }) : undefined;
      if (m.key && st !== undefined) this.modules.set(m.key, st);
      if (m.close) this.moduleClosers.push(() => m.close!(st));
      if (m.rpc) this.moduleRpc.push(m.rpc(st));
    }
    this.host = await ScriptHost.create({
      scriptPath: this.cfg.script,
      modules: this.deps.modules,
      catalog: this.deps.catalog,
      loadedModuleNames: this.cfg.modules,
      log: (level, text) => this.logger.log(level, text),
      watch: this.cfg.watch,
      handleSignals: this.deps.handleSignals ?? false,
      loadContext: () => this.fakedContext(),
      onReloaded: () => this.reloadCertificates(),
    });
    await this.transports.listen(this.cfg.listen.map(parseListen));
    for (const s of this.transports.sockets()) this.logger.info(`listening on ${s.id}`);
  }

  /** Requests the proxy sends on its own (dispatcher's OPTIONS probes). */
  readonly uac: LocalUac = new LocalUac({
    resolveUri: (uri) => this.resolveUri(uri),
    socketFor: (proto, address) => this.socketFor(proto, address),
    send: (t, d) => this.send(t, d),
    callIdFilter: (id) => !this.handover || this.handover.ownerOf(id) === this.handover.index,
  });

  /**
   * Hooks ahead of the routing script (the drachtio bridge): each returns true when it took the
   * message; `close` runs at stop().
   */
  readonly interceptors: {
    onRequest(msg: SipMessage, rcv: ReceiveInfo): boolean;
    onReply(msg: SipMessage, rcv: ReceiveInfo): boolean;
    close?(): Promise<void> | void;
  }[] = [];

  async stop(): Promise<void> {
    this.overload.stop();
    this.trace.close();
    for (const h of this.interceptors) await h.close?.();
    this.tm?.close();
    this.uac.close();
    await this.transports.close();
    await this.host?.close();
    for (const close of this.moduleClosers) await close();
  }

  /** Script reload: the TLS certificate files are read again; a bad file keeps the old ones. */
  private reloadCertificates(): void {
    try {
      if (this.transports.reloadCertificates()) this.logger.info('TLS certificates reloaded');
    } catch (e) {
      this.logger.err(`TLS certificates not reloaded, keeping the old ones: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** ksr_xhttp_event and ksr_websocket_event (edge-events.ts). */
  private readonly edge = new EdgeEvents(this);

  /** Kamailio's faked message: what KSR calls in a script's main chunk run with. */
  fakedContext(rcv?: ReceiveInfo): MsgContext {
    const msg = SipMessage.parse(Buffer.from('OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfaked\r\nFrom: <sip:you@kamailio.org>;tag=faked\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: faked\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
    return new MsgContext(msg, rcv ?? { proto: 'udp', srcAddress: '127.0.0.1', srcPort: 9, localAddress: '127.0.0.1', localPort: 9, family: 4 }, this);
  }

  /** The next $mi (event contexts count as messages, as Kamailio's faked ones do). */
  nextMsgId(): number {
    return ++this.msgIds;
  }

  sockets(): readonly ListenSocket[] {
    return this.transports.sockets();
  }

  // ---- receive path -------------------------------------------------------------------------

  onMessage(data: Buffer, rcv: ReceiveInfo, handedOver = false): void {
    // Reads of the listen sockets (a hand-over from another worker was counted where it was read).
    if (rcv.proto === 'udp' && !handedOver) this.overload.noteDatagram(rcv.localPort, data.length);
    if (this.trace.enabled && !handedOver) this.trace.in(data, rcv);
    let msg: SipMessage;
    try {
      msg = SipMessage.parse(data, { datagram: rcv.proto === 'udp' });
    } catch (e) {
      this.badMessage(data, rcv, e);
      return;
    }
    if (this.handover && !handedOver) {
      // Someone else's message goes on before it is validated: its owner validates it (and
      // answers 400 to a bad one), so a handed-over message is checked once, not twice.
      const owner = this.ownerElsewhere(this.handover, msg, rcv);
      if (owner !== undefined) {
        this.handover.forward(owner, data, rcv);
        this.drainSoon();
        return;
      }
    }
    try {
      if (msg.isRequest) validateRequest(msg);
      else validateReply(msg);
    } catch (e) {
      this.badMessage(data, rcv, e);
      return;
    }
    if (this.handover) {
      // libuv hands us up to 32 datagrams per poll; run the script on ours only after the rest
      // of the batch was handed over, or a handed-over ACK waits behind our batch and the BYE sent
      // after it, read by its owner directly, overtakes it.
      this.pending.push(msg, rcv);
      this.drainSoon();
      return;
    }
    this.dispatch(msg, rcv);
  }

  /**
   * With workers, the worker a message read here belongs to, when that is another one:
   * - UDP: the owner of its Call-ID handles every message of the call; a reply goes to the worker
   *   whose branch prefix its Via carries (it relayed the request from a TLS/WS/TCP connection);
   * - a reply on a connection this worker holds, to a request another worker relayed over it (a
   *   call from a UDP peer to this worker's WebSocket client): to that worker's transaction.
   * Undefined for ours, and for a message whose Call-ID or Via does not parse (we answer it).
   */
  private ownerElsewhere(h: Handover, msg: SipMessage, rcv: ReceiveInfo): number | undefined {
    let owner: number | undefined;
    try {
      if (rcv.proto === 'udp') owner = (msg.isRequest ? undefined : h.ownerOfBranch?.(msg.topVia.branch ?? '')) ?? h.ownerOf(msg.callId);
      else if (!msg.isRequest) owner = h.ownerOfBranch?.(msg.topVia.branch ?? '');
    } catch {
      return undefined;
    }
    return owner !== undefined && owner !== h.index ? owner : undefined;
  }

  /** Messages of this worker read in the current poll phase: [msg, rcv, msg, rcv, ...]. */
  private pending: (SipMessage | ReceiveInfo)[] = [];
  private drainScheduled = false;

  /** After this poll phase: the hand-overs go out (one datagram per owner), then our messages run. */
  private drainSoon(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drainPending);
  }

  private readonly drainPending = (): void => {
    this.drainScheduled = false;
    this.handover?.flush();
    const batch = this.pending;
    this.pending = [];
    for (let i = 0; i < batch.length; i += 2) {
      try {
        this.dispatch(batch[i] as SipMessage, batch[i + 1] as ReceiveInfo);
      } catch (e) {
        // One message's failure must not take the rest of the batch with it.
        this.logger.err(`message from ${(batch[i + 1] as ReceiveInfo).srcAddress}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
  };

  private dispatch(msg: SipMessage, rcv: ReceiveInfo): void {
    this.stats.received(msg);
    if (msg.isRequest) this.onRequest(msg, rcv);
    else this.onReply(msg, rcv);
  }

  /** Under overload: a new dialog-creating request that no transaction knows yet. */
  private shedding(msg: SipMessage): boolean {
    const m = msg.method;
    if (m === 'ACK' || m === 'CANCEL' || m === 'BYE' || m === 'PRACK' || m === 'UPDATE') return false;
    try {
      if (msg.to.tag) return false;
    } catch {
      return false;
    }
    return !this.tm?.has(msg);
  }

  /**
   * A new dialog the overload guard refuses (503 + Retry-After, before the script), or a
   * retransmission of one it refused, which gets the same answer even once the guard admits again.
   */
  private refusedUnderOverload(msg: SipMessage): boolean {
    if (!this.shedding(msg)) return false;
    const g = this.overload;
    const key = `${msg.callId} ${msg.cseq.seq}`;
    if (g.wasRefused(key)) return true;
    if (!g.active || !g.shed()) return false;
    g.noteRefusal(key);
    return true;
  }

  private badMessage(data: Buffer, rcv: ReceiveInfo, e: unknown): void {
    this.stats.parseErrors++;
    const reason = e instanceof Error ? e.message : String(e);
    const status = e instanceof SipParseError ? e.status : 0;
    this.logger.warn(`bad message from ${rcv.proto}:${rcv.srcAddress}:${rcv.srcPort}: ${reason}`, { status });
    if (status <= 0) return;
    // Answer only what parsed far enough to have a start line and the headers a reply copies.
    let req: SipMessage;
    try {
      req = SipMessage.parse(data, { datagram: rcv.proto === 'udp', lenient: true });
      if (!req.isRequest || req.method === 'ACK') return;
      // The wire gets Kamailio sanity's phrase for the same check where there is one; the log has the detail.
      const phrase = e instanceof SipParseError ? e.phrase ?? e.reason : 'Bad Request';
      const reply = buildReply(req, status, phrase, { toTag: this.tagForRequest(req), via1: replyVia1(req, rcv, false) });
      this.forwarder.sendReplyTo(req, rcv, reply, false);
    } catch {
      // Not even enough to build a reply: drop, as RFC 3261 allows for unparseable requests.
    }
  }

  /**
   * sl's sl_filter_ACK: an ACK whose To-tag is one of our local replies' tags, for which no
   * transaction waits (tm absorbs the ACK to its own negative replies), answers nothing and is
   * dropped before the script runs, as Kamailio does when sl is loaded.
   */
  private filteredAck(msg: SipMessage): boolean {
    if (msg.method !== 'ACK' || !this.slLoaded) return false;
    let tag: string | undefined;
    try {
      tag = msg.to.tag;
    } catch {
      return false;
    }
    if (!tag?.startsWith(this.tagBase) || tag.charCodeAt(this.tagBase.length) !== 45 /* - */) return false;
    if (this.tm?.has(msg)) return false;
    this.stats.acksFiltered++;
    return true;
  }

  private onRequest(msg: SipMessage, rcv: ReceiveInfo): void {
    for (const h of this.interceptors) if (h.onRequest(msg, rcv)) return;
    if (this.filteredAck(msg)) return;
    const ctx = new MsgContext(msg, rcv, this);
    ctx.msgId = ++this.msgIds;
    ctx.startedAt = performance.now();
    if ((this.overload.active || this.overload.remembersRefusals) && this.refusedUnderOverload(msg)) {
      this.sendReply(ctx, 503, 'Service Unavailable', 'Retry-After: 1\r\n');
      return;
    }
    const script = this.host.acquire();
    let out: RunOutcome | Promise<RunOutcome>;
    try {
      out = script.run('ksr_request_route', ctx);
    } catch (e) {
      this.host.release(script);
      this.scriptFailed(ctx, { status: 'error', error: { message: e instanceof Error ? e.message : String(e) } });
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (o) => this.afterRequestRoute(ctx, o, script),
        (e: unknown) => this.afterRequestRoute(ctx, { status: 'error', error: { message: String(e) } }, script),
      );
    } else {
      this.afterRequestRoute(ctx, out, script);
    }
  }

  private afterRequestRoute(ctx: MsgContext, out: RunOutcome, script: LuaScript): void {
    this.host.release(script);
    this.stats.scriptRuns++;
    this.deps.trace?.routeDone('ksr_request_route', ctx, out);
    if (out.status === 'error' || out.status === 'missing') this.scriptFailed(ctx, out);
    this.tm?.afterRequestRoute(ctx);
    this.stats.observeProcessing((performance.now() - ctx.startedAt) / 1000);
  }

  /** A Lua error: logged with file:line and Call-ID, counted, and a request answered 500. */
  private scriptFailed(ctx: MsgContext, out: RunOutcome): void {
    this.stats.scriptErrors++;
    const err = out.error;
    const where = err?.file ? `${err.file}:${err.line ?? '?'}` : this.cfg.script;
    const what = out.status === 'missing' ? `function ${ctx.route === 'request' ? 'ksr_request_route' : ctx.route} is not defined` : err?.message ?? 'unknown error';
    this.logger.err(`script error in ${ctx.route} route at ${where}: ${what}`, { callId: safeCallId(ctx.msg) });
    if (ctx.msg.isRequest && ctx.route === 'request' && !ctx.replied && ctx.msg.method !== 'ACK') {
      this.sendReply(ctx, 500, 'Server Internal Error');
    }
  }

  private onReply(msg: SipMessage, rcv: ReceiveInfo): void {
    // Replies to the proxy's own requests (dispatcher probes) belong to no script.
    if (this.uac.onReply(msg)) return;
    for (const h of this.interceptors) if (h.onReply(msg, rcv)) return;
    const ctx = new MsgContext(msg, rcv, this);
    ctx.msgId = ++this.msgIds;
    ctx.route = 'reply';
    const script = this.host.acquire();
    if (!script.has('ksr_reply_route')) {
      this.host.release(script);
      this.replyToTm(ctx);
      return;
    }
    const out = script.run('ksr_reply_route', ctx);
    const done = (o: RunOutcome): void => {
      this.host.release(script);
      this.stats.scriptRuns++;
      this.deps.trace?.routeDone('ksr_reply_route', ctx, o);
      if (o.status === 'error') this.scriptFailed(ctx, o);
      if (ctx.drop) return;
      this.replyToTm(ctx);
    };
    if (out instanceof Promise) out.then(done, (e: unknown) => done({ status: 'error', error: { message: String(e) } }));
    else done(out);
  }

  /** tm takes a reply that matches one of its branches; anything else is relayed by Via. */
  private replyToTm(ctx: MsgContext): void {
    if (this.tm) {
      try {
        ctx.route = 'onreply';
        if (this.tm.onReply(ctx)) return;
      } catch (e) {
        this.logger.err(`tm reply processing failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, { callId: safeCallId(ctx.msg) });
        return;
      }
      ctx.route = 'reply';
    }
    this.forwarder.relayReply(ctx);
  }

  // ---- TmCore --------------------------------------------------------------------------------

  resolveUri(uri: string): Target[] | Promise<Target[]> | null {
    return this.forwarder.resolveUri(uri);
  }

  socketFor(proto: Proto, address: string, forced?: string | null): ListenSocket | undefined {
    return this.forwarder.socketFor(proto, address, forced);
  }

  prepareOutgoing(orig: MsgContext, bctx: MsgContext, out: SipMessage, sock: ListenSocket, branch: string): Buffer {
    return this.forwarder.prepareOutgoing(orig, bctx, out, sock, branch);
  }

  send(target: SendTarget, data: Buffer): boolean {
    const ok = this.transports.send(target, data);
    if (this.trace.enabled) this.trace.out(target, data, ok);
    return ok;
  }

  sendReplyTo(req: SipMessage, rcv: ReceiveInfo, reply: Buffer, forceRport: boolean): boolean {
    return this.forwarder.sendReplyTo(req, rcv, reply, forceRport);
  }

  replyTarget(req: SipMessage, rcv: ReceiveInfo, forceRport: boolean): SendTarget {
    return replyTarget(req, rcv, forceRport);
  }

  /**
   * ksr_onsend_route, when the script defines it, sees each request as it goes out (Kamailio's
   * onsend_route); KSR.x.drop() or set_drop() there stops that send. It runs synchronously: a
   * KSR call that would wait is an error there.
   */
  onSend(ctx: MsgContext, data: Buffer, dest?: OnSendInfo): boolean {
    const script = this.host.current;
    if (!script.has('ksr_onsend_route')) return true;
    let out: SipMessage;
    try {
      out = SipMessage.parse(data);
    } catch {
      return true;
    }
    const sctx = MsgContext.derive(ctx, out, ctx.rcv, this, 'onsend', { moduleData: false });
    if (dest) setOnSendInfo(sctx, dest);
    const r = script.run('ksr_onsend_route', sctx);
    if (r instanceof Promise) {
      this.logger.err('ksr_onsend_route must not wait for I/O: the message is sent', { callId: safeCallId(ctx.msg) });
      return true;
    }
    this.deps.trace?.routeDone('ksr_onsend_route', sctx, r);
    if (r.status === 'error') this.scriptFailed(sctx, r);
    return !sctx.drop;
  }

  runEvent(fn: string, evName: string, ctx: MsgContext | null, setup?: (ctx: MsgContext) => void): void | Promise<void> {
    const script = this.host.acquire();
    if (!script.has(fn)) {
      this.host.release(script);
      return;
    }
    const ectx = ctx ?? this.fakedContext();
    const prevRoute = ectx.route;
    ectx.route = 'event';
    setup?.(ectx);
    const done = (o: RunOutcome): void => {
      this.host.release(script);
      if (o.status === 'error') this.scriptFailed(ectx, o);
      ectx.route = prevRoute;
    };
    let out: RunOutcome | Promise<RunOutcome>;
    try {
      out = this.runCallback(script, fn, ectx, evName);
    } catch (e) {
      done({ status: 'error', error: { message: e instanceof Error ? e.message : String(e) } });
      return;
    }
    if (out instanceof Promise) return out.then(done, (e: unknown) => done({ status: 'error', error: { message: String(e) } }));
    done(out);
  }

  runCallback(script: LuaScript, fn: string, ctx: MsgContext, arg?: string): RunOutcome | Promise<RunOutcome> {
    this.stats.scriptRuns++;
    const out = script.run(fn, ctx, arg);
    const trace = this.deps.trace;
    if (!trace) return out;
    if (out instanceof Promise) return out.then((o) => (trace.routeDone(fn, ctx, o), o));
    trace.routeDone(fn, ctx, out);
    return out;
  }

  acquireScript(): LuaScript {
    return this.host.acquire();
  }

  releaseScript(script: LuaScript): void {
    this.host.release(script);
  }

  callbackFailed(ctx: MsgContext, out: RunOutcome): void {
    this.scriptFailed(ctx, out);
  }

  tagFor(req: SipMessage): string {
    return this.tagForRequest(req);
  }

  // ---- ProxyServices -------------------------------------------------------------------------

  forward(ctx: MsgContext, uri?: string): number | Promise<number> {
    return this.forwarder.forwardStateless(ctx, uri);
  }

  forwardReply(ctx: MsgContext, code?: number, reason?: string): boolean {
    if (ctx.msg.isRequest) return false;
    const out = ctx.msg.clone();
    if (code !== undefined || reason !== undefined) out.setStatus(code ?? out.status, reason);
    return this.forwarder.relayReply(ctx, out);
  }

  sendReply(ctx: MsgContext, code: number, reason: string, extraHeaders?: string, body?: Buffer, contentType?: string): number {
    const req = ctx.msg;
    if (!req.isRequest) return -1;
    if (req.method === 'ACK') return -1;
    let headers = extraHeaders ?? '';
    if (ctx.replyHeaders) headers += ctx.replyHeaders;
    const reply = buildReply(req, code, reason, {
      toTag: this.localTag(ctx),
      headers: headers || undefined,
      body: body ?? ctx.replyBody?.body,
      contentType: contentType ?? ctx.replyBody?.contentType,
      server: this.cfg.serverHeader,
      via1: replyVia1(req, ctx.rcv, ctx.forceRport),
    });
    ctx.replied = true;
    this.stats.repliesSent(code);
    return this.forwarder.sendReplyTo(req, ctx.rcv, reply, ctx.forceRport, { close: ctx.sendFlags.replyClose, noConnect: ctx.sendFlags.replyNoConnect }) ? 1 : -1;
  }

  isMyself(host: string, port?: number, proto?: Proto): boolean {
    let h = host.toLowerCase();
    if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
    for (const s of this.transports.sockets()) {
      const a = s.address.toLowerCase();
      if (a !== h && !(a === '0.0.0.0' || a === '::')) continue;
      if (port !== undefined && port !== 0 && s.port !== port) continue;
      if (proto !== undefined && s.proto !== proto) continue;
      return true;
    }
    return this.aliasSet.has(h) || (port !== undefined && this.aliasSet.has(`${h}:${port}`));
  }

  log(ctx: MsgContext | null, level: LogLevel, text: string): void {
    this.logger.log(level, text, ctx ? { callId: safeCallId(ctx.msg) } : undefined);
  }

  localTag(ctx: MsgContext): string {
    return this.tagForRequest(ctx.msg);
  }

  /** Same request (and its retransmissions) -> same To-tag, as Kamailio's sl does. */
  private tagForRequest(req: SipMessage): string {
    let via = '';
    try {
      via = req.topVia.branch ?? '';
    } catch {
      /* no usable Via */
    }
    const h = stableHash(via, safeCallId(req)).slice(0, 8);
    return `${this.tagBase}-${h}`;
  }
}

function safeCallId(msg: SipMessage): string {
  try {
    return msg.callId;
  } catch {
    return '';
  }
}
