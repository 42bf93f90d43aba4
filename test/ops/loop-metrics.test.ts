/**
 * Event-loop lag, utilization and GC pauses in /metrics: the lag percentiles come from the overload
 * guard's timer (a blocked loop shows up in them, then the interval starts over), GC pauses from a
 * PerformanceObserver that counts every pause; prom-client's replaced defaults are gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/ops/metrics.js';
import type { ProxySource } from '../../src/ops/sources.js';
import { CoreStats } from '../../src/core/stats.js';
import { OverloadGuard } from '../../src/core/overload.js';

const transports = { stats: { udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, framingErrors: 0, sendErrors: 0, connectionsOpen: 0 } };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

let closing: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closing) await c();
  closing = [];
});

function setup(): { guard: OverloadGuard; metrics: Metrics } {
  const guard = new OverloadGuard(0);
  guard.start();
  const src = { stats: new CoreStats(), overload: guard, host: { stats: { reloads: 0, reloadFailures: 0 }, reload: async () => ({ ok: true }) }, transports, scriptPath: 'x.lua', trace: { set: () => undefined, status: () => ({ enabled: false, to: 'off' }) } };
  const metrics = new Metrics(src satisfies ProxySource);
  closing.push(() => guard.stop(), () => metrics.close());
  return { guard, metrics };
}

describe('event loop and GC metrics', () => {
  it('reports lag p50/p99/max since the previous scrape, and utilization', async () => {
    const { metrics } = setup();
    await sleep(50);
    const t = Date.now();
    while (Date.now() - t < 120) {
      /* block the loop */
    }
    await sleep(300); // past the guard's 250 ms utilization window
    const text = await metrics.text();
    for (const q of ['p50', 'p99', 'max']) expect(text).toMatch(new RegExp(`^# HELP kemi_event_loop_lag_${q}_seconds Event-loop lag`, 'm'));
    expect(value(text, 'kemi_event_loop_lag_max_seconds')).toBeGreaterThanOrEqual(0.1);
    expect(value(text, 'kemi_event_loop_lag_p99_seconds')).toBeGreaterThanOrEqual(value(text, 'kemi_event_loop_lag_p50_seconds'));
    expect(value(text, 'kemi_event_loop_utilization')).toBeGreaterThan(0);
    expect(value(text, 'kemi_overload_admitted_ratio')).toBe(1);
    expect(value(text, 'kemi_udp_receive_queue_ratio')).toBe(0);
    // The next scrape covers only the time since this one: the 120 ms block is not in it.
    await sleep(50);
    expect(value(await metrics.text(), 'kemi_event_loop_lag_max_seconds')).toBeLessThan(value(text, 'kemi_event_loop_lag_max_seconds'));
  });

  it("reports the guard's last look at the kernel's receive queue", async () => {
    const { guard, metrics } = setup();
    guard.queueFullness = 0.4;
    expect(value(await metrics.text(), 'kemi_udp_receive_queue_ratio')).toBe(0.4);
  });

  it('counts every GC pause by kind in kemi_gc_pause_seconds', async () => {
    const { metrics } = setup();
    // Allocate until the young generation has been collected a few times (bounded).
    let keep: object[] = [];
    for (let i = 0; i < 40 && !/kemi_gc_pause_seconds_count\{kind="minor"\} [1-9]/.test(await metrics.text()); i++) {
      for (let j = 0; j < 200_000; j++) keep.push({ j });
      keep = [];
      await sleep(10);
    }
    const text = await metrics.text();
    expect(text).toMatch(/^kemi_gc_pause_seconds_bucket\{le="0.0005",kind="minor"\} \d+$/m);
    expect(value(text, 'kemi_gc_pause_seconds_count\\{kind="minor"\\}')).toBeGreaterThan(0);
  });

  it("leaves out prom-client's lag percentiles (they include the 10 ms sampling interval) and its GC histogram", async () => {
    const text = await setup().metrics.text();
    expect(text).not.toMatch(/kemi_nodejs_eventloop_lag_p99_seconds|kemi_nodejs_gc_duration_seconds/);
    expect(text).toMatch(/^kemi_process_cpu_seconds_total /m);
  });
});
