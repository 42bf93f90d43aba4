/**
 * The offline test harness: a real KemiProxy (engine, KSR bindings, tm) on a script, with
 * captured transports instead of sockets and a manual clock for tm's timers. A test feeds it SIP
 * messages from chosen addresses and reads back what the script did: what was sent (local
 * replies, relayed requests and their destinations), the log lines, the script callbacks that
 * ran and the flags and pseudo-variables of their messages. Replies fed to relayed branches
 * drive ksr_reply_route, onreply, branch-failure and failure routes; advancing the clock drives
 * timeouts. Everything runs in memory, in milliseconds.
 */
import { resolve } from 'node:path';
import { KemiProxy, type CoreConfig, type RouteTrace } from '../core/proxy.js';
import type { MsgContext, PvValue, ReceiveInfo, RunOutcome } from '../context/msg-context.js';
import { Logger, type LogFields, type LogLevel } from '../lib/log.js';
import { MemoryStore } from '../state/memory-store.js';
import type { StateStore } from '../state/store.js';
import { Usrloc, type UlContact } from '../state/usrloc.js';
import { DEFAULT_MODULES } from '../ops/config.js';
import { selectModules } from '../app/modules.js';
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import { getPv } from '../pv/registry.js';
import { SipMessage } from '../sip/index.js';
import type { SendTarget } from '../transport/types.js';
import type { DnsBackend } from '../transport/dns.js';
import { CaptureTransports } from './capture-transports.js';
import { ManualClock } from './clock.js';
import { seedState, type StateFixture } from './fixture.js';
import { buildRequest, buildResponse, formatAddress, parseAddress, type Address, type ReplySpec, type RequestSpec } from './sip-builder.js';

export interface HarnessOptions {
  /** The KEMI Lua script (a path, relative to the working directory). */
  script: string;
  /** Loaded modules (Kamailio's loadmodule); default: kemi-proxy's default list. */
  modules?: readonly string[];
  modparams?: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /** Kamailio's alias=: names that are this proxy besides the listen addresses. */
  aliases?: readonly string[];
  /** #!define NAME value. */
  defines?: Readonly<Record<string, string | number>>;
  /** The proxy's listen addresses (nothing is bound); default udp and tcp on 127.0.0.1:5060. */
  listen?: readonly string[];
  serverHeader?: string;
  /**
   * Host names the proxy may resolve, to their addresses (A/AAAA records; no SRV or NAPTR, so a
   * name without a port goes to 5060). Any other name does not resolve: no real DNS is asked.
   */
  dns?: Readonly<Record<string, string | readonly string[]>>;
  /** State the modules start from. */
  state?: StateFixture;
  /** Log lines captured from this level up (default dbg: all). */
  logLevel?: LogLevel;
  /** Also write the log to stderr (for debugging a test). */
  echoLog?: boolean;
}

export interface LogLine {
  readonly level: LogLevel;
  readonly text: string;
  readonly callId?: string;
}

/** One message the proxy sent, as the transport got it. */
export class SentMessage {
  private parsed: SipMessage | null = null;

  constructor(
    readonly target: SendTarget,
    readonly data: Buffer,
    /** Position among everything the proxy sent. */
    readonly seq: number,
    /** The same bytes went to the same place before (a retransmission by tm's timers). */
    readonly retransmission: boolean,
  ) {}

  get msg(): SipMessage {
    this.parsed ??= SipMessage.parse(this.data);
    return this.parsed;
  }

  get text(): string {
    return this.data.toString('latin1');
  }

  /** Where it went. */
  get destination(): Address {
    return { proto: this.target.proto, address: this.target.address, port: this.target.port };
  }

  get isRequest(): boolean {
    return this.msg.isRequest;
  }

  /** Request method, or the CSeq method of a reply. */
  get method(): string {
    return this.msg.isRequest ? this.msg.method : this.msg.cseq.method;
  }

  get ruri(): string | undefined {
    return this.msg.isRequest ? this.msg.ruri : undefined;
  }

  /** Status code of a reply (0 for a request). */
  get code(): number {
    return this.msg.isRequest ? 0 : this.msg.status;
  }

  get reason(): string {
    return this.msg.isRequest ? '' : this.msg.reason;
  }

  /** First value of a header (compact forms and case are handled), or undefined. */
  header(name: string): string | undefined {
    return this.msg.header(name);
  }

  /** Every value of a header, in order. */
  headers(name: string): string[] {
    return this.msg.headerList(name);
  }

  get body(): string {
    return this.msg.body.toString('latin1');
  }

  /** One line: `INVITE sip:bob@192.0.2.20 -> udp:192.0.2.20:5060` / `486 Busy Here -> udp:...`. */
  toString(): string {
    const start = this.msg.isRequest ? `${this.msg.method} ${this.msg.ruri}` : `${this.msg.status} ${this.msg.reason}`;
    return `${start} -> ${formatAddress(this.destination)}${this.retransmission ? ' (retransmission)' : ''}`;
  }
}

/** A script callback that ran: its name, how it ended and the message context it ran on. */
export class RouteRun {
  constructor(
    readonly fn: string,
    readonly ctx: MsgContext,
    readonly outcome: RunOutcome,
  ) {}

  get status(): RunOutcome['status'] {
    return this.outcome.status;
  }

  /** A pseudo-variable as the script would read it now ($du, $rU, $avp(x), $T_reply_code, ...). */
  pv(spec: string): PvValue | null {
    return getPv(this.ctx, spec);
  }

  /** setflag() flags of the message. */
  isFlagSet(n: number): boolean {
    return (this.ctx.flags & (1 << n)) !== 0;
  }
}

/** What one step (a message in, a clock advance) made the proxy do. */
export class Step {
  constructor(
    readonly sent: readonly SentMessage[],
    readonly logs: readonly LogLine[],
    /** Script callbacks in the order they finished (branch routes run inside t_relay, so they end before the request route). */
    readonly routes: readonly RouteRun[],
  ) {}

  /** Replies the proxy sent (its own and relayed ones), retransmissions left out. */
  get replies(): SentMessage[] {
    return this.sent.filter((s) => !s.isRequest && !s.retransmission);
  }

  /** Requests the proxy sent (relayed, ACK / CANCEL of its own), retransmissions left out. */
  get requests(): SentMessage[] {
    return this.sent.filter((s) => s.isRequest && !s.retransmission);
  }

  /** The one final reply sent (>= 200), or undefined; an error when there were several. */
  get finalReply(): SentMessage | undefined {
    const f = this.replies.filter((r) => r.code >= 200);
    if (f.length > 1) throw new Error(`several final replies: ${f.join('; ')}`);
    return f[0];
  }

  /** Requests sent with this method. */
  relayed(method?: string): SentMessage[] {
    return this.requests.filter((r) => method === undefined || r.method === method.toUpperCase());
  }

  /** The last run of a callback in this step (`ksr_request_route`, `ksr_failure_manage`, ...). */
  route(fn: string): RouteRun | undefined {
    for (let i = this.routes.length - 1; i >= 0; i--) if (this.routes[i]!.fn === fn) return this.routes[i];
    return undefined;
  }

  /** A PV read on the context of the request route of this step (else the first callback that ran). */
  pv(spec: string): PvValue | null {
    const r = this.route('ksr_request_route') ?? this.routes[0];
    if (!r) throw new Error(`no script callback ran in this step: cannot read ${spec}`);
    return r.pv(spec);
  }

  /** A readable account: the callbacks that ran, then each message sent. */
  toString(): string {
    return [...this.routes.map((r) => `route ${r.fn}: ${r.status}`), ...this.sent.map((s) => `sent ${s}`)].join('\n');
  }
}

/** Answers A/AAAA queries from a table; everything else is "not found". */
function fixedDns(table: Readonly<Record<string, string | readonly string[]>>): DnsBackend {
  const byName = new Map(Object.entries(table).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? [v] : [...v]]));
  const notFound = (name: string): Promise<never> => Promise.reject(Object.assign(new Error(`harness dns: ${name} not found`), { code: 'ENOTFOUND' }));
  const records = (host: string, v6: boolean): Promise<{ address: string; ttl: number }[]> => {
    const a = (byName.get(host.toLowerCase()) ?? []).filter((x) => x.includes(':') === v6);
    return a.length > 0 ? Promise.resolve(a.map((address) => ({ address, ttl: 3600 }))) : notFound(host);
  };
  return {
    resolve4: (h) => records(h, false),
    resolve6: (h) => records(h, true),
    resolveSrv: (n) => notFound(n),
    resolveNaptr: (n) => notFound(n),
    lookup: (h) => {
      const a = byName.get(h.toLowerCase());
      return a ? Promise.resolve(a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))) : notFound(h);
    },
  };
}

class CaptureLogger extends Logger {
  constructor(level: LogLevel, echo: boolean, private readonly sink: (l: LogLine) => void) {
    super(level, 'plain', echo ? (line) => process.stderr.write(line) : () => undefined);
  }

  override log(level: LogLevel, text: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    this.sink({ level, text: text.endsWith('\n') ? text.slice(0, -1) : text, callId: fields?.callId });
    super.log(level, text, fields);
  }
}

export interface SendOptions {
  /** Who sends it (default udp:192.0.2.10:5060). */
  from?: string | Address;
  /** Which listen socket gets it (`udp:127.0.0.1:5060`); default the first of the sender's protocol. */
  to?: string;
}

/** Where messages come from when a test does not say. */
export const DEFAULT_SOURCE: Address = { proto: 'udp', address: '192.0.2.10', port: 5060 };

export class ScriptHarness {
  readonly logs: LogLine[] = [];
  readonly routes: RouteRun[] = [];
  private readonly sentSeen = new Map<string, number>();
  private readonly wrapped: SentMessage[] = [];
  private readonly connIds = new Map<string, number>();

  private constructor(
    readonly proxy: KemiProxy,
    readonly state: StateStore,
    /** tm's timers run on it: `advance` moves it. */
    readonly clock: ManualClock,
    readonly transports: CaptureTransports,
  ) {}

  /** Builds and starts the proxy instance (see scriptHarness). */
  static async create(o: HarnessOptions): Promise<ScriptHarness> {
    const cfg: CoreConfig = {
      listen: [...(o.listen ?? ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'])],
      script: resolve(o.script),
      modules: [...(o.modules ?? DEFAULT_MODULES)],
      aliases: [...(o.aliases ?? [])],
      modparams: o.modparams ?? {},
      defines: o.defines ?? {},
      watch: false,
      serverHeader: o.serverHeader ?? 'kemi-proxy',
      overloadBacklogMs: 0,
    };
    const state = new MemoryStore();
    await seedState(state, o.state ?? {});
    const modules = await selectModules(cfg.modules);
    let h: ScriptHarness | null = null;
    const early: LogLine[] = [];
    const logger = new CaptureLogger(o.logLevel ?? 'dbg', o.echoLog ?? false, (l) => (h ? h.logs : early).push(l));
    const clock = new ManualClock();
    const transports = new CaptureTransports();
    const trace: RouteTrace = { routeDone: (fn, ctx, out) => h?.routes.push(new RouteRun(fn, ctx, out)) };
    const dns = fixedDns(o.dns ?? {});
    const proxy = new KemiProxy(cfg, { logger, state, modules, catalog: KEMI_CATALOG, transports, clock, trace, dns });
    h = new ScriptHarness(proxy, state, clock, transports);
    h.logs.push(...early);
    try {
      await proxy.start();
    } catch (e) {
      await proxy.stop().catch(() => undefined);
      await state.close();
      throw e;
    }
    return h;
  }

  /** Everything the proxy sent so far. */
  get sent(): readonly SentMessage[] {
    this.wrapNew();
    return this.wrapped;
  }

  private wrapNew(): void {
    const raw = this.transports.sent;
    for (let i = this.wrapped.length; i < raw.length; i++) {
      const s = raw[i]!;
      const k = `${s.target.proto}|${s.target.address}|${s.target.port}|${s.data.toString('latin1')}`;
      const again = this.sentSeen.has(k);
      this.sentSeen.set(k, i);
      this.wrapped.push(new SentMessage(s.target, s.data, s.seq, again));
    }
  }

  /** Lets promises of KSR calls that waited (and anything they started) settle. */
  private async settle(): Promise<void> {
    let quiet = 0;
    let last = -1;
    for (let i = 0; i < 200 && quiet < 3; i++) {
      await new Promise<void>((r) => setImmediate(r));
      const n = this.transports.sent.length + this.logs.length + this.routes.length;
      quiet = n === last ? quiet + 1 : 0;
      last = n;
    }
  }

  private async step(action: () => void | Promise<void>): Promise<Step> {
    this.wrapNew();
    const s0 = this.wrapped.length;
    const l0 = this.logs.length;
    const r0 = this.routes.length;
    await action();
    await this.settle();
    this.wrapNew();
    return new Step(this.wrapped.slice(s0), this.logs.slice(l0), this.routes.slice(r0));
  }

  private receiveInfo(src: Address, to?: string): ReceiveInfo {
    const socks = this.proxy.sockets();
    const wanted = to ? parseAddress(to) : null;
    const local = wanted
      ? socks.find((s) => s.proto === wanted.proto && s.address === wanted.address && s.port === wanted.port)
      : socks.find((s) => s.proto === (src.proto === 'udp' ? 'udp' : 'tcp') && (s.family === 6) === src.address.includes(':')) ?? socks[0];
    if (!local) throw new Error(to ? `no listen socket ${to}` : 'the proxy has no listen socket');
    let connId: number | undefined;
    if (src.proto !== 'udp') {
      const k = formatAddress(src);
      connId = this.connIds.get(k) ?? this.connIds.size + 1;
      this.connIds.set(k, connId);
    }
    return { proto: src.proto, srcAddress: src.address, srcPort: src.port, localAddress: local.address, localPort: local.port, family: local.family, connId };
  }

  /**
   * Any SIP message, as bytes from `from`. A string without any CR is taken as written with LF
   * line ends and sent with CRLF (its Content-Length must count the CRLF form); a string with CRs
   * and a Buffer go as they are.
   */
  receive(message: string | Buffer, opts: SendOptions = {}): Promise<Step> {
    const src = parseAddress(opts.from ?? DEFAULT_SOURCE);
    const text = typeof message === 'string' && !message.includes('\r') ? message.replace(/\n/g, '\r\n') : message;
    const data = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    const rcv = this.receiveInfo(src, opts.to);
    return this.step(() => this.proxy.onMessage(data, rcv));
  }

  /** A request: raw text (LF or CRLF line ends) or built from a spec, from `opts.from`. */
  request(req: string | RequestSpec, opts: SendOptions = {}): Promise<Step> {
    const src = parseAddress(opts.from ?? DEFAULT_SOURCE);
    return this.receive(typeof req === 'string' ? req : buildRequest(req, src), { ...opts, from: src });
  }

  /**
   * The answer of the UA a request was relayed to: sent from that request's destination, with its
   * Vias, Record-Route, From, To (tagged), Call-ID and CSeq.
   */
  reply(to: SentMessage, code: number, spec: ReplySpec = {}): Promise<Step> {
    if (!to.isRequest) throw new Error(`reply(): ${to} is not a request`);
    return this.receive(buildResponse(to.msg, code, spec), { from: to.destination });
  }

  /** Moves the clock of tm's timers on by `ms`, running what falls due (retransmissions, fr_timer, fr_inv_timer). */
  advance(ms: number): Promise<Step> {
    return this.step(() => this.clock.advance(ms, () => this.settle()));
  }

  /** An htable item as the script reads it now (a number for an integer item), or null. */
  async htable(table: string, key: string): Promise<string | number | null> {
    const raw = await this.state.get(`ht:${table}`, key);
    if (raw === null) return null;
    if (raw.startsWith('s:')) return raw.slice(2);
    return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }

  /** The live usrloc contacts of an AOR, best first (what lookup() would use). */
  async contacts(aor: string, table = 'location'): Promise<UlContact[]> {
    return new Usrloc(this.state, table).get(aor.toLowerCase());
  }

  /** Log lines (all so far) whose text matches. */
  logged(re: RegExp | string): LogLine[] {
    return this.logs.filter((l) => (typeof re === 'string' ? l.text.includes(re) : re.test(l.text)));
  }

  async close(): Promise<void> {
    await this.proxy.stop();
    await this.state.close();
  }
}

/**
 * Loads a script with a config and a state fixture into a real proxy instance without sockets.
 *
 *   const h = await scriptHarness({ script: 'routes/route.lua', aliases: ['example.org'] });
 *   const step = await h.request({ method: 'OPTIONS', ruri: 'sip:example.org' });
 *   expect(step.finalReply?.code).toBe(200);
 *   await h.close();
 */
export function scriptHarness(o: HarnessOptions): Promise<ScriptHarness> {
  return ScriptHarness.create(o);
}
