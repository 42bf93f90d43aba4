/**
 * The overload guard's controller, driven window by window (no timers): it sheds only once the
 * UDP backlog has stayed full for the threshold, spreads its refusals evenly, sheds more while the
 * backlog stays full (down to a floor) and admits everyone again once reads find the socket empty.
 */
import { describe, expect, it } from 'vitest';
import { OverloadGuard } from '../../src/core/overload.js';

const sheds = (g: OverloadGuard, n: number): number => {
  let k = 0;
  for (let i = 0; i < n; i++) if (g.active && g.shed()) k++;
  return k;
};

describe('OverloadGuard controller', () => {
  it('does not shed while the backlog drains within the threshold', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    g.adjust(250, 250);
    g.adjust(500, 250);
    g.adjust(750, 250);
    g.adjust(100, 250); // drained in this window
    g.adjust(999, 2000);
    expect(g.active).toBe(false);
    expect(sheds(g, 100)).toBe(0);
  });

  it('sheds once the backlog stayed full for the threshold, more while it lasts, evenly spread, to a floor', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    for (let full = 250; full <= 1000; full += 250) g.adjust(full, 250);
    expect(g.admitted).toBeCloseTo(0.85);
    expect(sheds(g, 100)).toBe(15);
    for (let full = 1250; full <= 2000; full += 250) g.adjust(full, 250);
    expect(g.admitted).toBeCloseTo(0.85 ** 5);
    expect(sheds(g, 1000)).toBe(556);
    expect(g.rejected).toBe(571);
    for (let full = 2250; full <= 12000; full += 250) g.adjust(full, 250);
    expect(g.admitted).toBe(0.1);
  });

  it('counts one long blocked window as the windows it spanned past the threshold', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    g.adjust(2000, 2000);
    expect(g.admitted).toBeCloseTo(0.85 ** 5);
  });

  it('admits more for each window in which the socket ran dry, everyone in the end', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    g.adjust(3000, 3000);
    const low = g.admitted;
    g.adjust(100, 250);
    expect(g.admitted).toBeCloseTo(low + 0.1);
    for (let i = 0; i < 10; i++) g.adjust(0, 250);
    expect(g.active).toBe(false);
    expect(sheds(g, 100)).toBe(0);
  });

  it('remembers a refusal for one to two generations of 4 s, so retransmissions get the same answer', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    g.forgetRefusals(0);
    expect(g.remembersRefusals).toBe(false);
    g.noteRefusal('c1 1');
    expect(g.remembersRefusals).toBe(true);
    expect(g.wasRefused('c1 1')).toBe(true);
    expect(g.wasRefused('c1 2')).toBe(false);
    g.forgetRefusals(3999);
    expect(g.wasRefused('c1 1')).toBe(true);
    g.forgetRefusals(4000); // a new generation: the last one is still asked
    expect(g.wasRefused('c1 1')).toBe(true);
    g.noteRefusal('c2 1');
    g.forgetRefusals(8000);
    expect(g.wasRefused('c1 1')).toBe(false);
    expect(g.wasRefused('c2 1')).toBe(true);
    g.forgetRefusals(12000);
    expect(g.remembersRefusals).toBe(false);
  });

  it('sheds at once, before the threshold, when the kernel says the receive queue is near overflowing', () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    g.adjust(300, 250, 0.2); // under a quarter full, under the threshold: nothing yet
    expect(g.active).toBe(false);
    g.adjust(300, 250, 0.25); // a quarter full: x0.75, harder than the x0.85 of a full backlog
    expect(g.admitted).toBeCloseTo(0.75);
    g.adjust(550, 250, 0.1); // quarter-full no more, under the threshold, not drained: holds
    expect(g.admitted).toBeCloseTo(0.75);
    g.adjust(800, 250, 0.6); // in proportion to the fullness
    expect(g.admitted).toBeCloseTo(0.75 * 0.4);
    g.adjust(1050, 250, 0.3); // past the threshold too: the harder cut of the two
    expect(g.admitted).toBeCloseTo(0.75 * 0.4 * 0.7);
    g.adjust(1300, 250, 0.95); // never under the floor
    expect(g.admitted).toBeCloseTo(0.1);
    g.adjust(100, 250, 0); // drained in this window: grows back
    expect(g.admitted).toBeCloseTo(0.2);
  });

  it('reads the kernel queue only while the socket is not being drained, and sheds on a deep one', async () => {
    let reads = 0;
    // A threshold no loop here reaches: only the kernel queue can start the shedding.
    const g = new OverloadGuard({ backlogMs: 600_000, windowMs: 20, tickMs: 5, backlog: () => (reads++, 0.9) });
    g.start();
    try {
      await new Promise((r) => setTimeout(r, 150)); // idle: every tick finds the socket empty
      expect(reads).toBe(0);
      expect(g.active).toBe(false);
      // Every loop turn reads libuv's 32 from one socket: never drained.
      const until = performance.now() + 5000;
      while (!g.active && performance.now() < until) {
        for (let i = 0; i < 32; i++) g.noteDatagram(5060);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(reads).toBeGreaterThan(0);
      expect(g.active).toBe(true);
      expect(g.queueFullness).toBe(0.9);
    } finally {
      g.stop();
    }
  });

  it("sheds at another worker's fraction while it is told, and stops when told 1 or no longer told", () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    expect(g.active).toBe(false);
    g.notePeerAdmitted(0.5);
    expect(g.active).toBe(true);
    expect(g.effective()).toBe(0.5);
    expect(sheds(g, 100)).toBe(50);
    g.notePeerAdmitted(1);
    expect(g.active).toBe(false);
    g.notePeerAdmitted(0.2, performance.now() - 1500); // told more than the hold (1 s) ago
    expect(g.active).toBe(false);
    // Its own fraction, when lower, wins.
    g.adjust(3000, 3000);
    g.notePeerAdmitted(0.9);
    expect(g.effective()).toBeCloseTo(g.admitted);
    expect(g.effective()).toBeLessThan(0.9);
  });

  it('tells the other workers its fraction each window it sheds, and once more when it stops', async () => {
    const told: number[] = [];
    const g = new OverloadGuard({ backlogMs: 600_000, windowMs: 20, tickMs: 5, backlog: () => 0.9, share: (a) => told.push(a) });
    g.start();
    try {
      const until = performance.now() + 5000;
      while (told.length < 3 && performance.now() < until) {
        for (let i = 0; i < 32; i++) g.noteDatagram(5060);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(told.length).toBeGreaterThanOrEqual(3);
      expect(told.every((a) => a < 1)).toBe(true);
      // Idle now: every tick finds the socket empty, the fraction climbs back to 1 and is told.
      while (told.at(-1) !== 1 && performance.now() < until + 5000) await new Promise((r) => setTimeout(r, 10));
      expect(told.at(-1)).toBe(1);
      const n = told.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(told.length).toBe(n);
    } finally {
      g.stop();
    }
  });

  it('never sheds when off (0)', () => {
    const g = new OverloadGuard(0);
    g.start();
    for (let i = 0; i < 100; i++) g.noteDatagram();
    g.stop();
    expect(g.active).toBe(false);
  });

  it("takes libuv's 32 reads per turn per socket: 20 reads on each of two sockets drained both, 32 on one did not", async () => {
    const g = new OverloadGuard({ backlogMs: 1000 });
    const turn = async (reads: [number, number][]): Promise<number> => {
      const before = performance.now();
      for (const [port, n] of reads) for (let i = 0; i < n; i++) g.noteDatagram(port);
      await new Promise((r) => setImmediate(r));
      return g.drainedAt >= before ? 1 : 0;
    };
    expect(await turn([[5060, 20], [5080, 20]])).toBe(1);
    expect(await turn([[5060, 32], [5080, 3]])).toBe(0);
    expect(await turn([[5060, 5]])).toBe(1);
  });
});
