/**
 * Plain-number counters on the message path (cheap to bump); metrics read them at scrape time.
 */
import type { SipMessage } from '../sip/index.js';

export class CoreStats {
  requestsIn = 0;
  repliesIn = 0;
  parseErrors = 0;
  scriptRuns = 0;
  scriptErrors = 0;
  forwarded = 0;
  forwardErrors = 0;
  repliesRelayed = 0;
  repliesDropped = 0;
  /** ACKs to our own stateless negative replies, absorbed before the script (sl_filter_ACK). */
  acksFiltered = 0;
  /** Local replies sent, by status class (index 1..6). */
  readonly localReplies = [0, 0, 0, 0, 0, 0, 0];
  /** Received requests by method. */
  readonly requestsByMethod = new Map<string, number>();
  /** Received replies by status class (index 1..6). */
  readonly repliesByClass = [0, 0, 0, 0, 0, 0, 0];

  /** Request processing time histogram (seconds): upper bounds and cumulative-free counts. */
  static readonly BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1];
  readonly processingCounts = new Array<number>(CoreStats.BUCKETS.length + 1).fill(0);
  readonly processingBuckets = CoreStats.BUCKETS;
  processingSum = 0;
  processingCount = 0;

  observeProcessing(seconds: number): void {
    const b = CoreStats.BUCKETS;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.processingCounts[i]!++;
    this.processingSum += seconds;
    this.processingCount++;
  }

  received(msg: SipMessage): void {
    if (msg.isRequest) {
      this.requestsIn++;
      this.requestsByMethod.set(msg.method, (this.requestsByMethod.get(msg.method) ?? 0) + 1);
    } else {
      this.repliesIn++;
      this.repliesByClass[Math.min(6, Math.floor(msg.status / 100))]++;
    }
  }

  repliesSent(code: number): void {
    this.localReplies[Math.min(6, Math.floor(code / 100))]++;
  }
}
