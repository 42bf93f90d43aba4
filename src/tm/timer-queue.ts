/**
 * One timer structure for every transaction timer, served by a single Node timer armed for the
 * earliest deadline. Timers are kept in lanes, one per duration: tm schedules a handful of
 * durations (T1 doublings, fr_timer, fr_inv_timer, wait_timer, timer H, lifetimes), and within a
 * lane deadlines come in the order they were scheduled (now + the same duration), so a lane is a
 * FIFO list: adding is an append, cancelling an unlink, firing takes the head. Only the lanes sit
 * in a binary min-heap, by their heads' deadlines. A heap of every timer (tens of thousands at
 * 2000 calls/s, most waiting out wait_timer) took about 1.9% of a process's CPU (perf), most of
 * it sifting each fired timer's replacement down the heap; the lanes take about 0.5%.
 * Cancelling lets go of the callback at once: retransmission and final-response timers stopped
 * by a reply, and lifetime timers of finished transactions, neither pile up nor keep their
 * transactions alive until their deadline.
 */

export interface TimerHandle {
  /** Absolute time (ms, performance clock) when it fires. */
  readonly at: number;
  /** True once it fired or was cancelled. */
  readonly cancelled: boolean;
}

/** A timer: equal deadlines fire in the order they were scheduled. */
class Entry implements TimerHandle {
  /** Its lane while pending; null once fired or cancelled. */
  lane: Lane | null = null;
  prev: Entry | null = null;
  next: Entry | null = null;
  constructor(
    readonly at: number,
    readonly seq: number,
    public fn: ((this: object | null) => void) | null,
    /** What `fn` is called on (scheduleCall), or null. */
    public target: object | null,
  ) {}
  get cancelled(): boolean {
    return this.fn === null;
  }
}

/** The pending timers of one duration, earliest first. */
class Lane {
  head: Entry | null = null;
  tail: Entry | null = null;
  /** Position in the lane heap; -1 while empty (out of it). */
  pos = -1;
  constructor(readonly ms: number) {}
}

/**
 * Time and the one wake-up the queue arms: the system's by default; the offline test harness
 * passes a manual clock whose time moves only when the test advances it.
 */
export interface TimerClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned handle goes to clearTimer. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const SYSTEM_CLOCK: TimerClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers alone must not keep a stopping process alive.
    t.unref();
    return t;
  },
  clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** a fires before b. */
function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lanes kept while empty, for reuse; past this many, an emptied lane is dropped. */
const LANES_KEPT = 64;

export class TimerQueue {
  /** The non-empty lanes, a min-heap by their heads. */
  private readonly heap: Lane[] = [];
  private readonly lanes = new Map<number, Lane>();
  private count = 0;
  private seq = 0;
  private timer: unknown = null;
  private armedAt = Infinity;
  /** Timers waiting to fire. */
  get size(): number {
    return this.count;
  }

  private readonly clock: TimerClock;
  private readonly now: () => number;
  private readonly onWake = (): void => this.fire();

  /** A clock, or only a time source (then the system's timers wake the queue). */
  constructor(clock: TimerClock | (() => number) = SYSTEM_CLOCK) {
    this.clock = typeof clock === 'function' ? { ...SYSTEM_CLOCK, now: clock } : clock;
    const c = this.clock;
    this.now = () => c.now();
  }

  /**
   * The deadline of a timer scheduled now: whole milliseconds, rounded up. An integer stays a small
   * integer in the entry (a fraction is a heap number of its own), one object fewer per timer for
   * the GC to mark; tens of thousands of them wait out wait_timer at 2000 calls/s.
   */
  private deadline(ms: number): number {
    return Math.ceil(this.now() + ms);
  }

  /** Whole milliseconds from now until `at` (a deadline of this queue's clock), 0 once past. */
  msUntil(at: number): number {
    return Math.max(0, Math.ceil(at - this.now()));
  }

  /** Runs `fn` after `ms` milliseconds unless cancelled first. */
  schedule(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, new Entry(this.deadline(ms), this.seq++, fn, null));
  }

  /**
   * Calls `target.method()` after `ms` milliseconds unless cancelled first: for the timers every
   * transaction keeps for seconds (wait, J, K), no closure and captured scope per timer for the
   * old-generation GC to keep and mark.
   */
  scheduleCall<T extends object>(ms: number, target: T, method: (this: T) => void): TimerHandle {
    return this.add(ms, new Entry(this.deadline(ms), this.seq++, method as (this: object | null) => void, target));
  }

  private add(ms: number, e: Entry): TimerHandle {
    let lane = this.lanes.get(ms);
    if (!lane) {
      lane = new Lane(ms);
      this.lanes.set(ms, lane);
    }
    this.append(lane, e);
    this.count++;
    if (e.at < this.armedAt) this.arm(e.at);
    return e;
  }

  cancel(h: TimerHandle | null | undefined): void {
    if (!h) return;
    const e = h as Entry;
    e.fn = null;
    e.target = null;
    if (e.lane) this.unlink(e);
    // The Node timer may stay armed for a deadline that is gone: it then finds nothing due and
    // re-arms for the earliest remaining one (cheaper than re-arming on every cancel).
  }

  /** Stops the Node timer; pending entries are dropped. */
  close(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    for (const lane of this.lanes.values()) {
      for (let e = lane.head; e; ) {
        const next = e.next;
        e.lane = e.prev = e.next = null;
        e.fn = null;
        e.target = null;
        e = next;
      }
      lane.head = lane.tail = null;
      lane.pos = -1;
    }
    this.lanes.clear();
    // Emptied in place: a callback that closes the queue ends the loop of the fire() running it.
    this.heap.length = 0;
    this.count = 0;
  }

  private arm(at: number): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.armedAt = at;
    this.timer = this.clock.setTimer(this.onWake, Math.max(0, at - this.now()));
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    const now = this.now() + 1; // fire what is due within the next millisecond too
    let guard = 0;
    const a = this.heap;
    while (a.length > 0 && a[0]!.head!.at <= now && guard++ < 100_000) {
      const h = a[0]!.head!;
      this.unlink(h);
      const fn = h.fn!;
      const target = h.target;
      h.fn = null;
      h.target = null;
      try {
        fn.call(target);
      } catch (e) {
        // A failing timer callback must not stop the others.
        process.emitWarning(`timer callback failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
    // A callback may have armed the Node timer for a deadline later than what is left here.
    if (a.length > 0 && a[0]!.head!.at < this.armedAt) this.arm(a[0]!.head!.at);
  }

  /** Adds `e` to its lane: at the tail, unless a clock that went back put it earlier. */
  private append(lane: Lane, e: Entry): void {
    e.lane = lane;
    let p = lane.tail;
    while (p && before(e, p)) p = p.prev;
    e.prev = p;
    e.next = p ? p.next : lane.head;
    if (e.next) e.next.prev = e;
    else lane.tail = e;
    if (p) p.next = e;
    else {
      lane.head = e;
      // A new head: the lane's place in the heap moves up (or it enters the heap).
      if (lane.pos < 0) {
        lane.pos = this.heap.length;
        this.heap.push(lane);
      }
      this.siftUp(lane, lane.pos);
    }
  }

  /** Takes a pending entry out of its lane, and the lane out of the heap once empty. */
  private unlink(e: Entry): void {
    const lane = e.lane!;
    const wasHead = lane.head === e;
    if (e.prev) e.prev.next = e.next;
    else lane.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else lane.tail = e.prev;
    e.lane = e.prev = e.next = null;
    this.count--;
    if (!wasHead) return;
    if (lane.head) this.siftDown(lane, lane.pos);
    else this.removeLane(lane);
  }

  private removeLane(lane: Lane): void {
    const a = this.heap;
    const i = lane.pos;
    lane.pos = -1;
    const last = a.pop()!;
    if (last !== lane) {
      // The last lane fills the hole, then moves up or down to its place.
      if (i > 0 && before(last.head!, a[(i - 1) >> 1]!.head!)) this.siftUp(last, i);
      else this.siftDown(last, i);
    }
    if (this.lanes.size > LANES_KEPT) this.lanes.delete(lane.ms);
  }

  private siftUp(l: Lane, i: number): void {
    const a = this.heap;
    const h = l.head!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pl = a[p]!;
      if (!before(h, pl.head!)) break;
      a[i] = pl;
      pl.pos = i;
      i = p;
    }
    a[i] = l;
    l.pos = i;
  }

  private siftDown(l: Lane, i: number): void {
    const a = this.heap;
    const n = a.length;
    const h = l.head!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const c = right < n && before(a[right]!.head!, a[left]!.head!) ? right : left;
      const cl = a[c]!;
      if (!before(cl.head!, h)) break;
      a[i] = cl;
      cl.pos = i;
      i = c;
    }
    a[i] = l;
    l.pos = i;
  }
}
