/**
 * The bridge between the proxy and the connected drachtio apps: the script's handover
 * (send_to_app), what arrives from the network for what apps own (CANCEL, ACK, retransmissions,
 * requests within their dialogs, replies to their requests), the app's `sip` messages, cdr events,
 * and the cleanup when an app leaves.
 */
import type { ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { AppConnection } from './app-connection.js';
import type { CdrKind, BridgeContext } from './bridge-context.js';
import { DialogTable } from './dialogs.js';
import type { DrachtioHost } from './host.js';
import { stackTime } from './meta.js';
import { DrachtioMetrics } from './metrics.js';
import { AppRegistry } from './registry.js';
import { UacSide } from './uac.js';
import { ProxyRelays } from './proxy-relay.js';
import { UasSide } from './uas.js';
import type { SessionTimerActions } from './session-timer.js';
import type { WireMessage } from './wire.js';
import { serverKey } from '../tm/transaction-layer.js';

export class DrachtioBridge implements BridgeContext {
  readonly dialogs = new DialogTable();
  readonly metrics = new DrachtioMetrics();
  readonly registry = new AppRegistry();
  readonly uas: UasSide;
  readonly uac: UacSide;
  readonly relays: ProxyRelays;
  readonly sessionActions: SessionTimerActions = {
    refresh: (d) => this.uac.sendOurs(d, 'UPDATE', `Session-Expires: ${d.sessionInterval};refresher=uac\r\nSupported: timer\r\n`, false),
    expire: (d) => this.uac.byeOurs(d, 'SIP ;cause=200 ;text="Session timer expired"', true),
  };

  constructor(readonly host: DrachtioHost) {
    this.uas = new UasSide(this, (d) => this.uac.byeOurs(d, 'SIP ;cause=200 ;text="ACK timeout"', true));
    this.uac = new UacSide(this);
    this.relays = new ProxyRelays(this, (t, status, buf) => this.uas.relayFinal(t, status, buf));
    host.intercept({ onRequest: (m, r) => this.onRequest(m, r), onReply: (m, r) => this.onReply(m, r) });
  }

  /** KSR.drachtio.send_to_app: 1 when an app took the request, -1 when none can. */
  sendToApp(msg: SipMessage, rcv: ReceiveInfo, tag: string): number {
    if (!msg.isRequest || msg.method === 'ACK' || msg.method === 'CANCEL') return -1;
    if (this.uas.absorbRetransmission(msg)) return 1;
    const app = this.registry.select(msg.method, tag);
    if (!app) {
      this.metrics.noApp++;
      return -1;
    }
    this.uas.handOver(app, msg, rcv, null);
    this.metrics.handedOver++;
    return 1;
  }

  /** Requests waiting for an outbound connection (their retransmissions are absorbed meanwhile). */
  private readonly connecting = new Set<string>();

  /**
   * KSR.drachtio.send_to_addr: hands the request to the app listening at `addr` (srf.listen),
   * connecting to it first when needed; 1 taken, -1 app unreachable.
   */
  sendToAppAt(msg: SipMessage, rcv: ReceiveInfo, addr: string, connectOut: (addr: string) => Promise<AppConnection | null>): number | Promise<number> {
    if (!msg.isRequest || msg.method === 'ACK' || msg.method === 'CANCEL') return -1;
    if (this.uas.absorbRetransmission(msg)) return 1;
    let key: string;
    try {
      key = serverKey(msg);
    } catch {
      return -1;
    }
    if (this.connecting.has(key)) return 1;
    this.connecting.add(key);
    return connectOut(addr).then((app) => {
      this.connecting.delete(key);
      if (!app || app.closed) {
        this.metrics.noApp++;
        return -1;
      }
      this.uas.handOver(app, msg, rcv, null);
      this.metrics.handedOver++;
      return 1;
    });
  }

  /** Ahead of the script: true when the request belongs to an app. */
  onRequest(msg: SipMessage, rcv: ReceiveInfo): boolean {
    try {
      if (this.uas.absorbRetransmission(msg)) return true;
      if (msg.method === 'CANCEL') return this.uas.onCancel(msg, rcv);
      if (!msg.to.tag) return false;
      const d = this.dialogs.forRequest(msg);
      if (!d) return false;
      this.uas.onInDialog(d, msg, rcv);
      return true;
    } catch (e) {
      // A request without the headers matching needs is the script's to judge.
      this.host.log('dbg', `drachtio: request not matched: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  /** Ahead of the script: replies to requests apps sent or proxy. */
  onReply(msg: SipMessage, rcv: ReceiveInfo): boolean {
    try {
      return this.relays.onReply(msg, rcv) || this.uac.onReply(msg, rcv);
    } catch (e) {
      // Ours by its branch but unusable: dropped, logged.
      this.host.log('warn', `drachtio: reply dropped: ${e instanceof Error ? e.message : String(e)}`);
      return true;
    }
  }

  /** An app's `sip` message: a response to a request it was given, or a request it sends. */
  onAppSip(app: AppConnection, m: WireMessage): void {
    const txnId = m.tokens[2] ?? '';
    const dialogId = m.tokens[3] ?? '';
    const routeUrl = m.tokens[4] ?? '';
    if (m.sip.startsWith('SIP/')) {
      if (!txnId) {
        app.respond(m.msgId, false, 'transaction id missing');
        return;
      }
      this.uas.onAppResponse(app, m, txnId);
    } else this.uac.onAppRequest(app, m, txnId, dialogId, routeUrl);
  }

  /** An app's `proxy` message for a request it was handed. */
  onAppProxy(app: AppConnection, m: WireMessage): void {
    this.relays.start(app, m, this.uas.get(m.tokens[2] ?? ''));
  }

  cdr(kind: CdrKind, source: 'network' | 'application', sip: string, extra?: string): void {
    const app = this.registry.select(`cdr:${kind}`);
    if (!app) return;
    app.send(`cdr:${kind}|${source}|${stackTime()}${extra ? `|${extra}` : ''}\r\n${sip}`);
  }

  /** An app left: its unanswered requests get 480, its pending INVITEs are cancelled, its calls end. */
  appGone(app: AppConnection): void {
    this.registry.remove(app);
    this.uas.releaseApp(app);
    this.uac.releaseApp(app);
    for (const d of this.dialogs.ofApp(app)) {
      d.app = null;
      // Early dialogs end with their INVITE (cancelled above, or answered 480).
      if (d.early) this.dialogs.remove(d);
      else this.uac.byeOrphan(d);
    }
  }

  close(): void {
    for (const d of this.dialogs.all()) this.dialogs.remove(d);
  }
}
