/**
 * The overload guard (on by default; config `overloadUtilization`, CLI `--overload UTIL|off`).
 *
 * Why event-loop utilization and not event-loop lag: libuv reads at most 32 datagrams per socket
 * per loop turn, so past capacity the loop keeps turning every few ms while the backlog grows in
 * the kernel's receive buffer (4 MB: seconds of SIP), unseen by a lag timer. Measured at 10x the
 * clean rate: lag p50 15-35 ms, the same as a busy CI box, while calls were timing out. What does
 * show it is the loop never going idle: utilization (active time / wall time, Node's
 * performance.eventLoopUtilization) stays at ~1 only while there is always more to read.
 *
 * Every `windowMs` the guard measures the utilization of the window. Once the loop has been at or
 * above the threshold for `sustainMs` (a 600 ms script run or a GC pause does not count), the
 * fraction of new dialogs admitted shrinks (x0.85 per saturated window, to 0.1 at least) and
 * grows back (+0.1, or +0.25 when nearly idle) once utilization falls below the threshold minus
 * 0.07: an AIMD controller that keeps the loop just below saturation. Shed requests are answered 503 with
 * Retry-After before any script runs; requests of calls in progress (To tag, ACK, CANCEL, BYE,
 * PRACK, UPDATE) and retransmissions tm already knows always go through (proxy.ts `shedding`), so
 * calls already set up finish instead of everyone's timing out together.
 *
 * It also measures event-loop lag (how late a `tickMs` timer fires) for /metrics.
 */
import { createHistogram, performance, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';

/** Per saturated window, the admitted fraction is multiplied by this, down to MIN_ADMITTED. */
const DECREASE = 0.85;
const MIN_ADMITTED = 0.1;

export interface OverloadOptions {
  /** Utilization (0..1) that counts as saturated; 0 turns shedding off (lag is still measured). */
  readonly utilization: number;
  readonly windowMs?: number;
  readonly sustainMs?: number;
  readonly tickMs?: number;
}

export class OverloadGuard {
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private windowStart = 0;
  private elu: EventLoopUtilization | null = null;
  private saturatedMs = 0;
  private credit = 0;
  /** Fraction of new dialogs admitted: 1 when not overloaded. */
  admitted = 1;
  /** Utilization of the last full window (0..1). */
  utilization = 0;
  /** Requests answered 503 by the guard (kemi_overload_rejected_total). */
  rejected = 0;
  /** How late the lag timer fired, in ns (at least 1): read and reset by /metrics. */
  readonly lag: RecordableHistogram = createHistogram();
  readonly threshold: number;
  private readonly windowMs: number;
  private readonly sustainMs: number;
  private readonly tickMs: number;

  constructor(o: OverloadOptions | number) {
    const opts = typeof o === 'number' ? { utilization: o } : o;
    this.threshold = opts.utilization;
    this.windowMs = opts.windowMs ?? 250;
    this.sustainMs = opts.sustainMs ?? 1000;
    this.tickMs = opts.tickMs ?? 10;
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = this.windowStart = performance.now();
    this.elu = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Shedding now (some new dialogs are refused): checked before the per-request test. */
  get active(): boolean {
    return this.admitted < 1;
  }

  /**
   * Whether this new dialog is refused: spreads the refusals evenly, (1 - admitted) of them.
   * Call only for dialog-creating requests, while `active`.
   */
  shed(): boolean {
    this.credit += 1 - this.admitted;
    if (this.credit < 0.5) return false;
    this.credit -= 1;
    this.rejected++;
    return true;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTick - this.tickMs;
    this.lag.record(Math.max(1, Math.round(late * 1e6)));
    this.lastTick = now;
    const dt = now - this.windowStart;
    if (dt < this.windowMs) return;
    this.windowStart = now;
    const elu = performance.eventLoopUtilization();
    const { active, utilization } = performance.eventLoopUtilization(elu, this.elu!);
    this.elu = elu;
    this.utilization = utilization;
    if (this.threshold <= 0) return;
    if (late >= this.windowMs && active >= late * this.threshold) {
      // The timer fired late because the loop was busy all that time (not because the process
      // was descheduled while idle: that counts as idle): judge that stretch on its own, or the
      // idle start of the window would dilute it.
      const before = dt - late;
      if (before >= this.windowMs / 2) this.adjust(Math.max(0, (active - late) / before), before);
      this.adjust(1, late);
    } else {
      this.adjust(utilization, dt);
    }
  }

  /** The controller, for one window of `dt` ms at utilization `u`. */
  adjust(u: number, dt: number): void {
    if (u >= this.threshold) {
      this.saturatedMs += dt;
      if (this.saturatedMs >= this.sustainMs) {
        // A long blocked stretch counts as the windows it spanned past the sustain time.
        const windows = Math.max(1, Math.round(Math.min(dt, this.saturatedMs - this.sustainMs + this.windowMs) / this.windowMs));
        // The floor: the backlog built up before shedding started keeps the loop saturated a
        // while after; admitting nobody then would make the proxy's throughput collapse.
        this.admitted = Math.max(MIN_ADMITTED, this.admitted * DECREASE ** windows);
      }
      return;
    }
    this.saturatedMs = 0;
    if (this.admitted < 1 && u < this.threshold - 0.07) {
      this.admitted = Math.min(1, this.admitted + (u < 0.5 ? 0.25 : 0.1));
      if (this.admitted === 1) this.credit = 0;
    }
  }
}
