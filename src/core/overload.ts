/**
 * The overload guard (on by default; config `overloadBacklogMs`, CLI `--overload MS|off`).
 *
 * The signal is a UDP backlog that never drains. libuv reads at most 32 datagrams per socket per
 * loop turn; a turn that reads fewer found the socket empty. Past capacity the kernel's receive
 * buffer (4 MB: seconds of SIP) never empties, every turn reads its 32, and requests wait there
 * long enough for both ends to retransmit, which takes the capacity left. Neither event-loop lag
 * nor utilization tells that apart from a slow box: the loop keeps turning every few ms with a
 * full backlog (lag stays low), and a process that other processes starve of CPU looks busy (an
 * ELU-based guard shed calls at 200 calls/s on a loaded 2-core box where the proxy, unguarded,
 * completed them all). A starved proxy that keeps up still empties its socket now and then.
 *
 * Once no turn has found the socket empty for `backlogMs` (500 ms by default, SIP's T1; 1 s with
 * workers) while the queue holds at least half that much work (one process: below), or sooner
 * where the kernel tells that the socket's receive buffer is a quarter full (Linux:
 * udp-queue.ts), the fraction of new dialogs admitted shrinks (x0.85 per 250 ms window still
 * without an empty read, down to 0.1) and grows back (+0.1 per window) once reads find the socket
 * empty again: an AIMD controller. A kernel queue past a quarter full cuts harder, in proportion
 * to its fullness; in one process, a queue that shrinks while shedding holds the fraction. Shed
 * requests are answered 503 with Retry-After before any script runs; requests of calls in
 * progress (To tag, ACK, CANCEL, BYE, PRACK, UPDATE) and retransmissions tm already knows always
 * go through (proxy.ts `shedding`), so calls already set up finish. Only UDP is watched.
 *
 * A refused request is remembered for 4-8 s (by Call-ID and CSeq number): its retransmissions,
 * which the backlog often already holds, get the same 503 instead of a decision of their own, which
 * could admit and relay a request whose UAC has already taken the first 503 as the final answer.
 *
 * How much work the queue holds (one process): its bytes as the kernel counts them (udp-queue.ts)
 * over the rate at which the proxy has lately read them (the most of the last few windows, so that
 * a stall does not pass for slowness). Where the kernel does not tell, and with workers
 * (`queueIsAllWork`), a backlog full for `backlogMs` is enough. Why: a proxy that reads full
 * batches for 500 ms is not always behind. Starting cold (V8 still compiling) at 2000 calls/s, or
 * slowed for a moment by other processes, it read 32 datagrams a turn for 600-1200 ms with a queue
 * of 1-28% of its buffer, 40-250 ms of messages, and refused 57-2854 calls of those seconds that
 * it could have served; cutting on while the queue drained took the fraction far below capacity.
 *
 * It also measures event-loop lag (how late a `tickMs` timer fires) and utilization, for /metrics.
 */
import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';

/** Per window with a full backlog, the admitted fraction is multiplied by this, down to MIN_ADMITTED. */
const DECREASE = 0.85;
const MIN_ADMITTED = 0.1;
/** A refused request is remembered for one to two of these (ms): two generations, swapped. */
const REFUSALS_KEPT_MS = 4000;
/** Refusals one generation keeps at most (about 8 MB of keys): a flood is bounded. */
const MAX_REFUSALS = 100_000;
/**
 * A queue this full (share of the receive buffer, read from the kernel where it tells) is close
 * to overflowing: shedding starts at once instead of after `backlogMs`. On loopback at 6000 calls/s
 * offered, an 8 MB buffer filled in 0.7 s and then dropped ACKs and BYEs of admitted calls for the
 * second it took the 1 s rule to act.
 */
const DEEP_QUEUE = 0.25;
/** The kernel's queue is read only once the socket has not been drained for this long (ms). */
const PROBE_AFTER_MS = 100;
/**
 * What the kernel counts for a datagram in a receive queue beyond its payload (sk_buff and its
 * shared info, the data area rounded up): on Linux 6 over loopback, 1280 bytes in all for a
 * payload of 300-500 bytes, 2304 for 700-1500. Payload + 1 KB is within a quarter of either.
 */
const QUEUED_OVERHEAD = 1024;
/** A queue holding this share of its bytes a window ago, or less, is shrinking. */
const SHRINKING = 0.9;
/** The read rate is the most of this many last windows. */
const RATE_WINDOWS = 4;
/** What begins each of the guard's log lines (shedding started, shedding ended); bench/sipp-bench.ts picks them out by it. */
export const OVERLOAD_LOG_PREFIX = 'overload: ';
/** libuv's most datagrams read from one socket in one loop turn (uv__udp_io). */
export const UDP_READS_PER_TURN = 32;

export interface OverloadOptions {
  /** How long the UDP backlog must stay full before shedding starts (ms); 0 turns shedding off. */
  readonly backlogMs: number;
  readonly windowMs?: number;
  readonly tickMs?: number;
  /**
   * The fullest UDP receive buffer now, where the OS tells (udp-queue.ts); read at most once per
   * window, and only while the socket is not being drained.
   */
  readonly backlog?: () => QueueReading | undefined;
  /** Told when shedding starts and when it ends (a line for the log). */
  readonly log?: (text: string) => void;
  /**
   * With workers: told the admitted fraction at the end of each window in which it is below 1 or
   * has just changed, for the other workers (notePeerAdmitted).
   */
  readonly share?: (admitted: number) => void;
}

/** A receive buffer's queued bytes as the kernel counts them, and their share of its size (0..1). */
export interface QueueReading {
  readonly fullness: number;
  readonly bytes: number;
}

/** How long another worker's admitted fraction holds without being told again (ms). */
const PEER_HOLD_MS = 1000;

export class OverloadGuard {
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private windowStart = 0;
  private elu: EventLoopUtilization | null = null;
  /** When a turn last drained every UDP socket it read (or nothing was read at all). */
  private dryAt = 0;
  private turnReads = 0;
  /** Reads of this turn by socket (its local port): libuv's limit of 32 is per socket. */
  private readonly turnReadsBySocket = new Map<number, number>();
  private turnsSinceTick = 0;
  private credit = 0;
  /** Fraction of new dialogs admitted: 1 when not overloaded. */
  admitted = 1;
  /** Utilization of the last full window (0..1), for /metrics. */
  utilization = 0;
  /** Requests answered 503 by the guard (kemi_overload_rejected_total); retransmissions not counted. */
  rejected = 0;
  /** Keys (Call-ID and CSeq number) of requests refused lately: this generation and the one before. */
  private refusals = new Set<string>();
  private olderRefusals = new Set<string>();
  private refusalsSince = 0;
  /** How late the lag timer fired, in ns (at least 1): read and reset by /metrics. */
  readonly lag: RecordableHistogram = createHistogram();
  readonly backlogMs: number;
  /** The fullest UDP receive buffer at the last read of it (0..1; 0 when not read: drained). */
  queueFullness = 0;
  /** The work that buffer held then, in ms at the recent read rate (0 when not read). */
  queueMs = 0;
  /** Its queued bytes at the window before, while not drained (-1: not read then). */
  private queueBytesBefore = -1;
  /** Datagrams and their bytes read in this window, and the queued bytes per ms read in the last windows. */
  private windowReads = 0;
  private windowBytes = 0;
  private readonly rates: number[] = [];
  /** `rejected` when the current shedding started. */
  private rejectedBefore = 0;
  private readonly windowMs: number;
  private readonly tickMs: number;
  private readonly backlog: (() => QueueReading | undefined) | undefined;
  private readonly share: ((admitted: number) => void) | undefined;
  private readonly log: ((text: string) => void) | undefined;
  /**
   * The socket's queue is all of this process's work (no workers). With workers it is not: the
   * reader hands other workers' calls over to them, and their queues are not read here, so a
   * reader's short or shrinking queue does not tell that the owners keep up. There, the backlog
   * full for `backlogMs` alone sheds, and the cuts go on until it drains (`--workers 2` at 6000
   * calls/s offered, 3 interleaved rounds: 2656-2750 calls/s completed with the rules below, 2746-3417 without).
   */
  private readonly queueIsAllWork: boolean;
  /** The lowest admitted fraction of the other workers, and until when it holds. */
  private peerAdmitted = 1;
  private peerUntil = 0;

  constructor(o: OverloadOptions | number) {
    const opts: OverloadOptions = typeof o === 'number' ? { backlogMs: o } : o;
    this.backlogMs = opts.backlogMs;
    this.windowMs = opts.windowMs ?? 250;
    this.tickMs = opts.tickMs ?? 10;
    this.backlog = opts.backlog;
    this.share = opts.share;
    this.log = opts.log;
    this.queueIsAllWork = !opts.share;
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = this.windowStart = this.dryAt = performance.now();
    this.elu = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Shedding now (some new dialogs are refused): checked before the per-request test. */
  get active(): boolean {
    return this.effective() < 1;
  }

  /**
   * The fraction admitted: this process's, or lower when another worker sheds. With workers, the
   * worker that reads a source's datagrams hands the calls other workers own over to them: when
   * it is the one overloaded (its socket full), only the owners can shed those calls.
   */
  effective(): number {
    if (this.peerUntil === 0) return this.admitted;
    if (performance.now() < this.peerUntil) return Math.min(this.admitted, this.peerAdmitted);
    this.peerUntil = 0;
    return this.admitted;
  }

  /** The lowest admitted fraction of the other workers now (1 when none sheds). */
  notePeerAdmitted(admitted: number, now = performance.now()): void {
    this.peerAdmitted = admitted;
    this.peerUntil = admitted < 1 ? now + PEER_HOLD_MS : 0;
  }

  /**
   * Whether this new dialog is refused: spreads the refusals evenly, (1 - admitted) of them.
   * Call only for dialog-creating requests, while `active`.
   */
  shed(): boolean {
    this.credit += 1 - this.effective();
    if (this.credit < 0.5) return false;
    this.credit -= 1;
    this.rejected++;
    return true;
  }

  /**
   * A UDP datagram of `bytes` was read on the socket of local port `socket`: counts the reads of
   * this loop turn (closed in the check phase) and of this window.
   */
  noteDatagram(socket = 0, bytes = 0): void {
    this.windowReads++;
    this.windowBytes += bytes;
    if (this.turnReads++ === 0) setImmediate(this.endTurn);
    const m = this.turnReadsBySocket;
    m.set(socket, (m.get(socket) ?? 0) + 1);
  }

  /** Some refusals are remembered: requests that are not new dialogs' may be their retransmissions. */
  get remembersRefusals(): boolean {
    return this.refusals.size > 0 || this.olderRefusals.size > 0;
  }

  /** Whether the request of this key (its Call-ID and CSeq number) was refused lately. */
  wasRefused(key: string): boolean {
    return this.refusals.has(key) || this.olderRefusals.has(key);
  }

  /** Remembers a refusal so that the request's retransmissions are refused too. */
  noteRefusal(key: string): void {
    if (this.refusals.size < MAX_REFUSALS) this.refusals.add(key);
  }

  /** Starts a new generation of refusals every REFUSALS_KEPT_MS, dropping the one before the last. */
  forgetRefusals(now: number): void {
    if (now - this.refusalsSince < REFUSALS_KEPT_MS) return;
    this.refusalsSince = now;
    if (!this.remembersRefusals) return;
    this.olderRefusals = this.refusals;
    this.refusals = new Set();
  }

  /** When a turn last found every UDP socket it read drained (performance.now() ms). */
  get drainedAt(): number {
    return this.dryAt;
  }

  private readonly endTurn = (): void => {
    // A socket read fewer than libuv's per-turn limit was emptied; several sockets read 20 each
    // are all drained, though the turn read more than 32.
    let full = false;
    for (const n of this.turnReadsBySocket.values()) if (n >= UDP_READS_PER_TURN) full = true;
    if (!full) this.dryAt = performance.now();
    this.turnReadsBySocket.clear();
    this.turnReads = 0;
    this.turnsSinceTick++;
  };

  private tick(): void {
    const now = performance.now();
    this.lag.record(Math.max(1, Math.round((now - this.lastTick - this.tickMs) * 1e6)));
    this.lastTick = now;
    // No reads since the last tick: the socket was empty.
    if (this.turnsSinceTick === 0 && this.turnReads === 0) this.dryAt = now;
    this.turnsSinceTick = 0;
    this.forgetRefusals(now);
    const dt = now - this.windowStart;
    if (dt < this.windowMs) return;
    this.windowStart = now;
    const elu = performance.eventLoopUtilization();
    this.utilization = performance.eventLoopUtilization(elu, this.elu!).utilization;
    this.elu = elu;
    const rate = this.noteRate(dt);
    if (this.backlogMs <= 0) return;
    const before = this.admitted;
    const fullMs = now - this.dryAt;
    const bytesBefore = this.queueBytesBefore;
    const q = this.readQueue(fullMs, rate);
    // Shrinking by a tenth or more since the window before: what is admitted is already less than the proxy reads.
    const shrinking = q !== undefined && bytesBefore >= 0 && q.bytes <= bytesBefore * SHRINKING;
    const whole = this.queueIsAllWork;
    this.adjust(fullMs, dt, q?.fullness ?? 0, q && whole ? this.queueMs : Infinity, whole && shrinking);
    if (this.share && (this.admitted < 1 || before < 1)) this.share(this.admitted);
    if (this.log && before === 1 && this.admitted < 1) {
      this.rejectedBefore = this.rejected;
      const queue = q ? `, the kernel's queue ${Math.round(q.fullness * 100)}% full (about ${Math.round(this.queueMs)} ms of messages)` : '';
      this.log(`${OVERLOAD_LOG_PREFIX}shedding new dialogs with 503 (admitting ${Math.round(this.admitted * 100)}%): UDP backlog not drained for ${Math.round(fullMs)} ms${queue}`);
    } else if (this.log && before < 1 && this.admitted === 1) {
      this.log(`${OVERLOAD_LOG_PREFIX}shedding ended, ${this.rejected - this.rejectedBefore} new dialogs refused`);
    }
  }

  /** Closes the window's read counts: queued bytes read per ms, the most of the last windows. */
  private noteRate(dt: number): number {
    const r = this.rates;
    r.push((this.windowBytes + QUEUED_OVERHEAD * this.windowReads) / dt);
    if (r.length > RATE_WINDOWS) r.shift();
    this.windowReads = this.windowBytes = 0;
    return Math.max(...r);
  }

  /**
   * The kernel's receive queue, read only when not drained lately (else none), and the ms of
   * messages it holds at `rate` (queued bytes read per ms).
   */
  private readQueue(fullMs: number, rate: number): QueueReading | undefined {
    const q = !this.backlog || fullMs < PROBE_AFTER_MS ? undefined : this.backlog();
    this.queueFullness = q?.fullness ?? 0;
    this.queueMs = !q ? 0 : rate > 0 ? q.bytes / rate : Infinity;
    this.queueBytesBefore = q?.bytes ?? -1;
    return q;
  }

  /**
   * The controller, at the end of a window of `dt` ms, the backlog having been full for `fullMs`,
   * the kernel's queue `fullness` full (0..1; 0 when not read) and holding `queueMs` of messages
   * (Infinity where the kernel does not tell), `shrinking` when it holds a tenth less than a window ago.
   */
  adjust(fullMs: number, dt: number, fullness = 0, queueMs = Infinity, shrinking = false): void {
    const deep = fullness >= DEEP_QUEUE;
    // Full for the threshold and behind by half of it: a backlog that holds less is read in time.
    const behind = fullMs >= this.backlogMs && queueMs >= this.backlogMs / 2;
    if (shrinking && this.admitted < 1) {
      // Already shedding enough: the queue drains at this fraction. Cutting on until it is empty
      // takes the fraction far below capacity (x0.85 or harder each window while the backlog
      // drains), and the calls refused then are calls the proxy could serve. Hold.
    } else if (behind || deep) {
      // A long window (the loop was blocked) counts as the windows it spanned past the threshold.
      const windows = Math.max(1, Math.round(Math.min(dt, fullMs - this.backlogMs + this.windowMs) / this.windowMs));
      // A deep queue cuts in proportion to how full it is (to half at half full): it holds
      // hundreds of ms of work, and x0.85 per window let it overflow for seconds before the
      // fraction came down (--workers 2 at 7000 calls/s offered, 15 s steps: 17000-103000
      // datagrams dropped at the proxy's socket; 30-28000 with this cut).
      const cut = deep ? Math.min(DECREASE ** windows, 1 - fullness) : DECREASE ** windows;
      // The floor: the backlog built up before shedding started keeps the socket full a while
      // after; admitting nobody then would make the proxy's throughput collapse.
      this.admitted = Math.max(MIN_ADMITTED, this.admitted * cut);
    } else if (this.admitted < 1 && fullMs < dt) {
      // The socket ran dry during this window.
      this.admitted = Math.min(1, this.admitted + 0.1);
      if (this.effective() === 1) this.credit = 0;
    }
  }
}
