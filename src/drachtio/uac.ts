/**
 * Requests apps originate (drachtio-server's role as UAC): new requests (createUAC, srf.request),
 * requests within the app's dialogs (BYE, re-INVITE, INFO...), CANCEL of a pending INVITE and the
 * ACK of a 2xx. Each goes out through an RFC 3261 client transaction of src/tm (ACK statelessly),
 * resolved with RFC 3263 as relayed requests are; its responses go back to the app.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Proto, ReceiveInfo } from '../context/msg-context.js';
import { SipMessage } from '../sip/index.js';
import type { ListenSocket, SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';
import { InviteClientTransaction, NonInviteClientTransaction, type ClientTransactionUser } from '../tm/client-transaction.js';
import type { AppConnection } from './app-connection.js';
import { contactFor, hostPort, type BridgeContext } from './bridge-context.js';
import { Dialog } from './dialogs.js';
import { formatMeta } from './meta.js';
import { extraHeaderLines, header, localizeAppHeaders, parseAppSip, type AppSipText } from './sip-text.js';
import { splitList, stripTag } from './uas.js';
import { applySessionExpires, parseSessionExpires } from './session-timer.js';
import type { WireMessage } from './wire.js';
import { SlotMap } from '../lib/slot-map.js';

export const APP_BRANCH_PREFIX = 'z9hG4bKdrc';

/** Headers the stack writes itself in requests it builds. */
const DIALOG_SKIP = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'route', 'content-type', 'max-forwards', 'contact']);
const NEW_SKIP = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'content-type', 'max-forwards', 'contact']);
/** Methods whose requests carry our Contact. */
const CONTACT_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'UPDATE', 'REGISTER']);

/** One request an app (or we, for an app that left) sent. */
export class OutboundTxn implements ClientTransactionUser {
  readonly id = randomUUID();
  client: InviteClientTransaction | NonInviteClientTransaction | null = null;
  cancelClient: NonInviteClientTransaction | null = null;
  /** A CANCEL asked for before any provisional reply came. */
  cancelWanted = false;
  gotProvisional = false;
  finalStatus = 0;
  /** Early dialogs the INVITE's 1xx made (one per To-tag: forking). */
  readonly early: Dialog[] = [];

  constructor(
    private readonly side: UacSide,
    readonly app: AppConnection | null,
    readonly req: SipMessage,
    readonly target: SendTarget,
    readonly sock: ListenSocket,
    readonly dialog: Dialog | null,
  ) {}

  get branch(): string {
    return this.req.topVia.branch ?? '';
  }

  onClientTimeout(): void {
    this.side.timedOut(this);
  }

  onClientTerminated(): void {
    this.side.forget(this);
  }
}

export class UacSide {
  private readonly byBranch = new SlotMap<OutboundTxn>();
  private readonly byId = new SlotMap<OutboundTxn>();

  constructor(readonly ctx: BridgeContext) {}

  get pending(): number {
    return this.byId.size;
  }

  forget(t: OutboundTxn): void {
    if (t.cancelClient && t.cancelClient.state !== 'terminated') return;
    if (t.client && t.client.state !== 'terminated') return;
    if (this.byBranch.get(t.branch) === t) this.byBranch.delete(t.branch);
    if (this.byId.get(t.id) === t) this.byId.delete(t.id);
  }

  // ---- from the app ------------------------------------------------------------------------------

  /** `sip|txnId|dialogId[|route]` carrying a request. */
  onAppRequest(app: AppConnection, m: WireMessage, txnId: string, dialogId: string, routeUrl: string): void {
    let parsed: AppSipText;
    try {
      parsed = parseAppSip(m.sip);
    } catch (e) {
      app.respond(m.msgId, false, e instanceof Error ? e.message : 'bad request');
      return;
    }
    this.ctx.metrics.appRequests++;
    const method = parsed.method!;
    if (dialogId) {
      const d = this.ctx.dialogs.get(dialogId);
      if (!d) {
        app.respond(m.msgId, false, 'unable to find dialog for dialog id provided');
        return;
      }
      this.sendInDialog(app, m.msgId, d, parsed);
      return;
    }
    if (txnId && method === 'CANCEL') {
      this.cancel(app, m.msgId, txnId);
      return;
    }
    // A request with the Call-ID of a dialog of this app goes within that dialog (drachtio does so).
    const callId = header(parsed, 'call-id');
    if (callId) {
      const d = this.ctx.dialogs.all().find((x) => x.callId === callId && x.app === app);
      if (d) {
        this.sendInDialog(app, m.msgId, d, parsed);
        return;
      }
    }
    this.sendNew(app, m.msgId, parsed, routeUrl);
  }

  private sendNew(app: AppConnection, clientMsgId: string, p: AppSipText, routeUrl: string): void {
    const uri = p.uri!;
    const dest = routeUrl || uri;
    void this.resolve(dest).then((r) => {
      if (!r) {
        app.respond(clientMsgId, false, `unable to resolve ${dest}`);
        return;
      }
      const { target, sock } = r;
      localizeAppHeaders(p, hostPort(sock));
      const method = p.method!;
      const branch = newAppBranch();
      let from = header(p, 'from') ?? `<sip:${hostPort(sock)}>`;
      if (!/;\s*tag=/i.test(from)) from += `;tag=${randomBytes(6).toString('hex')}`;
      const to = header(p, 'to') ?? `<${uri}>`;
      const callId = header(p, 'call-id') ?? `${randomUUID()}`;
      const cseq = header(p, 'cseq') ?? `${Math.floor(Math.random() * 10000) + 1} ${method}`;
      let head = `${method} ${uri} SIP/2.0\r\n` + `Via: ${via(sock, target.proto, branch)}\r\n` + `Max-Forwards: ${header(p, 'max-forwards') ?? '70'}\r\n` +
        `From: ${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n`;
      const contact = header(p, 'contact');
      if (contact) head += `Contact: ${contact}\r\n`;
      else if (CONTACT_METHODS.has(method)) head += `Contact: ${contactFor(sock, target.proto)}\r\n`;
      head += extraHeaderLines(p, NEW_SKIP);
      this.launch(app, clientMsgId, finish(head, p), target, sock, null);
    }).catch((e: unknown) => this.failed(app, clientMsgId, e));
  }

  private sendInDialog(app: AppConnection, clientMsgId: string, d: Dialog, p: AppSipText): void {
    const method = p.method!;
    const next = d.routeSet[0] ? nameAddrUri(d.routeSet[0]) : d.remoteTarget;
    void this.resolve(next).then((r) => {
      if (!r) {
        app.respond(clientMsgId, false, `unable to resolve ${next}`);
        return;
      }
      const { target, sock } = r;
      localizeAppHeaders(p, hostPort(sock));
      if (d.flow && target.proto !== 'udp' && target.address === d.flow.address) target.connId = d.flow.connId;
      const seq = method === 'ACK' ? d.inviteSeq : ++d.localSeq;
      if (method === 'INVITE') d.inviteSeq = seq;
      let head = `${method} ${d.remoteTarget} SIP/2.0\r\n` + `Via: ${via(sock, target.proto, newAppBranch())}\r\n` + 'Max-Forwards: 70\r\n' +
        `From: ${d.localUri};tag=${d.localTag}\r\nTo: ${d.remoteUri};tag=${d.remoteTag}\r\nCall-ID: ${d.callId}\r\nCSeq: ${seq} ${method}\r\n`;
      for (const r2 of d.routeSet) head += `Route: ${r2}\r\n`;
      if (CONTACT_METHODS.has(method)) head += `Contact: ${header(p, 'contact') ?? (d.localContact || contactFor(sock, target.proto))}\r\n`;
      head += extraHeaderLines(p, DIALOG_SKIP);
      const buf = finish(head, p);
      if (method === 'ACK') {
        d.lastAck = { target, buf };
        this.ctx.host.send(target, buf);
        this.echo(app, clientMsgId, buf, target, sock, randomUUID());
        return;
      }
      if (method === 'BYE') {
        this.ctx.cdr('stop', 'application', buf.toString('utf8'), 'normal-release');
        this.ctx.dialogs.remove(d);
      }
      this.launch(app, clientMsgId, buf, target, sock, d);
    }).catch((e: unknown) => this.failed(app, clientMsgId, e));
  }

  /** A BYE of ours for a dialog whose app left (no one to tell). */
  byeOrphan(d: Dialog): void {
    this.byeOurs(d, 'Q.850;cause=41;text="application disconnected"', false);
  }

  /**
   * A BYE of ours ending dialog `d` (its app left, or the ACK for our 2xx never came). When
   * `tellApp`, the app gets the BYE as drachtio-server sends it: a `sip` message with transaction
   * id `unsolicited`, source `application`, so its Dialog emits `destroy` with the Reason's text.
   */
  byeOurs(d: Dialog, reason: string, tellApp: boolean): void {
    this.sendOurs(d, 'BYE', `Reason: ${reason}\r\n`, tellApp);
  }

  /** A request of ours within `d` (BYE ends it; UPDATE refreshes its session, replies to us). */
  sendOurs(d: Dialog, method: 'BYE' | 'UPDATE', headers: string, tellApp: boolean): void {
    const app = tellApp ? d.app : null;
    if (method === 'BYE') this.ctx.dialogs.remove(d);
    const next = d.routeSet[0] ? nameAddrUri(d.routeSet[0]) : d.remoteTarget;
    void this.resolve(next).then((r) => {
      if (!r) return;
      if (d.flow && r.target.proto !== 'udp' && r.target.address === d.flow.address) r.target.connId = d.flow.connId;
      let head = `${method} ${d.remoteTarget} SIP/2.0\r\nVia: ${via(r.sock, r.target.proto, newAppBranch())}\r\nMax-Forwards: 70\r\n` +
        `From: ${d.localUri};tag=${d.localTag}\r\nTo: ${d.remoteUri};tag=${d.remoteTag}\r\nCall-ID: ${d.callId}\r\nCSeq: ${++d.localSeq} ${method}\r\n`;
      for (const rr of d.routeSet) head += `Route: ${rr}\r\n`;
      if (method === 'UPDATE') head += `Contact: ${d.localContact || contactFor(r.sock, r.target.proto)}\r\n`;
      head += `${headers}Content-Length: 0\r\n\r\n`;
      const buf = Buffer.from(head, 'utf8');
      this.launch(null, '', buf, r.target, r.sock, method === 'BYE' ? null : d);
      if (app && !app.closed) {
        const meta = formatMeta({ source: 'application', bytes: buf.length, proto: r.target.proto, address: r.sock.address, port: r.sock.port });
        app.send(`sip|${meta}|unsolicited|${d.id}|\r\n${head}`);
      }
    }).catch((e: unknown) => this.ctx.host.log('warn', `drachtio: ${method} for ${d.id} failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** A request the app asked for could not be built or sent: NOK to the app, logged. */
  private failed(app: AppConnection, clientMsgId: string, e: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    this.ctx.host.log('warn', `drachtio: app ${app.id} request failed: ${why}`);
    app.respond(clientMsgId, false, `request failed: ${why}`);
  }

  private launch(app: AppConnection | null, clientMsgId: string, buf: Buffer, target: SendTarget, sock: ListenSocket, d: Dialog | null): void {
    let req: SipMessage;
    try {
      req = SipMessage.parse(buf, { datagram: true });
    } catch (e) {
      if (app) app.respond(clientMsgId, false, `invalid request: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const t = new OutboundTxn(this, app, req, target, sock, d);
    const host = this.ctx.host;
    const timers = { fr: host.tmCfg.fr_timer, frInv: host.tmCfg.fr_inv_timer };
    const chost = { timers: host.timers, cfg: host.tmCfg, send: (tg: SendTarget, data: Buffer) => host.send(tg, data) };
    t.client = req.method === 'INVITE' ? new InviteClientTransaction(chost, t, t.branch, target, buf, timers) : new NonInviteClientTransaction(chost, t, t.branch, target, buf, timers);
    this.byBranch.set(t.branch, t);
    this.byId.set(t.id, t);
    if (app) this.echo(app, clientMsgId, buf, target, sock, t.id);
    if (req.method === 'INVITE' && app) this.ctx.cdr('attempt', 'application', buf.toString('utf8'));
    if (!t.client.start()) {
      host.log('warn', `drachtio: could not send ${req.method} to ${target.proto}:${target.address}:${target.port}`);
      this.synthesize(t, 503, 'Service Unavailable');
    }
  }

  /** `response|msgId|OK|application|meta|txnId|Msg sent:|` then the request as sent. */
  private echo(app: AppConnection, clientMsgId: string, buf: Buffer, target: SendTarget, sock: ListenSocket, txnId: string): void {
    const meta = formatMeta({ source: 'application', bytes: buf.length, proto: target.proto, address: sock.address, port: sock.port });
    app.respond(clientMsgId, true, `${meta}|${txnId}|Msg sent:|\r\n${buf.toString('utf8')}`);
  }

  private cancel(app: AppConnection, clientMsgId: string, txnId: string): void {
    const t = this.byId.get(txnId);
    if (!t || t.app !== app || t.req.method !== 'INVITE' || t.finalStatus !== 0) {
      app.respond(clientMsgId, false, 'unknown transaction id');
      return;
    }
    const buf = this.buildCancel(t);
    const meta = formatMeta({ source: 'application', bytes: buf.length, proto: t.target.proto, address: t.sock.address, port: t.sock.port });
    app.respond(clientMsgId, true, `${meta}|${randomUUID()}|Msg sent:|\r\n${buf.toString('utf8')}`);
    if (t.gotProvisional) this.sendCancel(t, buf);
    else t.cancelWanted = true;
  }

  private buildCancel(t: OutboundTxn): Buffer {
    const r = t.req;
    let head = `CANCEL ${r.ruri} SIP/2.0\r\nVia: ${r.topVia.raw}\r\nMax-Forwards: 70\r\nFrom: ${r.header('from')}\r\nTo: ${r.header('to')}\r\n` +
      `Call-ID: ${r.callId}\r\nCSeq: ${r.cseq.seq} CANCEL\r\n`;
    for (const rt of r.headers('route')) head += `Route: ${rt}\r\n`;
    return Buffer.from(head + 'Content-Length: 0\r\n\r\n', 'utf8');
  }

  private sendCancel(t: OutboundTxn, buf: Buffer = this.buildCancel(t)): void {
    if (t.cancelClient) return;
    const host = this.ctx.host;
    const chost = { timers: host.timers, cfg: host.tmCfg, send: (tg: SendTarget, data: Buffer) => host.send(tg, data) };
    const user: ClientTransactionUser = { onClientTimeout: () => undefined, onClientTerminated: () => this.forget(t) };
    t.cancelClient = new NonInviteClientTransaction(chost, user, t.branch, t.target, buf, { fr: host.tmCfg.fr_timer, frInv: host.tmCfg.fr_timer });
    t.cancelClient.start();
  }

  // ---- from the network ----------------------------------------------------------------------------

  /** A reply whose top Via branch is ours: true when taken. */
  onReply(msg: SipMessage, rcv: ReceiveInfo): boolean {
    let branch: string | undefined;
    try {
      branch = msg.topVia.branch;
    } catch {
      return false;
    }
    if (!branch?.startsWith(APP_BRANCH_PREFIX)) return false;
    const t = this.byBranch.get(branch);
    const method = msg.cseq.method;
    if (method === 'CANCEL') {
      if (t?.cancelClient) t.cancelClient.onReply(msg.status);
      return true;
    }
    if (!t || !t.client) {
      // A retransmitted 2xx after the INVITE transaction ended: our ACK again.
      if (method === 'INVITE' && msg.status >= 200 && msg.status < 300) {
        const ack = this.ctx.dialogs.ackFor(msg);
        if (ack) this.ctx.host.send(ack.target, ack.buf);
      }
      return true;
    }
    const status = msg.status;
    let take: boolean;
    if (t.client instanceof InviteClientTransaction) take = t.client.onReply(status, () => this.buildAck(t, msg));
    else take = t.client.onReply(status);
    if (!take) return true;
    if (status >= 200) this.refreshFailed(t, status);
    if (status < 200) {
      t.gotProvisional = true;
      if (t.cancelWanted) this.sendCancel(t);
    } else if (t.finalStatus === 0) t.finalStatus = status;
    let dialogId = t.dialog?.id ?? '';
    if (method === 'INVITE' && status >= 200 && status < 300 && !t.dialog) {
      const found = this.ctx.dialogs.forReply(msg);
      const d = found?.early ? this.confirm(found, msg) : found ?? this.makeDialog(t, msg, false);
      this.endEarly(t, d);
      dialogId = d.id;
      if (t.app) this.ctx.cdr('start', 'network', text(msg), 'uac');
    } else if (method === 'INVITE' && status >= 300 && !t.dialog) {
      this.endEarly(t, null);
      if (t.app) this.ctx.cdr('stop', 'network', text(msg), t.cancelWanted || t.cancelClient ? 'call-canceled' : 'call-rejected');
    }
    if (method === 'INVITE' && status > 100 && status < 200 && !t.dialog && msg.to.tag) {
      // An early dialog, so the app's PRACK (and UPDATE) can be sent within it.
      const d = this.ctx.dialogs.forReply(msg) ?? this.makeDialog(t, msg, true);
      if (d.early && !t.early.includes(d)) t.early.push(d);
      dialogId = d.id;
    }
    // RFC 4028: a 2xx to our INVITE or UPDATE sets (or clears) the session timer.
    if ((method === 'INVITE' || method === 'UPDATE') && status >= 200 && status < 300) {
      const d = t.dialog ?? this.ctx.dialogs.forReply(msg);
      if (d && !d.terminated) applySessionExpires(d, parseSessionExpires(msg.header('session-expires')), true, this.ctx.sessionActions);
    }
    if (t.app) this.deliver(t.app, msg, rcv, t.id, dialogId);
    return true;
  }

  private deliver(app: AppConnection, msg: SipMessage, rcv: ReceiveInfo, txnId: string, dialogId: string): void {
    const raw = text(msg);
    const meta = formatMeta({ source: 'network', bytes: Buffer.byteLength(raw), proto: rcv.proto, address: rcv.srcAddress, port: rcv.srcPort });
    app.send(`sip|${meta}|${txnId}|${dialogId}|\r\n${raw}`);
  }

  /** The 2xx confirms an early dialog: remote target and route set from the 2xx (13.2.2.4). */
  private confirm(d: Dialog, res: SipMessage): Dialog {
    d.early = false;
    const contact = res.contacts()[0];
    if (contact) d.remoteTarget = contact.uri;
    d.routeSet = res.headers('record-route').flatMap(splitList).reverse();
    this.ctx.dialogs.add(d); // the id may name another fork's early dialog meanwhile
    return d;
  }

  /** The INVITE's final response: the early dialogs it does not confirm end. */
  private endEarly(t: OutboundTxn, kept: Dialog | null): void {
    for (const d of t.early.splice(0)) if (d !== kept && !d.terminated) this.ctx.dialogs.remove(d);
  }

  private makeDialog(t: OutboundTxn, res: SipMessage, early: boolean): Dialog {
    const r = t.req;
    const contact = res.contacts()[0];
    const d = new Dialog({
      role: 'uac', app: t.app, callId: r.callId, localTag: r.from.tag ?? '', remoteTag: res.to.tag ?? '',
      localUri: stripTag(r.header('from') ?? ''), remoteUri: stripTag(res.header('to') ?? ''),
      remoteTarget: contact?.uri ?? r.ruri, routeSet: res.headers('record-route').flatMap(splitList).reverse(),
      localSeq: r.cseq.seq, remoteSeq: 0, localContact: r.header('contact') ?? '', inviteSeq: r.cseq.seq,
    });
    d.early = early;
    this.ctx.dialogs.add(d);
    return d;
  }

  /** Hop-by-hop ACK for a negative final reply (17.1.1.3). */
  private buildAck(t: OutboundTxn, res: SipMessage): Buffer {
    const r = t.req;
    let head = `ACK ${r.ruri} SIP/2.0\r\nVia: ${r.topVia.raw}\r\nMax-Forwards: 70\r\nFrom: ${r.header('from')}\r\nTo: ${res.header('to')}\r\n` +
      `Call-ID: ${r.callId}\r\nCSeq: ${r.cseq.seq} ACK\r\n`;
    for (const rt of r.headers('route')) head += `Route: ${rt}\r\n`;
    return Buffer.from(head + 'Content-Length: 0\r\n\r\n', 'utf8');
  }

  timedOut(t: OutboundTxn): void {
    this.synthesize(t, 408, 'Request Timeout');
  }

  /** RFC 4028 10: our refreshing UPDATE timed out or got 408/481: the session ends with a BYE. */
  private refreshFailed(t: OutboundTxn, status: number): void {
    const d = t.dialog;
    if (t.app || !d || d.terminated || t.req.method !== 'UPDATE' || (status !== 408 && status !== 481)) return;
    this.byeOurs(d, 'SIP ;cause=200 ;text="Session refresh failed"', true);
  }

  /** A final response of our own for the app (timeout, unsendable), as sofia makes one. */
  private synthesize(t: OutboundTxn, status: number, reason: string): void {
    if (t.finalStatus !== 0) return;
    t.finalStatus = status;
    this.endEarly(t, null);
    this.refreshFailed(t, status);
    if (!t.app) return;
    const r = t.req;
    const raw = `SIP/2.0 ${status} ${reason}\r\nVia: ${r.topVia.raw}\r\nFrom: ${r.header('from')}\r\nTo: ${r.header('to')}\r\n` +
      `Call-ID: ${r.callId}\r\nCSeq: ${r.cseq.seq} ${r.method}\r\nContent-Length: 0\r\n\r\n`;
    const meta = formatMeta({ source: 'network', bytes: Buffer.byteLength(raw), proto: t.target.proto, address: t.target.address, port: t.target.port });
    t.app.send(`sip|${meta}|${t.id}||\r\n${raw}`);
  }

  /** The app left: its pending INVITEs are cancelled; nobody hears the answers. */
  releaseApp(app: AppConnection): void {
    for (const t of this.byId.values()) {
      if (t.app !== app || t.finalStatus !== 0) continue;
      if (t.req.method === 'INVITE') {
        if (t.gotProvisional) this.sendCancel(t);
        else t.cancelWanted = true;
      }
    }
  }

  private async resolve(uri: string): Promise<{ target: Target & SendTarget; sock: ListenSocket } | null> {
    const r = this.ctx.host.resolveUri(uri);
    let targets: Target[];
    try {
      targets = r instanceof Promise ? await r : r ?? [];
    } catch {
      return null;
    }
    for (const t of targets) {
      const sock = this.ctx.host.socketFor(t.proto, t.address);
      if (sock) return { target: { proto: t.proto, address: t.address, port: t.port, local: sock.id }, sock };
    }
    return null;
  }
}

function newAppBranch(): string {
  return `${APP_BRANCH_PREFIX}${randomBytes(8).toString('hex')}`;
}

function via(sock: ListenSocket, proto: Proto, branch: string): string {
  return `SIP/2.0/${proto.toUpperCase()} ${hostPort(sock)};rport;branch=${branch}`;
}

/** The URI inside a name-addr (`<sip:x;lr>` -> `sip:x;lr`). */
function nameAddrUri(v: string): string {
  const m = /<([^>]*)>/.exec(v);
  return m ? m[1]! : v.trim();
}

/** Headers built, the app's Content-Type and body, Content-Length. */
function finish(head: string, p: AppSipText): Buffer {
  const body = Buffer.from(p.body, 'utf8');
  const ct = header(p, 'content-type');
  if (body.length > 0) head += `Content-Type: ${ct ?? 'application/sdp'}\r\n`;
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`, 'utf8'), body]);
}

function text(msg: SipMessage): string {
  return msg.buf.toString('utf8');
}
