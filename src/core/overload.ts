/**
 * An opt-in overload guard (config `overloadLagMs`, CLI `--overload-lag`): when the event loop
 * falls behind by more than the threshold, new dialog-creating requests are answered 503 with
 * Retry-After before any script runs, for `holdMs` after the last lag seen. Requests of calls in
 * progress (To tag, ACK, CANCEL) and retransmissions tm already knows still go through, so the
 * calls already set up finish instead of everyone's timing out together. Off by default:
 * Kamailio leaves load shedding to the script.
 */
export class OverloadGuard {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private until = 0;
  /** Requests answered 503 by the guard (kemi_overload_rejected_total). */
  rejected = 0;

  constructor(
    readonly lagMs: number,
    private readonly holdMs = 1000,
    private readonly tickMs = 20,
  ) {}

  start(): void {
    if (this.lagMs <= 0 || this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      // How late this tick ran: the time the loop spent on other work beyond the interval.
      const lag = now - this.last - this.tickMs;
      this.last = now;
      if (lag > this.lagMs) this.until = now + this.holdMs;
    }, this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get active(): boolean {
    return this.lagMs > 0 && performance.now() < this.until;
  }
}
