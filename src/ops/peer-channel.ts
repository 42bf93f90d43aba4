/**
 * Worker-to-worker hand-overs (src/ops/cluster.ts): each worker has a datagram socket on
 * 127.0.0.1, and each hand-over travels as one datagram to the other worker's socket (one kernel
 * hop, in order; through the primary's IPC pipe, two process hops and a serialisation each, a
 * handed-over ACK fell behind the BYE read directly after it). Two kinds:
 *
 * - a received message for the worker that owns its call (a UDP message by its Call-ID, a reply
 *   by the branch prefix in its Via), with where it was received;
 * - a message to send on a stream connection (tcp, tls, ws, wss) the other worker holds;
 * - the closing of a WebSocket connection the other worker holds (KSR.websocket.close_conid),
 *   with its status code; the close reason travels as the message.
 *
 * Layout: secret(8) kind(1) then the kind's header and the message. The secret (random per
 * cluster, from the primary) and the peer port list keep other local processes from injecting
 * messages with a forged source. Received messages are queued and sent as a batch, secret(8)
 * kind(3) then [length(2) kind(1) header message] per message, one datagram per worker for all
 * that one poll phase read (a syscall on each side per batch, not per message).
 */
import { createSocket, type Socket } from 'node:dgram';
import { sendLookup } from '../transport/literal-lookup.js';
import { Interner } from '../lib/interner.js';
import type { Proto, ReceiveInfo, SendTarget } from '../transport/types.js';

/** Largest datagram on loopback. */
const MAX_PEER_DATAGRAM = 65_507;
export const SECRET_LEN = 8;
const KIND_RECEIVED = 1;
const KIND_SEND = 2;
const KIND_BATCH = 3;
const KIND_CLOSE = 4;
const BATCH_TAG = Buffer.from([KIND_BATCH]);
const PROTOS: readonly Proto[] = ['udp', 'tcp', 'tls', 'ws', 'wss', 'sctp'];
const HAS_CONN = 1;
const NO_CONNECT = 2;
const CLOSE_AFTER = 4;

/** Hand-overs sent and received by one worker: messages, and the datagrams that carried them. */
export interface HandoverStats {
  messagesSent: number;
  datagramsSent: number;
  messagesReceived: number;
  datagramsReceived: number;
}

/** A worker's hand-over counters before any hand-over (and a worker without a channel's, for good). */
export function noHandovers(): HandoverStats {
  return { messagesSent: 0, datagramsSent: 0, messagesReceived: 0, datagramsReceived: 0 };
}

/** What a hand-over datagram carries. */
export type HandOver =
  | { kind: 'received'; rcv: ReceiveInfo; data: Buffer }
  | { kind: 'send'; target: SendTarget; data: Buffer }
  | { kind: 'close'; connId: number; status: number; data: Buffer };

/** Writes a length-prefixed latin1 string at `o`; the offset after it. */
function putStr(buf: Buffer, o: number, s: string): number {
  buf[o] = s.length;
  return o + 1 + buf.write(s, o + 1, 'latin1');
}

/** Strings longer than a length byte do not fit (addresses and socket ids never are). */
const fitsByte = (x: string): boolean => x.length <= 255;
const fits = (...s: string[]): boolean => s.every(fitsByte);

/** The header of a hand-over (after the secret), in one allocation: the hot path of --workers. */
export function encodeHead(h: HandOver): Buffer | null {
  if (h.kind === 'received') {
    const r = h.rcv;
    if (!fits(r.srcAddress, r.localAddress)) return null;
    const head = Buffer.allocUnsafe(12 + 2 + r.srcAddress.length + r.localAddress.length);
    head[0] = KIND_RECEIVED;
    head[1] = r.family;
    head[2] = PROTOS.indexOf(r.proto);
    head[3] = r.connId !== undefined ? HAS_CONN : 0;
    head.writeUInt16BE(r.srcPort, 4);
    head.writeUInt16BE(r.localPort, 6);
    head.writeUInt32BE(r.connId ?? 0, 8);
    putStr(head, putStr(head, 12, r.srcAddress), r.localAddress);
    return head;
  }
  if (h.kind === 'close') {
    const head = Buffer.allocUnsafe(7);
    head[0] = KIND_CLOSE;
    head.writeUInt32BE(h.connId, 1);
    head.writeUInt16BE(h.status, 5);
    return head;
  }
  const t = h.target;
  const local = t.local ?? '';
  const serverName = t.serverName ?? '';
  if (!fits(t.address, local, serverName)) return null;
  const head = Buffer.allocUnsafe(9 + 3 + t.address.length + local.length + serverName.length);
  head[0] = KIND_SEND;
  head[1] = PROTOS.indexOf(t.proto);
  head[2] = (t.connId !== undefined ? HAS_CONN : 0) | (t.noConnect ? NO_CONNECT : 0) | (t.closeAfter ? CLOSE_AFTER : 0);
  head.writeUInt16BE(t.port, 3);
  head.writeUInt32BE(t.connId ?? 0, 5);
  putStr(head, putStr(head, putStr(head, 9, t.address), local), serverName);
  return head;
}

/** Reads a hand-over (after the secret); null when it is cut short or unknown. */
export function decodeHandOver(buf: Buffer, start: number, addresses?: Interner): HandOver | null {
  let o = start;
  const need = (n: number): boolean => o + n <= buf.length;
  const str = (): string | null => {
    if (!need(1)) return null;
    const n = buf[o++]!;
    if (!need(n)) return null;
    const s = buf.toString('latin1', o, o + n);
    o += n;
    return s;
  };
  if (!need(1)) return null;
  const kind = buf[o++];
  if (kind === KIND_RECEIVED) {
    if (!need(11)) return null;
    const family = buf[o] === 6 ? 6 : 4;
    const proto = PROTOS[buf[o + 1]!];
    const flags = buf[o + 2]!;
    const srcPort = buf.readUInt16BE(o + 3);
    const localPort = buf.readUInt16BE(o + 5);
    const connId = buf.readUInt32BE(o + 7);
    o += 11;
    let srcAddress = str();
    let localAddress = str();
    if (!proto || srcAddress === null || localAddress === null) return null;
    if (addresses) {
      srcAddress = addresses.intern(srcAddress);
      localAddress = addresses.intern(localAddress);
    }
    const rcv: ReceiveInfo = flags & HAS_CONN
      ? { proto, srcAddress, srcPort, localAddress, localPort, family, connId }
      : { proto, srcAddress, srcPort, localAddress, localPort, family };
    return { kind: 'received', rcv, data: buf.subarray(o) };
  }
  if (kind === KIND_SEND) {
    if (!need(8)) return null;
    const proto = PROTOS[buf[o]!];
    const flags = buf[o + 1]!;
    const port = buf.readUInt16BE(o + 2);
    const connId = buf.readUInt32BE(o + 4);
    o += 8;
    const address = str();
    const local = str();
    const serverName = str();
    if (!proto || address === null || local === null || serverName === null) return null;
    const target: SendTarget = { proto, address, port };
    if (flags & HAS_CONN) target.connId = connId;
    if (flags & NO_CONNECT) target.noConnect = true;
    if (flags & CLOSE_AFTER) target.closeAfter = true;
    if (local) target.local = local;
    if (serverName) target.serverName = serverName;
    return { kind: 'send', target, data: buf.subarray(o) };
  }
  if (kind === KIND_CLOSE) {
    if (!need(6)) return null;
    return { kind: 'close', connId: buf.readUInt32BE(o), status: buf.readUInt16BE(o + 4), data: buf.subarray(o + 6) };
  }
  return null;
}

/** The hand-overs of a batch (after its secret and tag), in order; stops at one cut short. */
export function decodeBatch(buf: Buffer, start: number, addresses?: Interner): HandOver[] {
  const out: HandOver[] = [];
  let o = start;
  while (o + 2 <= buf.length) {
    const end = o + 2 + buf.readUInt16BE(o);
    if (end > buf.length) break;
    const h = decodeHandOver(buf.subarray(0, end), o + 2, addresses);
    if (!h) break;
    out.push(h);
    o = end;
  }
  return out;
}

export class PeerChannel {
  // Sends to 127.0.0.1 go out at once, without dns.lookup's next tick (transport/literal-lookup.ts).
  readonly socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, lookup: sendLookup });
  private ports: number[] = [];
  private readonly secret: Buffer;
  /** Peer addresses as one string each: what a transaction or dialog keeps of them is shared. */
  private readonly addresses = new Interner(4096);

  constructor(secretHex: string, private readonly deliver: (h: HandOver) => void) {
    this.secret = Buffer.from(secretHex, 'hex');
    this.socket.on('message', (buf, from) => this.receive(buf, from.address, from.port));
    // A hand-over that cannot be sent is a lost datagram, as on the wire; never a crash.
    this.socket.on('error', () => undefined);
  }

  /** Binds its own loopback port (exclusive: not the primary's shared handle). */
  bind(): Promise<number> {
    return new Promise((resolve) => {
      this.socket.bind({ address: '127.0.0.1', port: 0, exclusive: true }, () => resolve(this.socket.address().port));
    });
  }

  setPorts(ports: number[]): void {
    this.ports = ports;
  }

  /** Hand-over traffic of this worker, for /metrics (kemi_workers_handover_*). */
  readonly stats: HandoverStats = noHandovers();

  /**
   * The header of a hand-over to worker `to`, with room for `overhead` more bytes in a datagram;
   * null when its port is not known yet or the message does not fit.
   */
  private frame(to: number, h: HandOver, overhead: number): Buffer | null {
    if (!this.ports[to] || this.secret.length !== SECRET_LEN) return null;
    const head = encodeHead(h);
    return head && SECRET_LEN + overhead + head.length + h.data.length <= MAX_PEER_DATAGRAM ? head : null;
  }

  /** Sends to worker `to` at once; false when its port is not known yet or the message is too big. */
  send(to: number, h: HandOver): boolean {
    const head = this.frame(to, h, 0);
    if (!head) return false;
    this.socket.send([this.secret, head, h.data], this.ports[to]!, '127.0.0.1');
    this.stats.messagesSent++;
    this.stats.datagramsSent++;
    return true;
  }

  /** Per worker: the datagram being gathered ([secret, tag, length, head, data, ...]) and its size. */
  private readonly batches: (Buffer[] | undefined)[] = [];
  private readonly batchSizes: number[] = [];

  /**
   * Queues a hand-over for worker `to` until flush(); false (nothing queued) when its port is not
   * known yet or the message is too big for a datagram.
   */
  queue(to: number, h: HandOver): boolean {
    // A batch adds its tag (1 byte) and each item's length (2).
    const head = this.frame(to, h, 3);
    if (!head) return false;
    const item = 2 + head.length + h.data.length;
    let b = this.batches[to];
    if (b && this.batchSizes[to]! + item > MAX_PEER_DATAGRAM) {
      this.sendBatch(to, b);
      b = undefined;
    }
    if (!b) {
      b = this.batches[to] = [this.secret, BATCH_TAG];
      this.batchSizes[to] = SECRET_LEN + 1;
    }
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(head.length + h.data.length);
    b.push(len, head, h.data);
    this.batchSizes[to]! += item;
    this.stats.messagesSent++;
    return true;
  }

  /** Sends every queued batch, one datagram per worker (order matters only within a worker's batch). */
  flush(): void {
    for (let to = 0; to < this.batches.length; to++) {
      const b = this.batches[to];
      if (b) this.sendBatch(to, b);
    }
  }

  private sendBatch(to: number, b: Buffer[]): void {
    this.batches[to] = undefined;
    this.socket.send(b, this.ports[to]!, '127.0.0.1');
    this.stats.datagramsSent++;
  }

  private receive(buf: Buffer, address: string, port: number): void {
    if (address !== '127.0.0.1' || !this.ports.includes(port) || buf.length < SECRET_LEN + 1) return;
    if (!buf.subarray(0, SECRET_LEN).equals(this.secret)) return;
    this.stats.datagramsReceived++;
    if (buf[SECRET_LEN] !== KIND_BATCH) {
      const h = decodeHandOver(buf, SECRET_LEN, this.addresses);
      if (h) this.deliver(h);
      this.stats.messagesReceived += h ? 1 : 0;
      return;
    }
    const batch = decodeBatch(buf, SECRET_LEN + 1, this.addresses);
    this.stats.messagesReceived += batch.length;
    for (const h of batch) this.deliver(h);
  }
}
