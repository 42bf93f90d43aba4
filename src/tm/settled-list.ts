/**
 * The settled transactions' records in the order they expire, with one timer for the first of
 * them. Issue 14: a timer entry per record was one object more for each of the 20000 records kept
 * at 2000 calls/s, and their deadlines come almost in the order they are added (now + wait_timer,
 * or timer J/K), so a list kept sorted by insertion from its tail is as good as a heap: adding
 * looks back past the few later deadlines only.
 */
import type { TimerHandle, TimerQueue } from './timer-queue.js';

/** What the list keeps of an item: its deadline (the queue's clock) and its neighbours. */
export interface SettledListItem {
  /** When it expires (ms, the timer queue's clock). */
  readonly at: number;
  prev: SettledListItem | null;
  next: SettledListItem | null;
}

export class SettledList<T extends SettledListItem> {
  private head: T | null = null;
  private tail: T | null = null;
  private timer: TimerHandle | null = null;
  /** When the armed timer fires; Infinity when none is armed. */
  private armedFor = Infinity;
  private count = 0;

  constructor(
    private readonly timers: TimerQueue,
    /** Called for each item whose deadline passed, in deadline order, after it left the list. */
    private readonly expired: (item: T) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    let after = this.tail;
    while (after && after.at > item.at) after = after.prev as T | null;
    item.prev = after;
    item.next = after ? after.next : this.head;
    if (item.next) item.next.prev = item;
    else this.tail = item;
    if (after) after.next = item;
    else this.head = item;
    this.count++;
    if (item.at < this.armedFor) this.arm();
  }

  /** Every item, first to expire first. */
  *values(): IterableIterator<T> {
    for (let i = this.head; i; i = i.next as T | null) yield i;
  }

  /** Drops every item without calling `expired` (the layer is closing). */
  clear(): void {
    this.timers.cancel(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    for (let i = this.head; i; ) {
      const n = i.next as T | null;
      i.prev = i.next = null;
      i = n;
    }
    this.head = this.tail = null;
    this.count = 0;
  }

  private arm(): void {
    this.timers.cancel(this.timer);
    const h = this.head;
    if (!h) {
      this.timer = null;
      this.armedFor = Infinity;
      return;
    }
    this.armedFor = h.at;
    this.timer = this.timers.scheduleCall(this.timers.msUntil(h.at), this, this.fire);
  }

  private fire(): void {
    // The queue fires a timer up to a millisecond early (TimerQueue.fire), so the deadline it fired
    // for counts as due even if the clock has not reached it: re-arming for it instead would be
    // fired again at once, in a loop that lasts until the clock moves (a manual clock never does).
    const due = this.armedFor;
    this.timer = null;
    this.armedFor = Infinity;
    for (let h = this.head; h && (h.at <= due || this.timers.msUntil(h.at) === 0); h = this.head) {
      this.head = h.next as T | null;
      if (this.head) this.head.prev = null;
      else this.tail = null;
      h.next = null;
      this.count--;
      this.expired(h);
    }
    if (this.head && !this.timer) this.arm();
  }
}
