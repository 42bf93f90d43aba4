/**
 * Stateless forwarding (RFC 3261 16.11): requests go out with a Via of ours carrying a stateless
 * branch; replies come back by Via (18.2.2 / RFC 3581) after our Via is taken off. Also sends the
 * local replies of sl. tm uses the same send helpers for its branches.
 */
import type { MsgContext, Proto, ReceiveInfo } from '../context/msg-context.js';
import type { Logger } from '../lib/log.js';
import type { CoreTransports } from './transports.js';
import type { SipResolver } from '../transport/dns.js';
import type { CoreStats } from './stats.js';
import { SipMessage, parseUri, type Via } from '../sip/index.js';
import { protoNamed, type ListenSocket, type SendTarget } from '../transport/types.js';
import { tlsServerName, type Target } from '../transport/dns.js';
import { statelessBranch } from '../sip/branch.js';
import { receivedTest } from '../sip/reply-via.js';
import { recordRouteLines } from '../rr/record-route.js';
import type { OnSendInfo } from '../pv/onsend-pvs.js';

export interface NextHop {
  proto: Proto;
  address: string;
  port: number;
}

/** What the forwarder uses of the instance that owns it. */
export interface ForwarderHost {
  readonly transports: CoreTransports;
  readonly resolver: SipResolver;
  readonly stats: CoreStats;
  readonly logger: Logger;
  isMyself(host: string, port?: number, proto?: Proto): boolean;
  /** Sends (and traces, when the operator's trace is on). */
  send(target: SendTarget, data: Buffer): boolean;
  /** ksr_onsend_route: false when the script dropped the request. */
  onSend(ctx: MsgContext, data: Buffer, dest?: OnSendInfo): boolean;
}

export class Forwarder {
  constructor(private readonly proxy: ForwarderHost) {}

  /** KSR.forward / forward_uri: to `uri`, else $du, else the R-URI. 1 sent, -1 error. */
  forwardStateless(ctx: MsgContext, uri?: string): number | Promise<number> {
    const msg = ctx.msg;
    if (!msg.isRequest) return -1;
    const dest = uri || ctx.dstUri || msg.ruri;
    // The R-URI is parsed once per message (validation did it): no second parse for it.
    const targets = this.resolveUri(dest, dest === msg.ruri ? msg : undefined);
    if (targets === null) return -1;
    if (targets instanceof Promise) return targets.then((t) => this.sendStateless(ctx, t, dest), () => -1);
    return this.sendStateless(ctx, targets, dest);
  }

  /**
   * RFC 3263 targets of a SIP URI; null when the URI does not parse. `ruriOf`: `dest` is this
   * request's R-URI, whose parse the message keeps.
   */
  resolveUri(dest: string, ruriOf?: SipMessage): Target[] | Promise<Target[]> | null {
    let u;
    try {
      u = ruriOf ? ruriOf.parsedRuri() : parseUri(dest);
    } catch {
      return null;
    }
    if (u.scheme === 'tel') return null;
    const transport = u.params.get('transport') ?? undefined;
    return this.proxy.resolver.resolve({ host: u.host, port: u.port, transport: transport ?? undefined, secure: u.scheme === 'sips' });
  }

  private sendStateless(ctx: MsgContext, targets: readonly Target[], dest: string): number {
    const t = targets[0];
    if (!t) {
      this.proxy.stats.forwardErrors++;
      return -1;
    }
    const msg = ctx.msg;
    const sock = this.socketFor(t.proto, t.address, ctx.forcedSocket);
    if (!sock) {
      this.proxy.stats.forwardErrors++;
      return -1;
    }
    const top = msg.topVia;
    const branch = statelessBranch(top.branch ?? '', msg.callId, msg.cseq.seq, msg.originalRuri, dest);
    const bytes = this.prepareOutgoing(ctx, ctx, msg.clone(), sock, branch);
    if (!this.proxy.onSend(ctx, bytes, { to: t, from: sock, buf: bytes })) return -1;
    const ok = this.proxy.send(
      { proto: t.proto, address: t.address, port: t.port, noConnect: ctx.sendFlags.forwardNoConnect, closeAfter: ctx.sendFlags.forwardClose, local: sock.id, ...serverName(t.proto, dest) },
      bytes,
    );
    if (ok) this.proxy.stats.forwarded++;
    else this.proxy.stats.forwardErrors++;
    return ok ? 1 : -1;
  }

  /**
   * The bytes of a request we send: received/rport on the sender's Via (from the received request
   * `orig`), our Record-Route when asked for, our Via on top. `bctx` is the branch's own context.
   */
  prepareOutgoing(orig: MsgContext, bctx: MsgContext, out: SipMessage, sock: ListenSocket, branch: string): Buffer {
    applyReceived(out, orig);
    const rr = recordRouteLines(bctx, this.receivingSocket(orig.rcv), sock);
    if (rr) out.insertHeader(rr);
    // Kamailio's id_builder adds ;i= for requests that came over TCP or TLS only (not WS/WSS).
    out.prependVia(this.viaValue(bctx, sock, branch, orig.rcv.proto === 'tcp' || orig.rcv.proto === 'tls' ? orig.rcv.connId : undefined));
    // A message without Content-Length gets one only when it goes over a stream (as Kamailio).
    return out.serialize({ stream: sock.proto !== 'udp' });
  }

  /** The listen socket a message came in on. */
  receivingSocket(rcv: ReceiveInfo): ListenSocket | null {
    for (const s of this.proxy.transports.sockets()) {
      if (s.proto === rcv.proto && s.port === rcv.localPort && (s.address === rcv.localAddress || s.address === '0.0.0.0' || s.address === '::')) return s;
    }
    return null;
  }

  /** The Via we insert: advertised address/port when the script set them, else the socket's. */
  viaValue(ctx: MsgContext, sock: ListenSocket, branch: string, inConnId?: number): string {
    const host = ctx.advertisedAddress ?? (sock.family === 6 ? `[${sock.address}]` : sock.address);
    const port = ctx.advertisedPort ?? String(sock.port);
    // Kamailio marks requests that came in over TCP with the connection id (";i=", hex digits
    // least significant first) so replies can go back on that connection.
    const id = inConnId !== undefined ? `;i=${[...inConnId.toString(16)].reverse().join('')}` : '';
    return `SIP/2.0/${sock.proto.toUpperCase()} ${host}:${port};branch=${branch}${id}${ctx.addLocalRport ? ';rport' : ''}`;
  }

  /**
   * The listen socket to send from: the one the script forced (set_send_socket, $fs), or its
   * twin of the destination's protocol on the same address and port (Kamailio's get_send_socket);
   * else one of the protocol and address family needed to reach `address`.
   */
  socketFor(proto: Proto, address: string, forced?: string | null): ListenSocket | undefined {
    const sockets = this.proxy.transports.sockets();
    if (forced) {
      const f = sockets.find((s) => s.id === forced);
      if (f && f.proto === proto) return f;
      const twin = f && sockets.find((s) => s.proto === proto && s.address === f.address && s.port === f.port);
      if (twin) return twin;
      this.proxy.logger.warn(`forced socket ${forced} cannot send ${proto} to ${address}: using another`);
    }
    const family = address.includes(':') ? 6 : 4;
    let fallback: ListenSocket | undefined;
    for (const s of sockets) {
      if (s.proto !== proto) continue;
      if (s.family === family) return s;
      fallback ??= s;
    }
    return fallback;
  }

  /** Stateless relay of a reply by its Vias: ours on top comes off, the next one says where. */
  relayReply(ctx: MsgContext, override?: SipMessage): boolean {
    const msg = override ?? ctx.msg;
    let vias: Via[];
    try {
      vias = msg.vias();
    } catch {
      this.proxy.stats.repliesDropped++;
      return false;
    }
    const top = vias[0];
    const next = vias[1];
    if (!top || !next || !this.proxy.isMyself(top.host, top.port)) {
      this.proxy.stats.repliesDropped++;
      this.proxy.logger.dbg(`reply dropped: top Via is not ours or no next Via`, { callId: msg.callId });
      return false;
    }
    const out = msg.clone();
    out.removeTopVia();
    const hop = replyHopFromVia(next);
    if (!hop) {
      this.proxy.stats.repliesDropped++;
      return false;
    }
    const ok = this.proxy.send({ proto: hop.proto, address: hop.address, port: hop.port, noConnect: ctx.sendFlags.replyNoConnect, closeAfter: ctx.sendFlags.replyClose }, out.serialize({ stream: hop.proto !== 'udp' }));
    if (ok) this.proxy.stats.repliesRelayed++;
    else this.proxy.stats.repliesDropped++;
    return ok;
  }

  /**
   * Sends a reply to a request we received (RFC 3261 18.2.2, RFC 3581): reliable transports use the
   * connection the request came on; UDP goes to the source address, at the source port when rport
   * asks for it, else at the Via port.
   */
  sendReplyTo(req: SipMessage, rcv: ReceiveInfo, reply: Buffer, forceRport: boolean, flags?: { close: boolean; noConnect: boolean }): boolean {
    return this.proxy.send(replyTarget(req, rcv, forceRport, flags), reply);
  }
}

/** Where a reply to `req` goes (18.2.2 / RFC 3581): back on its connection, or over UDP to its source. */
export function replyTarget(req: SipMessage, rcv: ReceiveInfo, forceRport: boolean, flags?: { close: boolean; noConnect: boolean }): SendTarget {
  if (rcv.proto !== 'udp') {
    // set_reply_close / set_reply_no_connect apply to the connection the reply goes back on.
    return { proto: rcv.proto, address: rcv.srcAddress, port: rcv.srcPort, connId: rcv.connId, closeAfter: flags?.close, noConnect: flags?.noConnect };
  }
  let port = rcv.srcPort;
  try {
    const via = req.topVia;
    if (via.maddr === undefined && via.rport === undefined && !forceRport) port = via.port ?? 5060;
  } catch {
    /* no usable Via: the source port is all we know */
  }
  return { proto: 'udp', address: rcv.srcAddress, port };
}

/** Where a reply goes for the Via below ours: received (else host), rport value (else port, 5060). */
export function replyHopFromVia(via: Via): NextHop | null {
  const proto = protoNamed(via.transport);
  if (!proto) return null;
  let address = via.received ?? via.host;
  if (address.startsWith('[')) address = address.slice(1, -1);
  const rport = via.rport ? Number(via.rport) : NaN;
  const port = Number.isInteger(rport) && rport > 0 ? rport : via.port ?? (proto === 'tls' || proto === 'wss' ? 5061 : 5060);
  return { proto, address, port };
}

/**
 * RFC 3261 18.2.1 and RFC 3581 on the top Via of a request we forward: `received` when the sent-by
 * host is not the source address, and an empty `rport` filled with the source port (force_rport
 * acts as if it were there).
 */
export function applyReceived(out: SipMessage, ctx: MsgContext): void {
  // As Kamailio's build_req_buf_from_sip_req: received when the sender's address differs from
  // the Via host, or the Via has rport or a received already (overwritten); rport when the Via has one
  // (overwritten) or force_rport. A new received goes right after host[:port], a new rport after
  // that; parameters already present keep their place.
  const via = ctx.msg.topVia;
  const src = ctx.rcv.srcAddress;
  const needReceived = receivedTest(via, src);
  const needRport = via.rport !== undefined || ctx.forceRport;
  if (!needReceived && !needRport) return;
  const raw = via.raw;
  const semi = raw.indexOf(';');
  const sentBy = (semi < 0 ? raw : raw.slice(0, semi)).replace(/\s+$/, '');
  const params = semi < 0 ? [] : raw.slice(semi + 1).split(';');
  const nameOf = (p: string): string => p.split('=')[0]!.trim().toLowerCase();
  let at = 0;
  if (needReceived) {
    const i = params.findIndex((p) => nameOf(p) === 'received');
    if (i >= 0) {
      params[i] = `received=${src}`;
      at = i + 1;
    } else {
      params.splice(0, 0, `received=${src}`);
      at = 1;
    }
  }
  if (needRport) {
    const i = params.findIndex((p) => nameOf(p) === 'rport');
    if (i >= 0) params[i] = `rport=${ctx.rcv.srcPort}`;
    else params.splice(at, 0, `rport=${ctx.rcv.srcPort}`);
  }
  out.replaceTopVia(params.length ? `${sentBy};${params.join(';')}` : sentBy);
}

/** TLS-family sends check the server's certificate against the URI host (SendTarget.serverName). */
export function serverName(proto: Proto, dest: string): { serverName?: string } {
  if (proto !== 'tls' && proto !== 'wss') return {};
  const name = tlsServerName(dest);
  return name ? { serverName: name } : {};
}
