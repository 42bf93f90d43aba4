/**
 * Requests the proxy sends on its own (dispatcher's OPTIONS probes): one out-of-dialog request, a
 * fresh branch with our prefix, retransmitted over UDP like a non-INVITE client transaction
 * (timer E from T1 doubling to T2), answered by its final reply or 408 after timer F. Replies to
 * these branches are taken before any other reply processing (they belong to no script).
 */
import { randomBytes } from 'node:crypto';
import { SipMessage } from '../sip/index.js';
import type { ListenSocket, SendTarget } from '../transport/types.js';
import type { Target } from '../transport/dns.js';
import type { WithinRequest } from '../../kemi/types.js';

export const LOCAL_BRANCH_PREFIX = 'z9hG4bKkuac';

export interface LocalUacHost {
  resolveUri(uri: string): Target[] | Promise<Target[]> | null;
  socketFor(proto: Target['proto'], address: string, forced?: string | null): ListenSocket | undefined;
  send(target: SendTarget, data: Buffer): boolean;
  /** Picks a Call-ID this process will receive the replies for (cluster workers). */
  callIdFilter?(callId: string): boolean;
}

/** The URI of a Route header value (`<sip:...;lr>` or a bare URI). */
function routeUri(v: string): string {
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1]! : v).trim();
}

interface Pending {
  resolve(code: number): void;
  timers: NodeJS.Timeout[];
}

export class LocalUac {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;

  constructor(private readonly host: LocalUacHost, private readonly t1 = 500, private readonly t2 = 4000) {}

  /** Sends `method` to `uri`; resolves with the final status (408 on timeout, 477 when unsendable). */
  async request(method: string, uri: string, from: string, timeoutMs = 32 * this.t1): Promise<number> {
    let callId = `${randomBytes(8).toString('hex')}@kemi-proxy`;
    for (let i = 0; i < 64 && this.host.callIdFilter && !this.host.callIdFilter(callId); i++) callId = `${randomBytes(8).toString('hex')}@kemi-proxy`;
    return this.transact(uri, null, timeoutMs, (via) =>
      `${method} ${uri} SIP/2.0\r\n` +
      `${via}\r\n` +
      `To: <${uri}>\r\n` +
      `From: <${from}>;tag=${randomBytes(4).toString('hex')}\r\n` +
      `CSeq: 10 ${method}\r\n` +
      `Call-ID: ${callId}\r\n` +
      'Max-Forwards: 70\r\n' +
      'Content-Length: 0\r\n\r\n');
  }

  /**
   * A request inside an existing dialog (the dialog module's BYE): R-URI, From, To, Call-ID, CSeq
   * and route set as given; sent to the first Route entry, else to the R-URI.
   */
  within(r: WithinRequest): Promise<number> {
    const nextHop = r.routes.length > 0 ? routeUri(r.routes[0]!) : r.ruri;
    // Kamailio's build_uac_req order; tm appends Max-Forwards after the extra headers.
    return this.transact(nextHop, r.socket ?? null, r.timeoutMs ?? 32 * this.t1, (via) =>
      `${r.method} ${r.ruri} SIP/2.0\r\n` +
      `${via}\r\n` +
      `To: ${r.to}\r\n` +
      `From: ${r.from}\r\n` +
      `CSeq: ${r.cseq} ${r.method}\r\n` +
      `Call-ID: ${r.callId}\r\n` +
      r.routes.map((x) => `Route: ${x}\r\n`).join('') +
      'Content-Length: 0\r\n' +
      (r.extraHeaders ?? '') +
      'Max-Forwards: 70\r\n\r\n');
  }

  /** One non-INVITE client transaction to `uri` (resolved), retransmitted over UDP until answered. */
  private async transact(uri: string, socketId: string | null, timeoutMs: number, build: (via: string) => string): Promise<number> {
    const r = this.host.resolveUri(uri);
    const targets = r instanceof Promise ? await r.catch(() => []) : r ?? [];
    const target = targets[0];
    if (!target) return 477;
    const sock = this.host.socketFor(target.proto, target.address, socketId);
    if (!sock) return 477;
    const branch = `${LOCAL_BRANCH_PREFIX}${randomBytes(6).toString('hex')}${(++this.seq).toString(36)}`;
    const host = sock.family === 6 ? `[${sock.address}]` : sock.address;
    const data = Buffer.from(build(`Via: SIP/2.0/${sock.proto.toUpperCase()} ${host}:${sock.port};branch=${branch}`), 'latin1');
    const send: SendTarget = { proto: target.proto, address: target.address, port: target.port, local: sock.id };
    return new Promise<number>((resolve) => {
      const p: Pending = { resolve, timers: [] };
      this.pending.set(branch, p);
      const finish = (code: number): void => {
        if (!this.pending.delete(branch)) return;
        for (const t of p.timers) clearTimeout(t);
        resolve(code);
      };
      p.resolve = finish;
      if (!this.host.send(send, data)) {
        finish(477);
        return;
      }
      if (target.proto === 'udp') {
        let at = 0;
        for (let iv = this.t1; at + iv < timeoutMs; iv = Math.min(iv * 2, this.t2)) {
          at += iv;
          p.timers.push(setTimeout(() => this.host.send(send, data), at));
        }
      }
      p.timers.push(setTimeout(() => finish(408), timeoutMs));
    });
  }

  /** A reply whose top Via is one of ours: true when it was taken. */
  onReply(msg: SipMessage): boolean {
    let branch: string | undefined;
    try {
      branch = msg.topVia.branch;
    } catch {
      return false;
    }
    if (!branch?.startsWith(LOCAL_BRANCH_PREFIX)) return false;
    const p = this.pending.get(branch);
    if (p && msg.status >= 200) p.resolve(msg.status);
    return true;
  }

  close(): void {
    for (const p of this.pending.values()) for (const t of p.timers) clearTimeout(t);
    this.pending.clear();
  }
}
