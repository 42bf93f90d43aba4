/**
 * The proxy core: bytes from a transport -> SIP message -> routing script -> whatever the script
 * asked for (stateless forward, local reply; tm adds stateful relay). Implements ProxyServices,
 * the actions KSR bindings call back into.
 *
 * Hot path: one parse (lazy), one MsgContext, one synchronous script run when no KSR call does I/O.
 */
import { createHash } from 'node:crypto';
import { MsgContext, nextMsgId, type LogLevel, type Proto, type ProxyServices, type ReceiveInfo } from './context.js';
import type { ProxyConfig } from '../ops/config.js';
import { Logger } from '../ops/log.js';
import { SipMessage, SipParseError, buildReply, validateReply, validateRequest } from '../sip/index.js';
import { TransportManager } from '../transport/manager.js';
import { parseListen, type ListenSocket } from '../transport/types.js';
import { SipResolver } from '../transport/dns.js';
import { ScriptHost } from '../engine/script-host.js';
import type { LuaScript, RunOutcome } from '../engine/lua-script.js';
import { openStore } from '../state/open-store.js';
import type { StateStore } from '../state/store.js';
import type { KemiModule } from '../../kemi/types.js';
import { attachWorker, IpcStore, ownerOf, workerLink, type WorkerLink } from '../ops/cluster.js';
import { LocalUac } from './local-uac.js';
import { selectModules } from './modules.js';
import { Forwarder, replyVia1 } from './forwarder.js';
import { OverloadGuard } from './overload.js';
import { CoreStats } from './stats.js';
import { TransactionLayer } from '../tm/transaction-layer.js';
import { tmConfig } from '../tm/config.js';
import type { TmCore } from '../tm/tm-core.js';
import type { SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';

export class KemiProxy implements ProxyServices, TmCore {
  readonly logger: Logger;
  readonly stats = new CoreStats();
  readonly transports: TransportManager;
  readonly resolver = new SipResolver();
  readonly forwarder: Forwarder;
  host!: ScriptHost;
  /** The transaction layer, when the tm module is loaded. */
  readonly tm?: TransactionLayer;
  readonly serverHeader: string;
  private readonly aliasSet: Set<string>;
  private readonly tagBase = createHash('md5').update(String(process.pid) + Date.now()).digest('hex').slice(0, 16);
  private readonly hasReplyRoute = { value: false };

  constructor(readonly cfg: ProxyConfig, log?: Logger) {
    this.logger = log ?? new Logger(cfg.logLevel, cfg.logFormat);
    this.aliasSet = new Set(cfg.aliases.map((a) => a.toLowerCase()));
    this.transports = new TransportManager({
      onMessage: (data, rcv) => this.onMessage(data, rcv),
      onError: (e, where) => this.logger.warn(`transport ${where}: ${e.message}`),
    });
    this.forwarder = new Forwarder(this);
    this.serverHeader = cfg.serverHeader;
    if (cfg.modules.includes('tm')) this.tm = new TransactionLayer(this, tmConfig(cfg.modparams.tm));
  }

  /** Opt-in load shedding (config overloadLagMs); made in start(), when the config is there. */
  overload = new OverloadGuard(0);

  async start(): Promise<void> {
    this.overload = new OverloadGuard(this.cfg.overloadLagMs ?? 0);
    this.overload.start();
    const { modules, loadedNames } = await selectModules(this.cfg.modules);
    this.cluster = workerLink();
    // Workers share the primary's embedded store; Redis they reach themselves.
    this.state = this.cluster && this.cfg.state === 'memory' ? new IpcStore() : await openStore(this.cfg.state, (level, text) => this.logger.log(level, text));
    for (const m of modules) {
      if (!m.init) continue;
      await m.init({
        params: this.cfg.modparams[m.name] ?? {},
        allParams: this.cfg.modparams,
        state: this.state,
        proxy: this,
        log: (level, text) => this.logger.log(level, `${m.name}: ${text}`),
      });
    }
    this.loadedModules = modules;
    this.host = await ScriptHost.create({
      scriptPath: this.cfg.script,
      modules,
      loadedModuleNames: loadedNames,
      log: (level, text) => this.logger.log(level, text),
      watch: this.cfg.watch,
      handleSignals: true,
      loadContext: () => this.fakedContext(),
    });
    await this.transports.listen(this.cfg.listen.map(parseListen));
    for (const s of this.transports.sockets()) this.logger.info(`listening on ${s.id}`);
    if (this.cluster) {
      await this.startAsWorker(modules);
      return;
    }
    if (this.cfg.metrics) {
      const { Metrics } = await import('../ops/metrics.js');
      this.metrics = new Metrics(this);
      const port = await this.metrics.listen(this.cfg.metrics);
      this.logger.info(`metrics on http://${this.cfg.metrics.replace(/:\d+$/, '')}:${port}/metrics`);
    }
    if (this.cfg.rpc) {
      const { RpcServer } = await import('../ops/rpc.js');
      const { registerCoreRpc } = await import('../ops/rpc-methods.js');
      this.rpc = new RpcServer();
      registerCoreRpc(this.rpc, this);
      for (const m of modules) for (const [name, fn] of Object.entries(m.rpc ?? {})) this.rpc.register(name, fn);
      const port = await this.rpc.listen(this.cfg.rpc);
      this.logger.info(`control RPC on http://${this.cfg.rpc.replace(/:\d+$/, '')}:${port}/RPC`);
    }
  }

  /** In a cluster worker: metrics for the primary's aggregation, RPC over IPC, handed-over messages. */
  private async startAsWorker(modules: KemiModule[]): Promise<void> {
    const { Metrics } = await import('../ops/metrics.js');
    const { AggregatorRegistry } = await import('prom-client');
    const { RpcServer } = await import('../ops/rpc.js');
    const { registerCoreRpc } = await import('../ops/rpc-methods.js');
    this.metrics = new Metrics(this);
    AggregatorRegistry.setRegistries([this.metrics.registry]);
    // Constructing one installs prom-client's worker-side answer to the primary's scrape requests.
    void new AggregatorRegistry();
    this.rpc = new RpcServer();
    registerCoreRpc(this.rpc, this);
    for (const m of modules) for (const [name, fn] of Object.entries(m.rpc ?? {})) this.rpc.register(name, fn);
    await attachWorker({ onMessage: (data, rcv) => this.onMessage(data, rcv, true), rpc: this.rpc });
  }

  /** Requests the proxy sends on its own (dispatcher's OPTIONS probes). */
  readonly uac: LocalUac = new LocalUac({
    resolveUri: (uri) => this.resolveUri(uri),
    socketFor: (proto, address) => this.socketFor(proto, address),
    send: (t, d) => this.send(t, d),
    callIdFilter: (id) => !this.cluster || ownerOf(id, this.cluster.count) === this.cluster.index,
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

  /** Set in a cluster worker (--workers N). */
  private cluster: WorkerLink | null = null;

  metrics: import('../ops/metrics.js').Metrics | null = null;
  rpc: import('../ops/rpc.js').RpcServer | null = null;

  async stop(): Promise<void> {
    this.overload.stop();
    await this.metrics?.close();
    await this.rpc?.close();
    for (const h of this.interceptors) await h.close?.();
    this.tm?.close();
    this.uac.close();
    await this.transports.close();
    await this.host?.close();
    for (const m of this.loadedModules) await m.close?.();
    await this.state?.close();
  }

  /** Shared state backend, open once start() ran. */
  state?: StateStore;
  private loadedModules: KemiModule[] = [];

  /** Kamailio's faked message: what KSR calls in a script's main chunk run with. */
  private fakedContext(): MsgContext {
    const msg = SipMessage.parse(Buffer.from('OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfaked\r\nFrom: <sip:you@kamailio.org>;tag=faked\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: faked\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
    return new MsgContext(msg, { proto: 'udp', srcAddress: '127.0.0.1', srcPort: 9, localAddress: '127.0.0.1', localPort: 9, family: 4 }, this);
  }

  sockets(): readonly ListenSocket[] {
    return this.transports.sockets();
  }

  // ---- receive path -------------------------------------------------------------------------

  onMessage(data: Buffer, rcv: ReceiveInfo, handedOver = false): void {
    let msg: SipMessage;
    try {
      msg = SipMessage.parse(data, { datagram: rcv.proto === 'udp' });
      if (msg.isRequest) validateRequest(msg);
      else validateReply(msg);
    } catch (e) {
      this.badMessage(data, rcv, e);
      return;
    }
    if (this.cluster) {
      // With workers, the owner of the Call-ID handles every UDP message of that call.
      if (!handedOver && rcv.proto === 'udp') {
        const owner = ownerOf(msg.callId, this.cluster.count);
        if (owner !== this.cluster.index) {
          this.cluster.forward(owner, data, rcv);
          return;
        }
      }
      // libuv hands us up to 32 datagrams per poll; run the script on ours only after the rest
      // of the batch was handed over, or a handed-over ACK waits behind our batch and the BYE sent
      // after it, read by its owner directly, overtakes it.
      this.pending.push(msg, rcv);
      if (this.pending.length === 2) setImmediate(this.drainPending);
      return;
    }
    this.dispatch(msg, rcv);
  }

  /** Messages of this worker read in the current poll phase: [msg, rcv, msg, rcv, ...]. */
  private pending: (SipMessage | ReceiveInfo)[] = [];
  private readonly drainPending = (): void => {
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
    return !this.tm?.lookup(msg);
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

  private onRequest(msg: SipMessage, rcv: ReceiveInfo): void {
    for (const h of this.interceptors) if (h.onRequest(msg, rcv)) return;
    const ctx = new MsgContext(msg, rcv, this);
    ctx.msgId = nextMsgId();
    ctx.startedAt = performance.now();
    if (this.overload.active && this.shedding(msg)) {
      this.overload.rejected++;
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
    ctx.msgId = nextMsgId();
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

  socketFor(proto: Proto, address: string): ListenSocket | undefined {
    return this.forwarder.socketFor(proto, address);
  }

  prepareOutgoing(orig: MsgContext, bctx: MsgContext, out: SipMessage, sock: ListenSocket, branch: string): Buffer {
    return this.forwarder.prepareOutgoing(orig, bctx, out, sock, branch);
  }

  send(target: SendTarget, data: Buffer): boolean {
    return this.transports.send(target, data);
  }

  sendReplyTo(req: SipMessage, rcv: ReceiveInfo, reply: Buffer, forceRport: boolean): boolean {
    return this.forwarder.sendReplyTo(req, rcv, reply, forceRport);
  }

  /**
   * ksr_onsend_route, when the script defines it, sees each request as it goes out (Kamailio's
   * onsend_route); KSR.x.drop() or set_drop() there stops that send. It runs synchronously: a
   * KSR call that would wait is an error there.
   */
  onSend(ctx: MsgContext, data: Buffer): boolean {
    const script = this.host.current;
    if (!script.has('ksr_onsend_route')) return true;
    let out: SipMessage;
    try {
      out = SipMessage.parse(data);
    } catch {
      return true;
    }
    const sctx = new MsgContext(out, ctx.rcv, this);
    sctx.msgId = ctx.msgId;
    sctx.route = 'onsend';
    sctx.flags = ctx.flags;
    const r = script.run('ksr_onsend_route', sctx);
    if (r instanceof Promise) {
      this.logger.err('ksr_onsend_route must not wait for I/O: the message is sent', { callId: safeCallId(ctx.msg) });
      return true;
    }
    if (r.status === 'error') this.scriptFailed(sctx, r);
    return !sctx.drop;
  }

  runCallback(script: LuaScript, fn: string, ctx: MsgContext): RunOutcome | Promise<RunOutcome> {
    this.stats.scriptRuns++;
    return script.run(fn, ctx);
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
    const h = createHash('md5').update(via).update(safeCallId(req)).digest('hex').slice(0, 8);
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
