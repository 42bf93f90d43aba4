/**
 * `--workers N`: N worker processes (node:cluster) on the same listen sockets, each with its own
 * Lua VM, like Kamailio's children.
 *
 * - UDP: every message of a call carries the same Call-ID, so the worker that owns a Call-ID
 *   (hash % N) handles all of them: the INVITE, its retransmissions, CANCEL, ACK, and the replies
 *   to what it relayed. A worker that reads someone else's message hands it straight to the owner
 *   over a loopback datagram socket of the owner's (one kernel hop; through the primary's IPC
 *   pipe, two process hops and a serialisation each, a handed-over ACK fell behind the BYE read
 *   directly after it).
 *   Who reads a datagram (udpBindMode): each worker binds its own socket on each UDP listen
 *   address. On Node >= 22.12 on Linux with SO_REUSEPORT (dgram `reusePort`): the kernel picks a
 *   socket by a hash of the 4-tuple, so every datagram from one source is read by one worker, in
 *   arrival order. Before, with SO_REUSEADDR: Linux gives every unicast datagram to one of the
 *   sockets, always the same, so one worker reads them all, in order. Either way one in-order
 *   channel from the reader to the owner keeps a call's messages in the order its source sent
 *   them. With the primary's shared handle (a listen port 0; KEMI_WORKERS_UDP=shared) any worker
 *   may read any datagram: two messages of a call sent back to back can be read by two workers
 *   and run in the wrong order (about 1% of the calls of test/e2e/workers-order.test.ts).
 * - TCP, TLS, WS: the primary hands each accepted connection to one worker, which handles
 *   everything on it (the replies to requests it relays come back on connections it opened; UDP
 *   replies to them, read by any worker, go to the worker whose branch prefix their Via carries).
 * - The primary serves the metrics endpoint (prom-client's AggregatorRegistry sums the workers),
 *   the control RPC (forwarded to every worker; app_lua.reload succeeds only when every worker
 *   reloaded; counters are summed), SIGHUP (reload everywhere), and the embedded state backend,
 *   so usrloc and htable data are one set for all workers (Redis, when configured, is used by the
 *   workers directly).
 */
import { workerExecArgv } from './node-flags.js';
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { normalizeAddress, parseListen, type ConnInfo, type PeerConnections, type Proto, type ReceiveInfo, type SendTarget, type TlsConnInfo, type UdpBind } from '../transport/types.js';
import { PeerChannel, noHandovers, type HandOver, type HandoverStats } from './peer-channel.js';
import type { ProxyConfig } from './config.js';
import type { Logger } from '../lib/log.js';
import { MemoryStore } from '../state/memory-store.js';
import { StateError, type StateStore } from '../state/store.js';
import { RpcError, RpcServer, type RpcParams } from './rpc.js';

/** IPC messages between the primary and its workers. */
type IpcMessage =
  | { k: 'ready'; peerPort: number; branchPrefix: string }
  | { k: 'peers'; ports: number[]; branchPrefixes: string[] }
  /** A hand-over that did not fit the peer channel (or before it knew the ports): the same kinds. */
  | { k: 'handover'; to: number; h: HandOver }
  | { k: 'conn'; note: ConnNote; open: boolean }
  | { k: 'conns'; notes: ConnNote[] }
  | { k: 'rpc'; id: number; method: string; params: RpcParams }
  | { k: 'rpc-res'; id: number; ok: boolean; result?: unknown; code?: number; error?: string }
  | { k: 'state'; id: number; op: StateOp; args: unknown[] }
  | { k: 'state-res'; id: number; ok: boolean; value?: unknown; error?: string }
  /** Worker to primary: its overload guard's admitted fraction; primary to worker: the lowest of the others'. */
  | { k: 'overload'; admitted: number };

/** A stream connection a worker holds, as the other workers learn of it. */
interface ConnNote {
  worker: number;
  proto: Proto;
  connId: number;
  address: string;
  port: number;
  /** Its TLS facts ($tls_*), once its handshake is done. */
  tls?: TlsConnInfo;
}

/** A certificate as it travels to the other workers: the fields KSR.tls and $tls_* read, no DER bytes. */
function portableCert(c: PeerCertificate | null): PeerCertificate | null {
  if (!c) return null;
  const { subject, issuer, subjectaltname, valid_from, valid_to, serialNumber, fingerprint, fingerprint256 } = c;
  return { subject: { ...subject }, issuer: { ...issuer }, subjectaltname, valid_from, valid_to, serialNumber, fingerprint, fingerprint256 } as PeerCertificate;
}

type StateOp = 'get' | 'set' | 'setIfAbsent' | 'del' | 'incr' | 'ttl' | 'entries' | 'clear' | 'mapGetAll' | 'mapSet' | 'mapDel' | 'mapKeys';

/** FNV-1a over the Call-ID: which worker owns a call. */
export function ownerOf(callId: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) {
    h ^= callId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % workers;
}

/**
 * dgram's `reusePort` (Node 22.12 and 23.1): each worker can bind its own socket on the listen
 * port. Only Linux spreads the datagrams over such sockets by source; elsewhere we keep the shared
 * handle.
 */
export function hasUdpReusePort(version: string = process.versions.node, platform: string = process.platform): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const recent = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return recent && platform === 'linux';
}

/**
 * How the workers read UDP. 'reuseport' (Node >= 22.12 on Linux): one reader per source, the
 * kernel spreads the sources over the workers. Else 'reuseaddr': every worker binds its own
 * socket with SO_REUSEADDR, and Linux gives each unicast datagram to one of them, always the same
 * one, so one worker reads everything, in order. 'shared' (a listen port 0, or the override
 * KEMI_WORKERS_UDP=shared): any worker reads any datagram, and a call's messages may run out of
 * order. `why` says what is lost.
 */
export function udpBindMode(
  cfg: Pick<ProxyConfig, 'listen'>,
  version = process.versions.node,
  platform = process.platform as string,
  override = process.env.KEMI_WORKERS_UDP,
): { mode: UdpBind; why?: string } {
  if (override === 'shared' || override === 'reuseaddr' || override === 'reuseport') return { mode: override, why: `KEMI_WORKERS_UDP=${override}` };
  // BSD and macOS do not spread datagrams over SO_REUSEPORT sockets, nor bind one port twice with SO_REUSEADDR.
  if (platform !== 'linux') return { mode: 'shared', why: `per-call ordering across workers needs Linux (this is ${platform}), so the workers share each UDP socket and two messages of a call sent back to back may run out of order` };
  const anyPort = cfg.listen.map(parseListen).find((l) => l.proto === 'udp' && l.port === 0);
  if (anyPort) return { mode: 'shared', why: `udp:${anyPort.address}:0 is listened on; per-call ordering across workers needs fixed UDP listen ports, so the workers share each UDP socket and two messages of a call sent back to back may run out of order` };
  if (hasUdpReusePort(version, platform)) return { mode: 'reuseport' };
  return { mode: 'reuseaddr', why: `Node ${version} has no dgram reusePort (Node >= 22.12): one worker reads every UDP datagram and hands the others' calls over; the reading scales with more workers only on Node >= 22.12` };
}

// ---- worker side ---------------------------------------------------------------------------

/** What a worker process knows about its cluster. */
export interface WorkerLink {
  readonly index: number;
  readonly count: number;
  /** How this worker binds its UDP listen sockets. */
  readonly udpBind: UdpBind;
  /** Queues a UDP message for the worker that owns its Call-ID. */
  forward(to: number, data: Buffer, rcv: ReceiveInfo): void;
  /** Sends what forward() queued: one datagram per worker for everything read in a poll phase. */
  flush(): void;
  /** Tells the other workers (through the primary) this worker's overload guard's admitted fraction. */
  shareOverload(admitted: number): void;
  /** Messages and datagrams handed to and from the other workers. */
  readonly handoverStats: Readonly<HandoverStats>;
  /**
   * The worker whose client transaction a reply's Via branch names (the prefix of the branches
   * it makes), if any: a request that came over a TLS/WS/TCP connection is relayed by the worker
   * holding the connection, whatever worker owns its Call-ID.
   */
  ownerOfBranch(branch: string): number | undefined;
}

export interface WorkerHandlers {
  onMessage(data: Buffer, rcv: ReceiveInfo): void;
  rpc: RpcServer;
  /** What every branch this worker makes starts with. */
  branchPrefix: string;
  /** The lowest admitted fraction of the other workers' overload guards, when it changes. */
  onPeerOverload(admitted: number): void;
}

/** Where a worker's stream connection is found by the others: its id, and its protocol and peer. */
const peerKey = (proto: Proto, address: string, port: number): string => `${proto}|${address}|${port}`;

/** This process's transports, where the other workers' hand-overs land (PeerConnections.serve). */
type Here = Parameters<PeerConnections['serve']>[0];

const NO_HANDOVERS: Readonly<HandoverStats> = Object.freeze(noHandovers());

/** A cluster worker's link to the primary and its peers (one per worker process). */
class ClusterWorkerLink implements WorkerLink, PeerConnections {
  private channel: PeerChannel | null = null;
  private branchPrefixes: string[] = [];
  /** The other workers' stream connections, by id and by protocol and peer. */
  private readonly connsById = new Map<number, ConnNote>();
  private readonly connsByPeer = new Map<string, ConnNote>();
  private here: Here | null = null;

  constructor(readonly index: number, readonly count: number, readonly udpBind: UdpBind) {
    // Before attach(): a connection may be accepted as soon as the transports listen.
    process.on('message', (m: IpcMessage) => {
      if (m.k === 'conn') this.learn(m.note, m.open);
      else if (m.k === 'conns') for (const n of m.notes) this.learn(n, true);
    });
  }

  ownerOfBranch(branch: string): number | undefined {
    for (let i = 0; i < this.branchPrefixes.length; i++) {
      const p = this.branchPrefixes[i]!;
      if (p && branch.startsWith(p)) return i;
    }
    return undefined;
  }

  forward(to: number, data: Buffer, rcv: ReceiveInfo): void {
    if (this.channel?.queue(to, { kind: 'received', rcv, data })) return;
    this.channel?.flush(); // what was queued before goes first
    toPrimary({ k: 'handover', to, h: { kind: 'received', rcv, data } } satisfies IpcMessage);
  }

  flush(): void {
    this.channel?.flush();
  }

  get handoverStats(): Readonly<HandoverStats> {
    return this.channel?.stats ?? NO_HANDOVERS;
  }

  // ---- PeerConnections: the stream connections of the other workers ----

  holder(t: SendTarget): number | undefined {
    const byId = t.connId !== undefined ? this.connsById.get(t.connId) : undefined;
    return (byId ?? this.connsByPeer.get(peerKey(t.proto, normalizeAddress(t.address), t.port)))?.worker;
  }

  handOver(worker: number, target: SendTarget, data: Buffer): boolean {
    const h: HandOver = { kind: 'send', target, data };
    if (this.channel?.send(worker, h)) return true;
    return toPrimary({ k: 'handover', to: worker, h } satisfies IpcMessage);
  }

  closeHeld(connId: number, status: number, reason: string): boolean {
    const n = this.connsById.get(connId);
    if (!n || (n.proto !== 'ws' && n.proto !== 'wss')) return false;
    // A status no close frame carries does not travel (it would not fit the datagram's 16 bits either).
    if (!Number.isInteger(status) || status < 1000 || status > 4999) return false;
    // After the sends handed to it so far: a reply sent before the close goes out before it.
    const h: HandOver = { kind: 'close', connId, status, data: Buffer.from(reason, 'utf8') };
    if (this.channel?.send(n.worker, h)) return true;
    return toPrimary({ k: 'handover', to: n.worker, h } satisfies IpcMessage);
  }

  opened(proto: Proto, connId: number, address: string, port: number, tls?: TlsConnInfo): void {
    const note: ConnNote = { worker: this.index, proto, connId, address, port };
    if (tls) note.tls = { ...tls, peerCert: portableCert(tls.peerCert), localCert: portableCert(tls.localCert) };
    toPrimary({ k: 'conn', open: true, note } satisfies IpcMessage);
  }

  connInfo(connId: number): ConnInfo | undefined {
    const n = this.connsById.get(connId);
    if (!n) return undefined;
    return n.tls ? { proto: n.proto, tls: n.tls } : { proto: n.proto };
  }

  closed(proto: Proto, connId: number, address: string, port: number): void {
    toPrimary({ k: 'conn', open: false, note: { worker: this.index, proto, connId, address, port } } satisfies IpcMessage);
  }

  serve(here: Here): void {
    this.here = here;
  }

  private learn(n: ConnNote, open: boolean): void {
    if (n.worker === this.index) return;
    const key = peerKey(n.proto, n.address, n.port);
    if (open) {
      this.connsById.set(n.connId, n);
      this.connsByPeer.set(key, n);
      return;
    }
    if (!this.connsById.delete(n.connId)) return;
    if (this.connsByPeer.get(key)?.connId === n.connId) this.connsByPeer.delete(key);
    // tm ends the branches relayed over it, as for a connection of our own.
    this.here?.closed(n.proto, n.connId, n.address, n.port);
  }

  private handed(h: HandOver, onMessage: WorkerHandlers['onMessage']): void {
    if (h.kind === 'received') onMessage(h.data, h.rcv);
    else if (h.kind === 'send') this.here?.send(h.target, h.data);
    else this.here?.closeWebSocket(h.connId, h.status, h.data.toString('utf8'));
  }

  shareOverload(admitted: number): void {
    toPrimary({ k: 'overload', admitted } satisfies IpcMessage);
  }

  /** Wires the worker to the primary and its peers: messages handed over, RPC calls, and "ready". */
  async attach(h: WorkerHandlers): Promise<void> {
    const channel = new PeerChannel(process.env.KEMI_CLUSTER_SECRET ?? '', (x) => this.handed(x, h.onMessage));
    const peerPort = await channel.bind();
    this.channel = channel;
    process.on('message', (m: IpcMessage) => {
      // IPC's advanced serialization gives back a Buffer as a Uint8Array.
      if (m.k === 'handover') this.handed({ ...m.h, data: Buffer.from(m.h.data.buffer, m.h.data.byteOffset, m.h.data.byteLength) }, h.onMessage);
      else if (m.k === 'overload') h.onPeerOverload(m.admitted);
      else if (m.k === 'peers') {
        channel.setPorts(m.ports);
        this.branchPrefixes = m.branchPrefixes;
      }
      else if (m.k === 'rpc') {
        void h.rpc.call({ jsonrpc: '2.0', method: m.method, params: m.params, id: m.id }).then((r) => {
          const err = r?.error as { code: number; message: string } | undefined;
          toPrimary({ k: 'rpc-res', id: m.id, ok: !err, result: r?.result, code: err?.code, error: err?.message } satisfies IpcMessage);
        });
      }
    });
    // The primary went away: nobody can stop us any more, so stop now.
    process.on('disconnect', () => process.exit(0));
    toPrimary({ k: 'ready', peerPort, branchPrefix: h.branchPrefix } satisfies IpcMessage);
  }
}

/**
 * A worker's message to the primary. Once the primary is gone (or going), the channel is closed and
 * process.send without a callback would throw that as an 'error' event: the message is dropped
 * instead (the worker exits on 'disconnect').
 */
function toPrimary(m: IpcMessage): boolean {
  if (!process.connected || !process.send) return false;
  return process.send(m, undefined, {}, () => undefined);
}

/** The worker's link, or null when this process is not a cluster worker. */
export function workerLink(): (WorkerLink & PeerConnections & { attach(h: WorkerHandlers): Promise<void> }) | null {
  if (!cluster.isWorker) return null;
  const env = process.env;
  const bind = env.KEMI_UDP_BIND;
  return new ClusterWorkerLink(Number(env.KEMI_WORKER_INDEX ?? 0), Number(env.KEMI_WORKERS ?? 1), bind === 'reuseport' || bind === 'reuseaddr' ? bind : 'shared');
}

/** The embedded state backend of the primary, reached over IPC (shared by every worker). */
export class IpcStore implements StateStore {
  readonly kind = 'memory' as const;
  errors = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  constructor() {
    process.on('message', (m: IpcMessage) => {
      if (m.k !== 'state-res') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else {
        this.errors++;
        p.reject(new StateError(m.error ?? 'state error'));
      }
    });
  }

  private op<T>(op: StateOp, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.errors++;
        reject(new StateError(`state ${op}: no answer from the primary within 1 s`));
      }, 1000);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      toPrimary({ k: 'state', id, op, args } satisfies IpcMessage);
    });
  }

  get(ns: string, key: string): Promise<string | null> { return this.op('get', ns, key); }
  set(ns: string, key: string, value: string, ttlSec?: number): Promise<void> { return this.op('set', ns, key, value, ttlSec); }
  setIfAbsent(ns: string, key: string, value: string, ttlSec?: number): Promise<boolean> { return this.op('setIfAbsent', ns, key, value, ttlSec); }
  del(ns: string, key: string): Promise<void> { return this.op('del', ns, key); }
  incr(ns: string, key: string, by: number, ttlSec?: number): Promise<number> { return this.op('incr', ns, key, by, ttlSec); }
  ttl(ns: string, key: string): Promise<number> { return this.op('ttl', ns, key); }
  entries(ns: string): Promise<[string, string][]> { return this.op('entries', ns); }
  clear(ns: string): Promise<void> { return this.op('clear', ns); }
  mapGetAll(ns: string, key: string): Promise<Record<string, string>> { return this.op('mapGetAll', ns, key); }
  mapSet(ns: string, key: string, field: string, value: string, ttlSec?: number): Promise<void> { return this.op('mapSet', ns, key, field, value, ttlSec); }
  mapDel(ns: string, key: string, field: string): Promise<void> { return this.op('mapDel', ns, key, field); }
  mapKeys(ns: string): Promise<string[]> { return this.op('mapKeys', ns); }
  async close(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}

// ---- primary side --------------------------------------------------------------------------

/** Sums numbers field by field (tm.stats), or "name = value" lines (stats.get_statistics). */
function merge(results: unknown[]): unknown {
  const first = results[0];
  if (Array.isArray(first) && first.every((l) => typeof l === 'string' && / = -?\d+(\.\d+)?$/.test(l))) {
    const sums = new Map<string, number>();
    for (const r of results as string[][]) {
      for (const line of r) {
        const i = line.lastIndexOf(' = ');
        const k = line.slice(0, i);
        sums.set(k, (sums.get(k) ?? 0) + Number(line.slice(i + 3)));
      }
    }
    return [...sums].map(([k, v]) => `${k} = ${v}`);
  }
  if (first && typeof first === 'object' && !Array.isArray(first) && Object.values(first).every((v) => typeof v === 'number')) {
    const out: Record<string, number> = {};
    for (const r of results as Record<string, number>[]) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
    return out;
  }
  return first;
}

/** Methods whose answers are summed over the workers; others give worker 0's answer. */
const SUMMED = new Set(['tm.stats', 'stats.get_statistics']);

export async function runPrimary(cfg: ProxyConfig, log: Logger): Promise<void> {
  // Workers run the same command line; they see themselves as workers through node:cluster.
  cluster.setupPrimary({ serialization: 'advanced', execArgv: workerExecArgv(process.execArgv, availableParallelism(), cfg.workers) });
  const store = new MemoryStore();
  const workers: (Worker | null)[] = new Array<Worker | null>(cfg.workers).fill(null);
  const ready = new Set<number>();
  let stopping = false;
  let nextRpc = 1;
  const rpcWaiters = new Map<number, (r: Extract<IpcMessage, { k: 'rpc-res' }>) => void>();

  const secret = randomBytes(8).toString('hex');
  const udp = udpBindMode(cfg);
  if (cfg.listen.some((l) => parseListen(l).proto === 'udp')) {
    const how = { reuseport: 'each worker binds its own UDP sockets with SO_REUSEPORT', reuseaddr: 'each worker binds its own UDP sockets with SO_REUSEADDR', shared: 'the workers share each UDP socket' }[udp.mode];
    if (udp.why) log.warn(`UDP with ${cfg.workers} workers: ${how} (${udp.why})`);
    else log.info(`UDP with ${cfg.workers} workers: ${how}; each source is read by one worker`);
  }
  const peerPorts: number[] = new Array<number>(cfg.workers).fill(0);
  /** Each worker's overload guard's admitted fraction, as it last told (1: not shedding). */
  const admitted: number[] = new Array<number>(cfg.workers).fill(1);
  const branchPrefixes: string[] = new Array<string>(cfg.workers).fill('');
  /**
   * Sends to a worker over its IPC channel, when it still has one. A worker that is exiting (every
   * worker, once the primary stops them) has a closed channel or pipe: Worker.send without a
   * callback reports that as an 'error' event, which killed the primary on SIGTERM.
   */
  const tell = (w: Worker | null | undefined, m: IpcMessage): void => {
    if (!w?.isConnected()) return;
    w.send(m, undefined, (err) => {
      if (err && !stopping) log.warn(`message to worker pid ${w.process.pid} not sent: ${err.message}`);
    });
  };
  /** Every worker learns every worker's hand-over port and branch prefix (again when one restarts). */
  const announcePeers = (): void => {
    for (const w of workers) tell(w, { k: 'peers', ports: peerPorts, branchPrefixes });
  };

  /** Every worker's stream connections, so a worker (re)started later learns the others'. */
  const conns = new Map<string, ConnNote>();
  const connKey = (n: ConnNote): string => `${n.worker}:${n.connId}`;
  const tellOthers = (from: number, m: IpcMessage): void => {
    workers.forEach((w, j) => {
      if (j !== from) tell(w, m);
    });
  };

  const onWorkerMessage = (i: number, m: IpcMessage): void => {
    switch (m.k) {
      case 'ready':
        ready.add(i);
        peerPorts[i] = m.peerPort;
        branchPrefixes[i] = m.branchPrefix;
        announcePeers();
        tell(workers[i], { k: 'conns', notes: [...conns.values()].filter((n) => n.worker !== i) });
        break;
      case 'handover':
        tell(workers[m.to], m);
        break;
      case 'overload':
        admitted[i] = m.admitted;
        workers.forEach((w, j) => {
          if (j !== i) tell(w, { k: 'overload', admitted: Math.min(1, ...admitted.filter((_, x) => x !== j)) });
        });
        break;
      case 'conn':
        if (m.open) conns.set(connKey(m.note), m.note);
        else conns.delete(connKey(m.note));
        tellOthers(i, m);
        break;
      case 'rpc-res':
        rpcWaiters.get(m.id)?.(m);
        break;
      case 'state': {
        const w = workers[i];
        try {
          const fn = store[m.op] as (...a: unknown[]) => unknown;
          const value = fn.apply(store, m.args);
          tell(w, { k: 'state-res', id: m.id, ok: true, value });
        } catch (e) {
          tell(w, { k: 'state-res', id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
        }
        break;
      }
      default:
        break;
    }
  };

  const fork = (i: number): void => {
    const w = cluster.fork({ KEMI_WORKER_INDEX: String(i), KEMI_WORKERS: String(cfg.workers), KEMI_CLUSTER_SECRET: secret, KEMI_UDP_BIND: udp.mode });
    workers[i] = w;
    w.on('message', (m: IpcMessage) => onWorkerMessage(i, m));
    // A broken IPC pipe shows here too (sends go through tell(), with a callback); log it, never throw.
    w.on('error', (e: Error) => {
      if (!stopping) log.warn(`worker ${i} (pid ${w.process.pid}): ${e.message}`);
    });
    w.on('exit', (code, signal) => {
      ready.delete(i);
      workers[i] = null;
      if (stopping) return;
      peerPorts[i] = 0;
      branchPrefixes[i] = '';
      // A dead worker sheds nothing (the others stop holding its fraction within a second anyway).
      admitted[i] = 1;
      announcePeers();
      // Its connections died with it.
      for (const [key, note] of conns) {
        if (note.worker !== i) continue;
        conns.delete(key);
        tellOthers(i, { k: 'conn', open: false, note });
      }
      log.err(`worker ${i} (pid ${w.process.pid}) exited (${signal ?? code}); starting a new one`);
      setTimeout(() => fork(i), 500);
    });
  };
  for (let i = 0; i < cfg.workers; i++) fork(i);

  const deadline = Date.now() + 30_000;
  while (ready.size < cfg.workers) {
    if (Date.now() > deadline) throw new Error(`only ${ready.size} of ${cfg.workers} workers started`);
    await new Promise((r) => setTimeout(r, 50));
  }

  /** Runs an RPC method on every live worker. */
  const callAll = async (method: string, params: RpcParams): Promise<Extract<IpcMessage, { k: 'rpc-res' }>[]> => {
    const live = workers.filter((w): w is Worker => w !== null);
    return Promise.all(live.map((w) => new Promise<Extract<IpcMessage, { k: 'rpc-res' }>>((resolve) => {
      const id = nextRpc++;
      const timer = setTimeout(() => {
        rpcWaiters.delete(id);
        resolve({ k: 'rpc-res', id, ok: false, code: 500, error: `worker pid ${w.process.pid} did not answer` });
      }, 10_000);
      rpcWaiters.set(id, (r) => {
        clearTimeout(timer);
        rpcWaiters.delete(id);
        resolve(r);
      });
      tell(w, { k: 'rpc', id, method, params });
    })));
  };

  const rpc = new RpcServer();
  rpc.register('core.psx', () => [{ PID: process.pid, DSC: 'kemi-proxy primary' }, ...workers.map((w, i) => ({ PID: w?.process.pid ?? 0, DSC: `kemi-proxy worker ${i}` }))]);
  rpc.fallback = async (method, params) => {
    const out = await callAll(method, params);
    const bad = out.find((r) => !r.ok);
    if (bad) throw new RpcError(bad.code ?? 500, bad.error ?? 'worker error');
    const results = out.map((r) => r.result);
    return SUMMED.has(method) ? merge(results) : results[0];
  };
  if (cfg.rpc) {
    const port = await rpc.listen(cfg.rpc);
    log.info(`control RPC on http://${cfg.rpc.replace(/:\d+$/, '')}:${port}/RPC`);
  }

  let metricsServer: Server | null = null;
  if (cfg.metrics) {
    const { AggregatorRegistry } = await import('prom-client');
    const agg = new AggregatorRegistry();
    const i = cfg.metrics.lastIndexOf(':');
    const host = cfg.metrics.slice(0, i).replace(/^\[|\]$/g, '');
    metricsServer = createServer((req, res) => {
      if (req.method !== 'GET' || !req.url?.startsWith('/metrics')) {
        res.writeHead(404).end();
        return;
      }
      agg.clusterMetrics().then(
        (body) => res.writeHead(200, { 'content-type': agg.contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((res, rej) => {
      metricsServer!.once('error', rej);
      metricsServer!.listen(Number(cfg.metrics!.slice(i + 1)), host, () => res());
    });
    log.info(`metrics on http://${host}:${(metricsServer.address() as { port: number }).port}/metrics (${cfg.workers} workers)`);
  }

  process.on('SIGHUP', () => {
    void callAll('app_lua.reload', []).then((out) => {
      const bad = out.filter((r) => !r.ok);
      if (bad.length) log.err(`SIGHUP reload failed in ${bad.length} worker(s): ${bad[0]!.error}`);
      else log.info(`SIGHUP: script reloaded in ${out.length} workers`);
    });
  });

  const shutdown = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping ${cfg.workers} workers`);
    const live = workers.filter((w): w is Worker => w !== null);
    let left = live.length;
    const done = (): void => {
      void store.close();
      metricsServer?.close();
      void rpc.close();
      process.exit(0);
    };
    if (left === 0) done();
    for (const w of live) {
      w.once('exit', () => {
        if (--left === 0) done();
      });
      w.process.kill('SIGTERM');
    }
    setTimeout(() => {
      for (const w of live) w.process.kill('SIGKILL');
      done();
    }, 5000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.stderr.write(`kemi-proxy ready (script ${cfg.script}, pid ${process.pid}, ${cfg.workers} workers)\n`);
}
