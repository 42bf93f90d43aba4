/**
 * Requests from the network an app answers (drachtio-server's role as UAS): the script hands one
 * over (send_to_app), the app's `sip` responses go out through an RFC 3261 server transaction, a
 * 2xx to INVITE makes a dialog (and is retransmitted until its ACK), CANCEL answers the INVITE 487
 * and tells the app, requests within the app's dialogs go to that app.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ReceiveInfo } from '../context/msg-context.js';
import { buildReply, type SipMessage } from '../sip/index.js';
import { replyVia1 } from '../sip/reply-via.js';
import { serverKey } from '../tm/transaction-layer.js';
import { InviteServerTransaction, NonInviteServerTransaction, type AnyServerTransaction, type ServerTransactionHost } from '../tm/server-transaction.js';
import type { AppConnection } from './app-connection.js';
import { contactFor, hostPort, type BridgeContext } from './bridge-context.js';
import { Dialog } from './dialogs.js';
import { formatMeta } from './meta.js';
import { applySessionExpires, parseSessionExpires, type SessionExpires } from './session-timer.js';
import { extraHeaderLines, header, localizeAppHeaders, parseAppSip, type AppSipText } from './sip-text.js';
import type { WireMessage } from './wire.js';
import { SlotMap } from '../lib/slot-map.js';

/** Headers of an app's response the stack writes itself. */
const RESPONSE_SKIP = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'record-route', 'content-type', 'max-forwards']);

/** One request from the network an app answers. */
export class InboundTxn implements ServerTransactionHost {
  readonly id = randomUUID();
  readonly server: AnyServerTransaction;
  readonly key: string;
  localTag: string;
  finalStatus = 0;
  dialog: Dialog | null;
  /** Initial INVITE: the early dialog its 1xx with our To-tag made (PRACK, UPDATE arrive in it). */
  early: Dialog | null = null;
  /** RSeq of our next reliable provisional response (RFC 3262 7.1: random start). */
  rseq = Math.floor(Math.random() * 0x7fffffff) + 1;
  /** The app proxies this request (its `proxy` message). */
  /** The app's `proxy` of this request (proxy-relay.ts), cancelled with it. */
  proxying: { cancel(): void } | null = null;

  constructor(
    private readonly side: UasSide,
    readonly app: AppConnection,
    readonly req: SipMessage,
    readonly rcv: ReceiveInfo,
    dialog: Dialog | null,
  ) {
    this.key = serverKey(req);
    this.server = req.method === 'INVITE' ? new InviteServerTransaction(this, req, rcv) : new NonInviteServerTransaction(this, req, rcv);
    this.localTag = dialog ? dialog.localTag : req.to.tag ?? randomBytes(6).toString('hex');
    this.dialog = dialog;
  }

  get timers(): ServerTransactionHost['timers'] {
    return this.side.ctx.host.timers;
  }

  get cfg(): ServerTransactionHost['cfg'] {
    return this.side.ctx.host.tmCfg;
  }

  sendUpstream(req: SipMessage, rcv: ReceiveInfo, reply: Buffer): boolean {
    return this.side.ctx.host.sendReplyTo(req, rcv, reply);
  }

  serverTerminated(): void {
    this.side.forget(this);
  }
}

export class UasSide {
  private readonly byKey = new SlotMap<InboundTxn>();
  private readonly byId = new SlotMap<InboundTxn>();

  /** `ackTimeout`: the ACK for our 2xx never came (the bridge sends a BYE and tells the app). */
  constructor(readonly ctx: BridgeContext, private readonly ackTimeout: (d: Dialog) => void) {}

  get pending(): number {
    return this.byId.size;
  }

  get(txnId: string): InboundTxn | undefined {
    return this.byId.get(txnId);
  }

  forget(t: InboundTxn): void {
    if (this.byKey.get(t.key) === t) this.byKey.delete(t.key);
    if (this.byId.get(t.id) === t) this.byId.delete(t.id);
  }

  /** A retransmission of a request an app has: its last response again. True when it was one. */
  absorbRetransmission(msg: SipMessage): boolean {
    let key: string;
    try {
      key = serverKey(msg);
    } catch {
      return false;
    }
    const t = this.byKey.get(key);
    if (!t) return false;
    if (msg.method === 'ACK') {
      if ('onAck' in t.server) t.server.onAck();
      return true;
    }
    t.server.onRetransmission();
    return true;
  }

  /** Hands a request to `app` (send_to_app, or a request within its dialog). */
  handOver(app: AppConnection, msg: SipMessage, rcv: ReceiveInfo, dialog: Dialog | null): InboundTxn {
    const t = new InboundTxn(this, app, msg, rcv, dialog);
    this.byKey.set(t.key, t);
    this.byId.set(t.id, t);
    if (msg.method === 'INVITE' && !dialog) {
      // sofia answers 100 Trying at once; so does drachtio-server.
      t.server.sendReply(100, buildReply(msg, 100, 'Trying', { via1: replyVia1(msg, rcv, false) }));
    }
    this.deliver(app, msg, rcv, t.id, dialog?.id ?? '', !dialog);
    if (msg.method === 'INVITE' && !dialog) this.ctx.cdr('attempt', 'network', text(msg));
    return t;
  }

  /** `sip|network|meta|txnId|dialogId|[receivedOn host|port|]` then the request. */
  deliver(app: AppConnection, msg: SipMessage, rcv: ReceiveInfo, txnId: string, dialogId: string, withReceivedOn: boolean): void {
    const raw = text(msg);
    const meta = formatMeta({ source: 'network', bytes: Buffer.byteLength(raw), proto: rcv.proto, address: rcv.srcAddress, port: rcv.srcPort });
    const recv = withReceivedOn ? `${rcv.localAddress}|${rcv.localPort}|` : '';
    app.send(`sip|${meta}|${txnId}|${dialogId}|${recv}\r\n${raw}`);
  }

  /** CANCEL for an INVITE an app has: 200 to the CANCEL, 487 to the INVITE, the app told. */
  onCancel(cancel: SipMessage, rcv: ReceiveInfo): boolean {
    let key: string;
    try {
      key = serverKey(cancel, 'INVITE');
    } catch {
      return false;
    }
    const t = this.byKey.get(key);
    if (!t) return false;
    const ok = buildReply(cancel, 200, 'OK', { toTag: t.localTag, via1: replyVia1(cancel, rcv, false), server: this.ctx.host.serverHeader });
    this.ctx.host.sendReplyTo(cancel, rcv, ok);
    if (t.proxying) t.proxying.cancel();
    else if (t.finalStatus === 0) {
      this.sendFinal(t, 487, 'Request Terminated', '', undefined);
      this.deliver(t.app, cancel, rcv, t.id, '', false);
    }
    return true;
  }

  /** A request within a dialog an app owns. */
  onInDialog(d: Dialog, msg: SipMessage, rcv: ReceiveInfo): void {
    if (msg.method === 'ACK') {
      d.stop2xx();
      if (d.app) this.deliver(d.app, msg, rcv, randomUUID(), d.id, false);
      return;
    }
    if (msg.method === 'PRACK') {
      const rseq = Number(/^\s*(\d+)/.exec(msg.header('rack') ?? '')?.[1]);
      if (Number.isFinite(rseq)) d.stop1xx(rseq);
    }
    const seq = msg.cseq.seq;
    if (seq < d.remoteSeq) {
      this.replyStateless(msg, rcv, 500, 'Server Internal Error', d.localTag);
      return;
    }
    d.remoteSeq = seq;
    if (!d.app) {
      // The app left: a BYE still ends the dialog cleanly; anything else is refused.
      if (msg.method === 'BYE') {
        this.replyStateless(msg, rcv, 200, 'OK', d.localTag);
        this.ctx.dialogs.remove(d);
      } else this.replyStateless(msg, rcv, 481, 'Call/Transaction Does Not Exist', d.localTag);
      return;
    }
    this.handOver(d.app, msg, rcv, d);
    if (msg.method === 'BYE') {
      this.ctx.cdr('stop', 'network', text(msg), 'normal-release');
      this.ctx.dialogs.remove(d);
    }
  }

  replyStateless(msg: SipMessage, rcv: ReceiveInfo, code: number, reason: string, toTag: string): void {
    const buf = buildReply(msg, code, reason, { toTag, via1: replyVia1(msg, rcv, false), server: this.ctx.host.serverHeader });
    this.ctx.host.sendReplyTo(msg, rcv, buf);
  }

  /** The app's `sip` message that is a response: sent on its transaction, echoed back. */
  onAppResponse(app: AppConnection, m: WireMessage, txnId: string): void {
    const t = this.byId.get(txnId);
    if (!t || t.app !== app) {
      app.respond(m.msgId, false, 'Response not sent due to unknown transaction');
      return;
    }
    let parsed: AppSipText;
    try {
      parsed = parseAppSip(m.sip);
    } catch (e) {
      app.respond(m.msgId, false, e instanceof Error ? e.message : 'bad response');
      return;
    }
    const status = parsed.status!;
    if (status < 100 || status > 699 || (t.finalStatus !== 0 && !(status < 300 && status >= 200 && t.finalStatus < 300))) {
      app.respond(m.msgId, false, t.finalStatus ? 'final response already sent' : 'bad status');
      return;
    }
    const toTag = /;\s*tag=([^;>\s]+)/.exec(header(parsed, 'to') ?? '')?.[1];
    if (toTag && !t.req.to.tag && status > 100 && t.finalStatus === 0) t.localTag = toTag;
    const sock = this.ctx.host.socketFor(t.rcv.proto, t.rcv.srcAddress);
    if (sock) localizeAppHeaders(parsed, hostPort(sock));
    let headers = extraHeaderLines(parsed, RESPONSE_SKIP);
    const dialogForming = (t.req.method === 'INVITE' || t.req.method === 'SUBSCRIBE') && !t.dialog;
    const needsContact = (t.req.method === 'INVITE' || t.req.method === 'SUBSCRIBE' || t.req.method === 'UPDATE') && status > 100 && status < 300;
    let localContact = header(parsed, 'contact');
    if (needsContact && !localContact && sock) {
      localContact = contactFor(sock, t.rcv.proto);
      headers += `Contact: ${localContact}\r\n`;
    }
    if (dialogForming && status > 100 && status < 300) {
      for (const rr of t.req.headers('record-route')) headers += `Record-Route: ${rr}\r\n`;
    }
    // Require: 100rel on a 1xx to an INVITE: sent reliably (RFC 3262), as drachtio-server does.
    const reliable = t.req.method === 'INVITE' && !t.dialog && status > 100 && status < 200 && t.finalStatus === 0 &&
      /\b100rel\b/i.test(header(parsed, 'require') ?? '');
    let rseq = 0;
    if (reliable) {
      // RFC 3262 3: only to a caller that supports it; drachtio-server answers the app NOK so.
      const offered = [...t.req.headers('supported'), ...t.req.headers('require')].join(',');
      if (!/\b100rel\b/i.test(offered)) {
        app.respond(m.msgId, false, 'Remote endpoint does not support 100rel');
        return;
      }
      rseq = t.rseq++;
      headers += `RSeq: ${rseq}\r\n`;
    }
    // RFC 4028: the 2xx to an INVITE or UPDATE says the session interval and the refresher.
    let se: SessionExpires | null = null;
    const refreshable = status >= 200 && status < 300 && (t.req.method === 'INVITE' || (t.req.method === 'UPDATE' && t.dialog));
    if (refreshable) {
      se = parseSessionExpires(header(parsed, 'session-expires'));
      const asked = parseSessionExpires(t.req.header('session-expires'));
      if (!se && asked) {
        // The caller asked for one and the app said nothing: drachtio-server answers it (refresher uac unless asked otherwise).
        se = { interval: asked.interval, refresher: asked.refresher ?? 'uac' };
        headers += `Session-Expires: ${se.interval};refresher=${se.refresher}\r\n`;
        const supported = t.req.headers('supported').join(',');
        if (/\btimer\b/i.test(supported) && !/\btimer\b/i.test(header(parsed, 'require') ?? '')) headers += 'Require: timer\r\n';
      }
    }
    const ct = header(parsed, 'content-type');
    const buf = this.send(t, status, parsed.reason || '', headers, parsed.body ? { body: Buffer.from(parsed.body, 'utf8'), contentType: ct ?? 'application/sdp' } : undefined);
    let dialogId = t.dialog?.id ?? '';
    if (dialogForming && status >= 200 && status < 300) {
      const d = this.makeDialog(t, localContact ?? '');
      dialogId = d.id;
      this.ctx.cdr('start', 'application', buf.toString('utf8'), 'uas');
    } else if (dialogForming && t.req.method === 'INVITE' && status > 100 && status < 200) {
      const d = t.early ?? this.makeDialog(t, localContact ?? '', true);
      dialogId = d.id;
      if (reliable) this.retransmit1xx(d, t, rseq, buf);
    } else if (dialogForming && status > 100) {
      dialogId = `${t.req.callId};from-tag=${t.req.from.tag ?? ''}`;
    }
    const sd = t.dialog;
    if (refreshable && sd && !sd.terminated) applySessionExpires(sd, se, false, this.ctx.sessionActions);
    // Initial INVITE or re-INVITE: the UAS core waits for the ACK of its 2xx (resending it over UDP).
    if (t.req.method === 'INVITE' && status >= 200 && status < 300 && t.dialog) this.retransmit2xx(t.dialog, t, buf);
    if (status >= 300 && t.req.method === 'INVITE' && !t.dialog) this.ctx.cdr('stop', 'application', buf.toString('utf8'), 'call-rejected');
    const raw = buf.toString('utf8');
    const meta = formatMeta({ source: 'application', bytes: buf.length, proto: t.rcv.proto, address: t.rcv.srcAddress, port: t.rcv.srcPort });
    app.respond(m.msgId, true, `${meta}|${t.id}|${dialogId}||Msg sent:|\r\n${raw}`);
  }

  /** Sends a response on the transaction and counts a final one. */
  private send(t: InboundTxn, status: number, reason: string, headers: string, body: { body: Buffer; contentType: string } | undefined): Buffer {
    const buf = buildReply(t.req, status, reason, {
      toTag: t.localTag, headers: headers || undefined, body: body?.body, contentType: body?.contentType,
      via1: replyVia1(t.req, t.rcv, false),
    });
    if (status >= 200 && t.finalStatus === 0) {
      t.finalStatus = status;
      if (t.early) {
        // The early dialog: confirmed by the 2xx (makeDialog), gone with a failure.
        t.early.stop1xx();
        if (status >= 300) this.ctx.dialogs.remove(t.early);
      }
      if (!t.dialog || t.req.method !== 'ACK') {
        if (status < 300) this.ctx.metrics.answered++;
        else this.ctx.metrics.failed++;
      }
    }
    t.server.sendReply(status, buf);
    return buf;
  }

  /** A final response relayed from downstream (the app proxies the request). */
  relayFinal(t: InboundTxn, status: number, buf: Buffer): void {
    if (t.finalStatus === 0) {
      t.finalStatus = status;
      if (status < 300) this.ctx.metrics.answered++;
      else this.ctx.metrics.failed++;
    }
    t.server.sendReply(status, buf);
  }

  /** A final response of ours (CANCEL, app gone), when the app has not sent one. */
  sendFinal(t: InboundTxn, status: number, reason: string, headers: string, body: { body: Buffer; contentType: string } | undefined): void {
    if (t.finalStatus !== 0) return;
    this.send(t, status, reason, headers, body);
    if (t.req.method === 'INVITE' && !t.dialog) this.ctx.cdr('stop', 'application', `SIP/2.0 ${status} ${reason}\r\n`, status === 487 ? 'call-canceled' : 'call-rejected');
  }

  private makeDialog(t: InboundTxn, localContact: string, early = false): Dialog {
    if (t.early && !early) {
      const d = t.early;
      d.early = false;
      if (localContact) d.localContact = localContact;
      t.dialog = d;
      return d;
    }
    const req = t.req;
    const contact = req.contacts()[0];
    const d = new Dialog({
      role: 'uas', app: t.app, callId: req.callId, localTag: t.localTag, remoteTag: req.from.tag ?? '',
      localUri: stripTag(req.header('to') ?? ''), remoteUri: stripTag(req.header('from') ?? ''),
      remoteTarget: contact?.uri ?? req.from.uri, routeSet: req.headers('record-route').flatMap(splitList),
      localSeq: Math.floor(Math.random() * 10000) + 1, remoteSeq: req.cseq.seq, localContact, inviteSeq: req.cseq.seq,
      flow: t.rcv.proto !== 'udp' && t.rcv.connId !== undefined ? { address: t.rcv.srcAddress, connId: t.rcv.connId } : undefined,
    });
    d.early = early;
    this.ctx.dialogs.add(d);
    if (early) t.early = d;
    else t.dialog = d;
    return d;
  }

  /** RFC 3262 3: a reliable 1xx again at T1, 2*T1 ... until its PRACK, for 64*T1 (UDP only). */
  private retransmit1xx(d: Dialog, t: InboundTxn, rseq: number, buf: Buffer): void {
    const cfg = this.ctx.host.tmCfg;
    let interval = t.rcv.proto === 'udp' ? cfg.retr_timer1 : 64 * cfg.retr_timer1;
    let elapsed = 0;
    const tick = (): void => {
      if (!d.unacked1xx.has(rseq)) return;
      elapsed += interval;
      if (elapsed >= 64 * cfg.retr_timer1 || t.finalStatus !== 0) {
        d.unacked1xx.delete(rseq);
        if (t.finalStatus === 0) {
          // RFC 3262 3: no PRACK for 64*T1: the INVITE is rejected with a 5xx (sofia's 504).
          this.ctx.host.log('warn', `drachtio: no PRACK for RSeq ${rseq} of ${d.id}: 504`);
          this.sendFinal(t, 504, 'Reliable Response Time-Out', '', undefined);
        }
        return;
      }
      this.ctx.host.sendReplyTo(t.req, t.rcv, buf);
      interval *= 2;
      d.unacked1xx.set(rseq, setTimeout(tick, interval));
    };
    d.unacked1xx.set(rseq, setTimeout(tick, interval));
  }

  /**
   * 13.3.1.4: the 2xx again at T1, 2*T1 ... T2 until the ACK (over UDP; reliable transports carry
   * it once). No ACK after 64*T1: the session ends with a BYE, as drachtio-server does.
   */
  private retransmit2xx(d: Dialog, t: InboundTxn, buf: Buffer): void {
    const cfg = this.ctx.host.tmCfg;
    const resend = t.rcv.proto === 'udp';
    const p = { req: t.req, rcv: t.rcv, buf, timer: null as NodeJS.Timeout | null, interval: resend ? cfg.retr_timer1 : 64 * cfg.retr_timer1, elapsed: 0 };
    d.stop2xx();
    d.pending2xx = p;
    const tick = (): void => {
      if (d.pending2xx !== p) return;
      p.elapsed += p.interval;
      if (p.elapsed >= 64 * cfg.retr_timer1) {
        this.ctx.host.log('warn', `drachtio: no ACK for 2xx of dialog ${d.id}: BYE`);
        d.pending2xx = null;
        if (!d.terminated) this.ackTimeout(d);
        return;
      }
      if (resend) this.ctx.host.sendReplyTo(p.req, p.rcv, p.buf);
      p.interval = Math.min(p.interval * 2, cfg.retr_timer2);
      p.timer = setTimeout(tick, p.interval);
    };
    p.timer = setTimeout(tick, p.interval);
  }

  /** The app left: its unanswered requests get 480. */
  releaseApp(app: AppConnection): void {
    for (const t of [...this.byId.values()]) {
      if (t.app !== app) continue;
      if (t.finalStatus === 0 && !t.proxying && t.req.method !== 'ACK') this.sendFinal(t, 480, 'Temporarily Unavailable', '', undefined);
    }
  }
}

/** The request as it goes to the app: with the script's edits, if any. */
function text(msg: SipMessage): string {
  return (msg.hasEdits ? msg.serialize() : msg.buf).toString('utf8');
}

function stripTag(v: string): string {
  return v.replace(/;\s*tag=[^;>\s]*/i, '');
}

/** Splits a Record-Route value holding several entries. */
function splitList(v: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of v) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export { splitList, stripTag };
