/**
 * A manual clock for tm's timers: time stands still until the test advances it, and advancing
 * runs every wake-up that falls due on the way, in deadline order, each at its own time.
 */
import type { TimerClock } from '../tm/timer-queue.js';

interface Wakeup {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements TimerClock {
  private t: number;
  private seq = 0;
  private readonly pending = new Set<Wakeup>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const w: Wakeup = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.add(w);
    return w;
  }

  clearTimer(handle: unknown): void {
    this.pending.delete(handle as Wakeup);
  }

  /** Wake-ups still armed. */
  get armed(): number {
    return this.pending.size;
  }

  /** The earliest armed deadline, or null. */
  private next(): Wakeup | null {
    let best: Wakeup | null = null;
    for (const w of this.pending) if (!best || w.at < best.at || (w.at === best.at && w.seq < best.seq)) best = w;
    return best;
  }

  /**
   * Moves time forward by `ms`, running each wake-up that falls due at its own time; `between`
   * runs after each one (the harness lets promises settle there). A wake-up armed while advancing
   * runs too when it falls within the interval.
   */
  async advance(ms: number, between: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const w = this.next();
      if (!w || w.at > end) break;
      this.pending.delete(w);
      this.t = Math.max(this.t, w.at);
      w.fn();
      await between();
    }
    this.t = end;
  }
}
