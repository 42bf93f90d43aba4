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

export const LOCAL_BRANCH_PREFIX = 'z9hG4bKkuac';

export interface LocalUacHost {
  resolveUri(uri: string): Target[] | Promise<Target[]> | null;
  socketFor(proto: Target['proto'], address: string): ListenSocket | undefined;
  send(target: SendTarget, data: Buffer): boolean;
  /** Picks a Call-ID this process will receive the replies for (cluster workers). */
  callIdFilter?(callId: string): boolean;
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
    const r = this.host.resolveUri(uri);
    const targets = r instanceof Promise ? await r.catch(() => []) : r ?? [];
    const target = targets[0];
    if (!target) return 477;
    const sock = this.host.socketFor(target.proto, target.address);
    if (!sock) return 477;
    const branch = `${LOCAL_BRANCH_PREFIX}${randomBytes(6).toString('hex')}${(++this.seq).toString(36)}`;
    let callId = `${randomBytes(8).toString('hex')}@kemi-proxy`;
    for (let i = 0; i < 64 && this.host.callIdFilter && !this.host.callIdFilter(callId); i++) callId = `${randomBytes(8).toString('hex')}@kemi-proxy`;
    const host = sock.family === 6 ? `[${sock.address}]` : sock.address;
    const text =
      `${method} ${uri} SIP/2.0\r\n` +
      `Via: SIP/2.0/${sock.proto.toUpperCase()} ${host}:${sock.port};branch=${branch}\r\n` +
      `To: <${uri}>\r\n` +
      `From: <${from}>;tag=${randomBytes(4).toString('hex')}\r\n` +
      `CSeq: 10 ${method}\r\n` +
      `Call-ID: ${callId}\r\n` +
      'Max-Forwards: 70\r\n' +
      'Content-Length: 0\r\n\r\n';
    const data = Buffer.from(text, 'latin1');
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
