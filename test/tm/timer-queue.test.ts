import { describe, expect, it } from 'vitest';
import { TimerQueue } from '../../src/tm/timer-queue.js';
import { ManualClock } from '../../src/testing/clock.js';

describe('TimerQueue', () => {
  it('fires in deadline order, equal deadlines in the order they were scheduled', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: string[] = [];
    q.schedule(30, () => out.push('c'));
    q.schedule(10, () => out.push('a1'));
    q.schedule(20, () => out.push('b'));
    q.schedule(10, () => out.push('a2'));
    q.schedule(10, () => out.push('a3'));
    await clock.advance(100);
    expect(out).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('keeps deadlines in whole milliseconds, rounded up (a small integer, not a heap number per timer)', () => {
    const q = new TimerQueue(() => 100.25);
    expect(q.schedule(10, () => undefined).at).toBe(111);
    expect(q.scheduleCall(7.5, {}, () => undefined).at).toBe(108);
    q.close();
  });

  it('takes a cancelled timer out at once and lets go of its callback', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: number[] = [];
    const hs = Array.from({ length: 200 }, (_, i) => q.schedule(1000 + ((i * 37) % 200), () => out.push(i)));
    for (let i = 0; i < 200; i += 2) q.cancel(hs[i]);
    expect(q.size).toBe(100);
    expect(hs[0]!.cancelled).toBe(true);
    q.cancel(hs[0]); // twice is harmless
    expect(q.size).toBe(100);
    await clock.advance(2000);
    const expected = Array.from({ length: 100 }, (_, k) => 2 * k + 1).sort((x, y) => ((x * 37) % 200) - ((y * 37) % 200) || x - y);
    expect(out).toEqual(expected);
    expect(q.size).toBe(0);
    expect(hs.every((h) => h.cancelled)).toBe(true);
  });

  it('scheduleCall calls the method on its target, in deadline order with plain timers, and forgets the target once done', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: string[] = [];
    class Txn {
      constructor(readonly name: string) {}
      end(): void {
        out.push(this.name);
      }
    }
    const a = new Txn('a');
    const b = new Txn('b');
    const ha = q.scheduleCall(20, a, a.end);
    q.schedule(10, () => out.push('plain'));
    const hb = q.scheduleCall(30, b, b.end);
    const hc = q.scheduleCall(15, new Txn('cancelled'), Txn.prototype.end);
    q.cancel(hc);
    expect((hc as unknown as { target: unknown }).target).toBeNull();
    await clock.advance(100);
    expect(out).toEqual(['plain', 'a', 'b']);
    expect([ha, hb].map((h) => (h as unknown as { target: unknown }).target)).toEqual([null, null]);
  });

  it('a fired timer counts as cancelled, and cancelling it does nothing', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    let n = 0;
    const h = q.schedule(5, () => n++);
    const other = q.schedule(50, () => n++);
    await clock.advance(10);
    expect(h.cancelled).toBe(true);
    q.cancel(h);
    expect(q.size).toBe(1);
    expect(other.cancelled).toBe(false);
    await clock.advance(100);
    expect(n).toBe(2);
  });

  it('a timer scheduled by a callback for a later time does not delay earlier ones', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: number[] = [];
    q.schedule(10, () => {
      out.push(10);
      q.schedule(5000, () => out.push(5010));
    });
    q.schedule(500, () => out.push(500));
    await clock.advance(400);
    expect(out).toEqual([10]);
    await clock.advance(200);
    expect(out).toEqual([10, 500]);
    await clock.advance(5000);
    expect(out).toEqual([10, 500, 5010]);
  });

  it('cancelling the earliest timer leaves the next one to fire at its own time', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: number[] = [];
    const first = q.schedule(10, () => out.push(10));
    q.schedule(20, () => out.push(20));
    q.cancel(first);
    await clock.advance(15);
    expect(out).toEqual([]);
    await clock.advance(10);
    expect(out).toEqual([20]);
    expect(clock.armed).toBe(0);
  });

  it('a failing callback does not stop the others', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const warnings: string[] = [];
    const onWarn = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarn);
    let ran = false;
    q.schedule(1, () => {
      throw new Error('boom');
    });
    q.schedule(1, () => {
      ran = true;
    });
    await clock.advance(5);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarn);
    expect(ran).toBe(true);
    expect(warnings.some((w) => w.includes('boom'))).toBe(true);
  });

  it('many durations, cancels and clock steps, checked against the order a sorted list gives', async () => {
    // A seeded run of schedule/cancel/advance: every advance fires exactly the pending timers due
    // by its end (within the queue's 1 ms), in (deadline, scheduling order); nothing cancelled fires.
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const durations = [500, 1000, 2000, 4000, 5000, 32000, 120000];
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    interface T { id: number; at: number; h: ReturnType<TimerQueue['schedule']>; cancelled: boolean; fired: boolean }
    const all: T[] = [];
    let fired: number[] = [];
    for (let step = 0; step < 300; step++) {
      for (let k = rnd(20); k > 0; k--) {
        const ms = rnd(4) === 0 ? 1 + rnd(3000) : durations[rnd(durations.length)]!;
        const id = all.length;
        const h = q.schedule(ms, () => fired.push(id));
        all.push({ id, at: h.at, h, cancelled: false, fired: false });
      }
      const pending = all.filter((t) => !t.cancelled && !t.fired);
      for (let k = rnd(6); k > 0 && pending.length > 0; k--) {
        const t = pending.splice(rnd(pending.length), 1)[0]!;
        q.cancel(t.h);
        t.cancelled = true;
      }
      const end = clock.now() + rnd(1500);
      const due = all.filter((t) => !t.cancelled && !t.fired && t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id).map((t) => t.id);
      fired = [];
      await clock.advance(end - clock.now());
      // Everything due fired in order; at most timers due within the next ms fired early.
      expect(fired.slice(0, due.length)).toEqual(due);
      for (const id of fired.slice(due.length)) expect(all[id]!.at).toBeLessThanOrEqual(end + 1);
      for (const id of fired) all[id]!.fired = true;
      expect(q.size).toBe(all.filter((t) => !t.cancelled && !t.fired).length);
    }
    fired = [];
    await clock.advance(200000);
    expect(all.filter((t) => t.cancelled && t.fired)).toEqual([]);
    expect(all.every((t) => t.cancelled || t.fired || fired.includes(t.id))).toBe(true);
    expect(q.size).toBe(0);
    expect(clock.armed).toBe(0);
  });

  it('a callback that closes the queue stops the timers due after it', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: string[] = [];
    q.schedule(5, () => {
      out.push('closer');
      q.close();
    });
    q.schedule(5, () => out.push('after'));
    q.schedule(500, () => out.push('later'));
    await clock.advance(1000);
    expect(out).toEqual(['closer']);
    expect(q.size).toBe(0);
  });

  it('close drops every pending timer', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    let n = 0;
    const h = q.schedule(5, () => n++);
    q.close();
    expect(q.size).toBe(0);
    expect(h.cancelled).toBe(true);
    await clock.advance(10);
    expect(n).toBe(0);
  });
});
