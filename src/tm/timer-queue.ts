/**
 * One timer structure for every transaction timer: a binary min-heap of deadlines served by a single
 * Node timer armed for the earliest one. Each entry knows its place in the heap, so cancelling
 * takes it out at once (O(log n)) and lets go of its callback: retransmission and final-response
 * timers stopped by a reply, and lifetime timers of finished transactions, neither pile up in the
 * heap nor keep their transactions alive until their deadline.
 */

export interface TimerHandle {
  /** Absolute time (ms, performance clock) when it fires. */
  readonly at: number;
  /** True once it fired or was cancelled. */
  readonly cancelled: boolean;
}

/** A heap entry: equal deadlines fire in the order they were scheduled. */
class Entry implements TimerHandle {
  /** Position in the heap; -1 once out of it (fired or cancelled). */
  pos = -1;
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

export class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private timer: unknown = null;
  private armedAt = Infinity;
  /** Timers waiting to fire. */
  get size(): number {
    return this.heap.length;
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

  /** Runs `fn` after `ms` milliseconds unless cancelled first. */
  schedule(ms: number, fn: () => void): TimerHandle {
    return this.add(new Entry(this.now() + ms, this.seq++, fn, null));
  }

  /**
   * Calls `target.method()` after `ms` milliseconds unless cancelled first: for the timers every
   * transaction keeps for seconds (wait, J, K), no closure and captured scope per timer for the
   * old-generation GC to keep and mark.
   */
  scheduleCall<T extends object>(ms: number, target: T, method: (this: T) => void): TimerHandle {
    return this.add(new Entry(this.now() + ms, this.seq++, method as (this: object | null) => void, target));
  }

  private add(h: Entry): TimerHandle {
    this.insert(h);
    if (h.at < this.armedAt) this.arm(h.at);
    return h;
  }

  cancel(h: TimerHandle | null | undefined): void {
    if (!h) return;
    const e = h as Entry;
    e.fn = null;
    e.target = null;
    if (e.pos >= 0) this.removeAt(e.pos);
    // The Node timer may stay armed for a deadline that is gone: it then finds nothing due and
    // re-arms for the earliest remaining one (cheaper than re-arming on every cancel).
  }

  /** Stops the Node timer; pending entries are dropped. */
  close(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    for (const e of this.heap) {
      e.pos = -1;
      e.fn = null;
      e.target = null;
    }
    this.heap = [];
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
    while (a.length > 0 && a[0]!.at <= now && guard++ < 100_000) {
      const h = a[0]!;
      this.removeAt(0);
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
    if (a.length > 0 && a[0]!.at < this.armedAt) this.arm(a[0]!.at);
  }

  private insert(h: Entry): void {
    const a = this.heap;
    a.push(h);
    this.siftUp(h, a.length - 1);
  }

  /** Takes the entry at `i` out of the heap. */
  private removeAt(i: number): void {
    const a = this.heap;
    const gone = a[i]!;
    gone.pos = -1;
    const last = a.pop()!;
    if (last === gone) return;
    // The last entry fills the hole, then moves up or down to its place.
    if (i > 0 && before(last, a[(i - 1) >> 1]!)) this.siftUp(last, i);
    else this.siftDown(last, i);
  }

  private siftUp(h: Entry, i: number): void {
    const a = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = a[p]!;
      if (!before(h, pe)) break;
      a[i] = pe;
      pe.pos = i;
      i = p;
    }
    a[i] = h;
    h.pos = i;
  }

  private siftDown(h: Entry, i: number): void {
    const a = this.heap;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(a[r]!, a[l]!) ? r : l;
      const ce = a[c]!;
      if (!before(ce, h)) break;
      a[i] = ce;
      ce.pos = i;
      i = c;
    }
    a[i] = h;
    h.pos = i;
  }
}
