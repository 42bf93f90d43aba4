import { describe, expect, it, vi } from 'vitest';
import { SettledList, type SettledListItem } from '../../src/tm/settled-list.js';
import { TimerQueue } from '../../src/tm/timer-queue.js';
import { ManualClock } from '../../src/testing/clock.js';

class Item implements SettledListItem {
  prev: SettledListItem | null = null;
  next: SettledListItem | null = null;
  constructor(readonly name: string, readonly at: number) {}
}

describe('SettledList', () => {
  it('expires items in deadline order, equal deadlines in the order added, each once it is due', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: string[] = [];
    const list = new SettledList<Item>(q, (i) => out.push(`${i.name}@${clock.now()}`));
    const at = (ms: number): number => clock.now() + ms;
    // Mostly in order, with some added out of order (a later deadline first, an earlier after).
    list.add(new Item('b', at(20)));
    list.add(new Item('c1', at(30)));
    list.add(new Item('a', at(10)));
    list.add(new Item('c2', at(30)));
    list.add(new Item('b2', at(20)));
    expect([...list.values()].map((i) => i.name)).toEqual(['a', 'b', 'b2', 'c1', 'c2']);
    expect(list.size).toBe(5);
    await clock.advance(15);
    expect(out).toEqual(['a@10']);
    await clock.advance(5);
    expect(out).toEqual(['a@10', 'b@20', 'b2@20']);
    // An item added now with an earlier deadline than the head re-arms the timer for it.
    list.add(new Item('d', at(2)));
    await clock.advance(2);
    expect(out.at(-1)).toBe('d@22');
    await clock.advance(100);
    expect(out).toEqual(['a@10', 'b@20', 'b2@20', 'd@22', 'c1@30', 'c2@30']);
    expect(list.size).toBe(0);
    expect(q.size).toBe(0);
  });

  it('clear drops every item and its timer without expiring them', async () => {
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const out: string[] = [];
    const list = new SettledList<Item>(q, (i) => out.push(i.name));
    const items = [new Item('x', 10), new Item('y', 20)];
    for (const i of items) list.add(i);
    list.clear();
    expect(list.size).toBe(0);
    expect(q.size).toBe(0);
    expect(items.every((i) => i.prev === null && i.next === null)).toBe(true);
    await clock.advance(100);
    expect(out).toEqual([]);
    // Usable again afterwards.
    list.add(new Item('z', clock.now() + 5));
    await clock.advance(5);
    expect(out).toEqual(['z']);
  });
  it('deadlines a millisecond apart expire in order without re-arming in a loop', async () => {
    // At 2000 calls/s records expire every millisecond. The queue fires a timer up to 1 ms early;
    // the list once re-armed for a head the clock had not reached, which the queue fired again at
    // once, 100000 times (its guard) per wake-up on a clock that stands still while timers run.
    const clock = new ManualClock();
    const q = new TimerQueue(clock);
    const schedule = vi.spyOn(q, 'scheduleCall');
    const out: { name: string; at: number; firedAt: number }[] = [];
    const list = new SettledList<Item>(q, (i) => out.push({ name: i.name, at: i.at, firedAt: clock.now() }));
    for (let n = 1; n <= 20; n++) list.add(new Item(`r${n}`, clock.now() + n));
    for (let n = 0; n < 25; n++) await clock.advance(1);
    expect(out.map((o) => o.name)).toEqual(Array.from({ length: 20 }, (_, n) => `r${n + 1}`));
    // None before the queue's own tolerance (1 ms), none late.
    expect(out.every((o) => o.firedAt >= o.at - 1 && o.firedAt <= o.at)).toBe(true);
    expect(schedule.mock.calls.length).toBeLessThanOrEqual(21);
    expect(list.size).toBe(0);
    expect(q.size).toBe(0);
  });
});
