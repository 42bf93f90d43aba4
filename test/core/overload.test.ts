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

/**
 * Loop turns that each read libuv's 32 datagrams of `bytes` from one socket (never drained), one
 * per ms, while `go()` holds, for at most `ms`.
 */
async function fullTurns(g: OverloadGuard, go: () => boolean, ms: number, bytes = 0): Promise<void> {
  const until = performance.now() + ms;
  while (go() && performance.now() < until) {
    for (let i = 0; i < 32; i++) g.noteDatagram(5060, bytes);
    await new Promise((r) => setTimeout(r, 1));
  }
}

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

  it('does not shed a backlog full past the threshold that holds less than half of it in messages', () => {
    const g = new OverloadGuard({ backlogMs: 500 });
    // Cold or slowed for a moment: full batches for 1.2 s, but 40-90 ms of messages queued.
    for (let full = 250; full <= 1250; full += 250) g.adjust(full, 250, 0.14, 90);
    expect(g.active).toBe(false);
    g.adjust(1500, 250, 0.2, 249);
    expect(g.active).toBe(false);
    // Behind by half the threshold: x0.85 as before.
    g.adjust(1750, 250, 0.2, 250);
    expect(g.admitted).toBeCloseTo(0.85);
    // Where the kernel does not tell (Infinity), the full backlog is enough.
    const h = new OverloadGuard({ backlogMs: 500 });
    h.adjust(500, 250);
    expect(h.admitted).toBeCloseTo(0.85);
  });

  it('holds its fraction while the kernel queue shrinks, once shedding: it sheds enough', () => {
    const g = new OverloadGuard({ backlogMs: 500 });
    // Not shedding yet: a shrinking queue that is behind starts it all the same (a burst).
    g.adjust(600, 250, 0.3, 300, true);
    expect(g.admitted).toBeCloseTo(0.7);
    g.adjust(850, 250, 0.27, 280, true); // a tenth less than a window ago: holds
    expect(g.admitted).toBeCloseTo(0.7);
    g.adjust(1100, 250, 0.27, 280, false); // no longer shrinking: cuts again
    expect(g.admitted).toBeCloseTo(0.7 * 0.73);
    g.adjust(100, 250, 0, 0, false); // drained: grows
    expect(g.admitted).toBeCloseTo(0.7 * 0.73 + 0.1);
  });

  it('measures the queue in ms at the rate it was read lately, and logs when shedding starts and ends', async () => {
    let queued = 20_000;
    const lines: string[] = [];
    const g = new OverloadGuard({ backlogMs: 100, windowMs: 20, tickMs: 5, backlog: () => ({ fullness: 0.2, bytes: queued }), log: (t) => lines.push(t) });
    g.start();
    try {
      // Every loop turn reads libuv's 32 datagrams of 500 bytes: never drained, about 48 KB of the
      // kernel's bytes read per turn, so 20 KB queued is a few ms of messages, however slow the box.
      await fullTurns(g, () => true, 600, 500);
      expect(g.queueMs).toBeGreaterThan(0);
      expect(g.queueMs).toBeLessThan(50);
      expect(g.active).toBe(false);
      expect(lines).toEqual([]);
      // 100 MB queued at the same rate is seconds of messages (the fullness stays under a quarter).
      queued = 100_000_000;
      await fullTurns(g, () => !g.active, 5000, 500);
      expect(g.active).toBe(true);
      expect(g.queueMs).toBeGreaterThan(50);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^overload: shedding new dialogs with 503 \(admitting 85%\): UDP backlog not drained for \d+ ms, the kernel's queue 20% full \(about \d+ ms of messages\)$/);
      const refused = sheds(g, 10);
      expect(refused).toBeGreaterThan(0);
      // Idle: drained every tick, the fraction climbs back to 1.
      const until3 = performance.now() + 5000;
      while (g.active && performance.now() < until3) await new Promise((r) => setTimeout(r, 10));
      expect(g.active).toBe(false);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toBe(`overload: shedding ended, ${refused} new dialogs refused`);
    } finally {
      g.stop();
    }
  });

  it('with workers, sheds on a backlog full past the threshold however short the queue: the owners\' queues are not read', async () => {
    const g = new OverloadGuard({ backlogMs: 100, windowMs: 20, tickMs: 5, backlog: () => ({ fullness: 0.05, bytes: 20_000 }), share: () => {} });
    g.start();
    try {
      await fullTurns(g, () => !g.active, 5000, 500);
      expect(g.active).toBe(true);
      expect(g.queueMs).toBeLessThan(50);
    } finally {
      g.stop();
    }
  });

  it('reads the kernel queue only while the socket is not being drained, and sheds on a deep one', async () => {
    let reads = 0;
    // A threshold no loop here reaches: only the kernel queue can start the shedding.
    const g = new OverloadGuard({ backlogMs: 600_000, windowMs: 20, tickMs: 5, backlog: () => (reads++, { fullness: 0.9, bytes: 7_500_000 }) });
    g.start();
    try {
      await new Promise((r) => setTimeout(r, 150)); // idle: every tick finds the socket empty
      expect(reads).toBe(0);
      expect(g.active).toBe(false);
      // Every loop turn reads libuv's 32 from one socket: never drained.
      await fullTurns(g, () => !g.active, 5000);
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
    const g = new OverloadGuard({ backlogMs: 600_000, windowMs: 20, tickMs: 5, backlog: () => ({ fullness: 0.9, bytes: 7_500_000 }), share: (a) => told.push(a) });
    g.start();
    try {
      await fullTurns(g, () => told.length < 3, 5000);
      expect(told.length).toBeGreaterThanOrEqual(3);
      expect(told.every((a) => a < 1)).toBe(true);
      // Idle now: every tick finds the socket empty, the fraction climbs back to 1 and is told.
      const until = performance.now() + 5000;
      while (told.at(-1) !== 1 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
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
