/**
 * One timer structure for every transaction timer: a binary min-heap of deadlines served by a single
 * Node timer armed for the earliest one. Cancelling is O(1) (the entry is marked and skipped when it
 * surfaces), so retransmission timers that are stopped by a reply cost no heap work.
 */

export interface TimerHandle {
  /** Absolute time (ms, performance clock) when it fires. */
  at: number;
  fn: () => void;
  cancelled: boolean;
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

export class TimerQueue {
  private heap: TimerHandle[] = [];
  private timer: unknown = null;
  private armedAt = Infinity;
  /** Entries still in the heap, cancelled ones included. */
  get size(): number {
    return this.heap.length;
  }

  private readonly clock: TimerClock;
  private readonly now: () => number;

  /** A clock, or only a time source (then the system's timers wake the queue). */
  constructor(clock: TimerClock | (() => number) = SYSTEM_CLOCK) {
    this.clock = typeof clock === 'function' ? { ...SYSTEM_CLOCK, now: clock } : clock;
    const c = this.clock;
    this.now = () => c.now();
  }

  /** Runs `fn` after `ms` milliseconds unless cancelled first. */
  schedule(ms: number, fn: () => void): TimerHandle {
    const h: TimerHandle = { at: this.now() + ms, fn, cancelled: false };
    this.push(h);
    if (h.at < this.armedAt) this.arm(h.at);
    return h;
  }

  cancel(h: TimerHandle | null | undefined): void {
    if (!h || h.cancelled) return;
    h.cancelled = true;
    // Long FR timers cancelled early would otherwise sit in the heap until their deadline.
    if (++this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.length) this.compact();
  }

  private cancelledCount = 0;

  private compact(): void {
    const live = this.heap.filter((h) => !h.cancelled);
    this.heap = [];
    for (const h of live) this.push(h);
    this.cancelledCount = 0;
  }

  /** Stops the Node timer; pending entries are dropped. */
  close(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    this.heap = [];
    this.cancelledCount = 0;
  }

  private arm(at: number): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.armedAt = at;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, at - this.now()));
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    const now = this.now() + 1; // fire what is due within the next millisecond too
    let guard = 0;
    while (this.heap.length > 0 && this.heap[0]!.at <= now && guard++ < 100_000) {
      const h = this.pop()!;
      if (h.cancelled) {
        if (this.cancelledCount > 0) this.cancelledCount--;
        continue;
      }
      h.cancelled = true;
      try {
        h.fn();
      } catch (e) {
        // A failing timer callback must not stop the others.
        process.emitWarning(`timer callback failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
    // Drop cancelled entries at the top so they do not arm a useless wake-up.
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.pop();
      if (this.cancelledCount > 0) this.cancelledCount--;
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.at);
  }

  private push(h: TimerHandle): void {
    const a = this.heap;
    a.push(h);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= h.at) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = h;
  }

  private pop(): TimerHandle | undefined {
    const a = this.heap;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && a[r]!.at < a[l]!.at ? r : l;
      if (a[c]!.at >= last.at) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}
