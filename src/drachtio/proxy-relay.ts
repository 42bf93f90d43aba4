/**
 * An app's `proxy` of a request it was handed (srf's req.proxy / srf.proxyRequest): kemi-proxy
 * relays it statefully to the app's destinations, one after the other (drachtio's serial forking;
 * 'simultaneous' is tried serially too), relays provisional and final responses upstream, and
 * reports each final response to the app (`response|msgId|OK|meta|||continue`) then `done`.
 */
import { randomBytes } from 'node:crypto';
import type { ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { SendTarget } from '../transport/types.js';
import { InviteClientTransaction, NonInviteClientTransaction, type ClientTransactionUser } from '../tm/client-transaction.js';
import type { AppConnection } from './app-connection.js';
import { hostPort, type BridgeContext } from './bridge-context.js';
import { formatMeta } from './meta.js';
import type { InboundTxn } from './uas.js';
import type { WireMessage } from './wire.js';
import { SlotMap } from '../lib/slot-map.js';

export const PROXY_BRANCH_PREFIX = 'z9hG4bKdrp';

export interface ProxyOptions {
  recordRoute: boolean;
  destinations: string[];
}

/** One proxied request and its current branch. */
export class ProxyRelay implements ClientTransactionUser {
  private next = 0;
  branch = '';
  /** Our Via on the current branch (the message's reads return the received headers). */
  via = '';
  client: InviteClientTransaction | NonInviteClientTransaction | null = null;
  target: SendTarget | null = null;
  out: SipMessage | null = null;
  canceled = false;
  done = false;
  private best: { status: number; buf: Buffer } | null = null;

  constructor(
    private readonly relays: ProxyRelays,
    readonly t: InboundTxn,
    readonly app: AppConnection,
    readonly clientMsgId: string,
    readonly opts: ProxyOptions,
  ) {}

  /** Tries the next destination; when none is left, the best final response goes upstream. */
  tryNext(): void {
    if (this.done) return;
    const dest = this.opts.destinations[this.next++];
    if (!dest || this.canceled) {
      this.finish();
      return;
    }
    void this.relays.sendBranch(this, dest).then((ok) => {
      if (!ok) {
        this.relays.ctx.host.log('warn', `drachtio: proxy to ${dest} could not be sent`);
        this.best ??= { status: 503, buf: Buffer.alloc(0) };
        this.tryNext();
      }
    });
  }

  /** A final response of the current branch. */
  onFinal(status: number, buf: Buffer): void {
    if (status < 300 || status >= 600 || this.canceled) {
      this.relays.upstream(this, status, buf);
      this.finish();
      return;
    }
    if (!this.best || status < this.best.status) this.best = { status, buf };
    this.tryNext();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.t.finalStatus === 0) {
      const b = this.best;
      if (b && b.buf.length > 0) this.relays.upstream(this, b.status, b.buf);
      else this.relays.ctx.host.log('info', `drachtio: proxy of ${this.t.req.method} found no destination`);
    }
    this.app.respond(this.clientMsgId, true, 'done');
  }

  onClientTimeout(): void {
    this.best ??= { status: 408, buf: Buffer.alloc(0) };
    this.tryNext();
  }

  onClientTerminated(): void {
    this.relays.forget(this);
  }

  /** CANCEL from upstream: cancel the current branch, try no more. */
  cancel(): void {
    this.canceled = true;
    this.relays.cancelBranch(this);
  }
}

export class ProxyRelays {
  private readonly byBranch = new SlotMap<ProxyRelay>();

  constructor(readonly ctx: BridgeContext, private readonly finalFor: (t: InboundTxn, status: number, buf: Buffer) => void) {}

  /** `proxy|txnId|remainInDialog|fullResponse|followRedirects|simultaneous|provTimeout|finalTimeout|dest...` */
  start(app: AppConnection, m: WireMessage, t: InboundTxn | undefined): void {
    if (!t || t.app !== app || t.finalStatus !== 0 || t.proxying) {
      app.respond(m.msgId, false, 'unknown transaction or already answered');
      return;
    }
    const destinations = m.tokens.slice(9).filter(Boolean);
    if (destinations.length === 0) {
      app.respond(m.msgId, false, 'Invalid proxy request: not enough information provided');
      return;
    }
    const r = new ProxyRelay(this, t, app, m.msgId, { recordRoute: m.tokens[3] === 'remainInDialog', destinations });
    t.proxying = r;
    r.tryNext();
  }

  forget(r: ProxyRelay): void {
    if (this.byBranch.get(r.branch) === r && r.done) this.byBranch.delete(r.branch);
  }

  async sendBranch(r: ProxyRelay, dest: string): Promise<boolean> {
    const host = this.ctx.host;
    const resolved = host.resolveUri(dest);
    let targets;
    try {
      targets = resolved instanceof Promise ? await resolved : resolved ?? [];
    } catch {
      return false;
    }
    const tg = targets[0];
    if (!tg || r.done) return false;
    const sock = host.socketFor(tg.proto, tg.address);
    if (!sock) return false;
    const target: SendTarget = { proto: tg.proto, address: tg.address, port: tg.port, local: sock.id };
    const out = r.t.req.clone();
    out.ruri = dest;
    const branch = `${PROXY_BRANCH_PREFIX}${randomBytes(8).toString('hex')}`;
    const mf = out.maxForwards;
    if (mf !== undefined) {
      if (mf <= 0) return false;
      out.removeHeaders('max-forwards');
      out.insertHeader(`Max-Forwards: ${mf - 1}\r\n`);
    } else out.insertHeader('Max-Forwards: 70\r\n');
    if (r.opts.recordRoute) out.insertHeader(`Record-Route: <sip:${hostPort(sock)};lr${tg.proto === 'udp' ? '' : `;transport=${tg.proto}`}>\r\n`);
    const via = `SIP/2.0/${tg.proto.toUpperCase()} ${hostPort(sock)};rport;branch=${branch}`;
    out.prependVia(via);
    r.via = via;
    const buf = out.serialize();
    if (r.branch) this.byBranch.delete(r.branch);
    r.branch = branch;
    r.target = target;
    r.out = out;
    this.byBranch.set(branch, r);
    const cfg = host.tmCfg;
    const chost = { timers: host.timers, cfg, send: (t2: SendTarget, d: Buffer) => host.send(t2, d) };
    const timers = { fr: cfg.fr_timer, frInv: cfg.fr_inv_timer };
    r.client = r.t.req.method === 'INVITE' ? new InviteClientTransaction(chost, r, branch, target, buf, timers) : new NonInviteClientTransaction(chost, r, branch, target, buf, timers);
    return r.client.start();
  }

  cancelBranch(r: ProxyRelay): void {
    const c = r.client;
    if (!(c instanceof InviteClientTransaction) || !r.target || !r.out) return;
    const o = r.out;
    let head = `CANCEL ${o.ruri} SIP/2.0\r\nVia: ${r.via}\r\n` +
      `Max-Forwards: 70\r\nFrom: ${o.header('from')}\r\nTo: ${o.header('to')}\r\nCall-ID: ${o.callId}\r\nCSeq: ${o.cseq.seq} CANCEL\r\n`;
    for (const rt of o.headers('route')) head += `Route: ${rt}\r\n`;
    const buf = Buffer.from(head + 'Content-Length: 0\r\n\r\n', 'utf8');
    this.ctx.host.send(r.target, buf);
  }

  /** A response whose top Via is one of our proxy branches: true when taken. */
  onReply(msg: SipMessage, rcv: ReceiveInfo): boolean {
    let branch: string | undefined;
    try {
      branch = msg.topVia.branch;
    } catch {
      return false;
    }
    if (!branch?.startsWith(PROXY_BRANCH_PREFIX)) return false;
    const r = this.byBranch.get(branch);
    if (!r || msg.cseq.method === 'CANCEL') return true;
    const status = msg.status;
    const c = r.client;
    if (c instanceof InviteClientTransaction) {
      if (!c.onReply(status, () => this.ack(r, msg))) return true;
    } else if (c && !c.onReply(status)) return true;
    const up = msg.clone();
    up.removeTopVia();
    const buf = up.serialize();
    if (status < 200) {
      if (status > 100) this.upstream(r, status, buf);
      return true;
    }
    if (r.t.finalStatus !== 0 && status < 300) {
      // A 2xx retransmission: upstream again, as a proxy does (16.7 step 10).
      this.ctx.host.sendReplyTo(r.t.req, r.t.rcv, buf);
      return true;
    }
    const meta = formatMeta({ source: 'network', bytes: msg.buf.length, proto: rcv.proto, address: rcv.srcAddress, port: rcv.srcPort });
    r.app.respond(r.clientMsgId, true, `${meta}|||continue\r\n${msg.buf.toString('utf8')}`);
    r.onFinal(status, buf);
    return true;
  }

  upstream(r: ProxyRelay, status: number, buf: Buffer): void {
    if (status >= 200) this.finalFor(r.t, status, buf);
    else r.t.server.sendReply(status, buf);
  }

  private ack(r: ProxyRelay, res: SipMessage): Buffer {
    const o = r.out!;
    let head = `ACK ${o.ruri} SIP/2.0\r\nVia: ${r.via}\r\n` +
      `Max-Forwards: 70\r\nFrom: ${o.header('from')}\r\nTo: ${res.header('to')}\r\nCall-ID: ${o.callId}\r\nCSeq: ${o.cseq.seq} ACK\r\n`;
    for (const rt of o.headers('route')) head += `Route: ${rt}\r\n`;
    return Buffer.from(head + 'Content-Length: 0\r\n\r\n', 'utf8');
  }
}
