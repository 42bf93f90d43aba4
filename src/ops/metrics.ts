/**
 * Prometheus metrics with prom-client. The message path only bumps plain numbers (CoreStats,
 * transport and tm stats); prom-client reads them in `collect()` at scrape time, so no labelled
 * inc() runs per message.
 */
import { createServer, type Server } from 'node:http';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HandoverStats } from './peer-channel.js';
import type { CoreCounters, DrachtioCounters, OverloadCounters, ProxySource } from './sources.js';

/**
 * Publishes totals we keep ourselves: a counter is reset and set to the totals at scrape time
 * (collect runs synchronously just before serialization).
 */
function publish(c: Counter<string>, values: Iterable<[Record<string, string>, number]>): void {
  c.reset();
  for (const [labels, v] of values) c.inc(labels, v);
}

/** Gauges among the transports' counters: not events. */
const NOT_EVENTS = new Set(['connectionsOpen']);

/** byProto's counters as [{proto, event}, total] with snake_case event names (handshakeErrors -> handshake_errors). */
export function transportEvents(byProto: Readonly<Partial<Record<string, Readonly<Record<string, number>>>>>): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  for (const [proto, counters] of Object.entries(byProto)) {
    if (!counters) continue;
    for (const [name, v] of Object.entries(counters)) {
      if (NOT_EVENTS.has(name) || typeof v !== 'number') continue;
      out.push([{ proto, event: name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) }, v]);
    }
  }
  return out;
}

/**
 * kemi_request_processing_seconds: a Prometheus histogram served from CoreStats' bucket counts,
 * so the message path only increments an array slot.
 */
class ProcessingHistogram {
  readonly name = 'kemi_request_processing_seconds';
  readonly help = 'Time from receiving a request to the end of its request route';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(private readonly stats: CoreCounters) {}
  get(): { name: string; help: string; type: string; aggregator: string; values: { value: number; labels: Record<string, string | number>; metricName: string }[] } {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    let cum = 0;
    this.stats.processingBuckets.forEach((le, i) => {
      cum += this.stats.processingCounts[i] ?? 0;
      values.push({ value: cum, labels: { le }, metricName: `${this.name}_bucket` });
    });
    cum += this.stats.processingCounts[this.stats.processingBuckets.length] ?? 0;
    values.push({ value: cum, labels: { le: '+Inf' }, metricName: `${this.name}_bucket` });
    values.push({ value: this.stats.processingSum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.stats.processingCount, labels: {}, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
  reset(): void {}
}

function byClass(counts: readonly number[]): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  for (let i = 1; i < counts.length; i++) out.push([{ class: `${i}xx` }, counts[i] ?? 0]);
  return out;
}

/**
 * prom-client defaults replaced by ours: its event-loop lag percentiles come from
 * monitorEventLoopDelay, which counts the 10 ms sampling interval in every sample (an idle loop
 * reads p50 = 10 ms); its GC histogram observes only the first entry of each observer batch and
 * its smallest bucket is 1 ms, above most minor GCs.
 */
const REPLACED_DEFAULTS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((s) => `kemi_nodejs_eventloop_lag_${s}_seconds`).concat('kemi_nodejs_gc_duration_seconds');

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Event-loop lag (from the overload guard's timer: how late it fired), its utilization, the
 * guard's admitted fraction, and GC pauses. With workers the primary reports the worst worker
 * (aggregator max/min); GC pause histograms are summed.
 */
function loopMetrics(r: Registry, o: OverloadCounters): PerformanceObserver {
  const lag = (q: string, help: string, collect?: () => void): Gauge => new Gauge({ name: `kemi_event_loop_lag_${q}_seconds`, help, registers: [r], aggregator: 'max', ...(collect ? { collect } : {}) });
  // Registered first, p50's collect reads all three, then starts the next interval.
  const p50 = lag('p50', 'Event-loop lag, median since the previous scrape: how late a 10 ms timer fired', () => {
    const h = o.lag;
    if (!h) return;
    const s = (ns: number): number => (h.count ? ns / 1e9 : 0);
    p50.set(s(h.percentile(50)));
    p99.set(s(h.percentile(99)));
    max.set(s(h.max));
    h.reset();
  });
  const p99 = lag('p99', 'Event-loop lag, 99th percentile since the previous scrape');
  const max = lag('max', 'Event-loop lag, longest since the previous scrape');
  const util = new Gauge({
    name: 'kemi_event_loop_utilization', help: 'Share of time the event loop was busy, over the overload guard\'s last 250 ms window (0..1)',
    registers: [r], aggregator: 'max', collect() { util.set(o.utilization ?? 0); },
  });
  const admitted = new Gauge({
    name: 'kemi_overload_admitted_ratio', help: 'Share of new dialogs the overload guard lets through now (1: not shedding)',
    registers: [r], aggregator: 'min', collect() { admitted.set(o.admitted ?? 1); },
  });
  const queue = new Gauge({
    name: 'kemi_udp_receive_queue_ratio', help: 'How full the fullest UDP receive buffer was at the overload guard\'s last look (0..1; read from the kernel, Linux, only while the socket is not drained; else 0)',
    registers: [r], aggregator: 'max', collect() { queue.set(o.queueFullness ?? 0); },
  });
  const gc = new Histogram({
    name: 'kemi_gc_pause_seconds', help: 'Garbage collection pauses by kind (major, minor, incremental, weakcb)',
    labelNames: ['kind'], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [r],
  });
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      gc.observe({ kind: GC_KINDS[e.detail?.kind ?? -1] ?? 'other' }, e.duration / 1000);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return obs;
}

/**
 * prom-client keeps a counter's value in a `{ value, labels }` object and adds to it in place: from
 * the first inc() of a counter without labels (made with a 0 entry), from the second of a label set
 * otherwise (the default process-CPU counters do at the first scrape).
 * V8 takes a field never written after its object was made for a constant, and optimized code of
 * the message path came to depend on that (objects of the same shape: a field's constness is kept
 * per shape, and object literals share shapes). The first such write, at the first scrape after
 * traffic, threw away the optimized code of 40 functions of the message path in each process
 * (parser, tm, forwarder; `--trace-deopt`: "dependent field type constness changed") and recompiled
 * it under load. Writing the field once here, before any traffic, settles it.
 */
export function settleCounterShape(): void {
  const c = new Counter({ name: 'kemi_shape_settling', help: 'never registered', registers: [] });
  c.inc(1);
  c.inc(1);
}

export class Metrics {
  readonly registry = new Registry();
  private server: Server | null = null;
  private readonly gcObserver: PerformanceObserver;

  /** @param worker a cluster worker's link: its hand-overs to and from the other workers */
  constructor(private readonly proxy: ProxySource, drachtio: DrachtioCounters | null = null, worker: { readonly handoverStats: Readonly<HandoverStats> } | null = null) {
    const r = this.registry;
    const p = proxy;
    settleCounterShape();
    collectDefaultMetrics({ register: r, prefix: 'kemi_' });
    for (const name of REPLACED_DEFAULTS) r.removeSingleMetric(name);
    this.gcObserver = loopMetrics(r, p.overload);
    const received = new Counter({
      name: 'kemi_sip_requests_received_total', help: 'SIP requests received, by method', labelNames: ['method'], registers: [r],
      collect() {
        publish(received, [...p.stats.requestsByMethod].map(([m, v]) => [{ method: m }, v]));
      },
    });
    const repliesIn = new Counter({
      name: 'kemi_sip_replies_received_total', help: 'SIP replies received, by status class', labelNames: ['class'], registers: [r],
      collect() {
        publish(repliesIn, byClass(p.stats.repliesByClass));
      },
    });
    const localReplies = new Counter({
      name: 'kemi_sip_local_replies_total', help: 'SIP replies generated by the proxy, by status class', labelNames: ['class'], registers: [r],
      collect() {
        publish(localReplies, byClass(p.stats.localReplies));
      },
    });
    const simple: [string, string, () => number][] = [
      ['kemi_sip_parse_errors_total', 'Messages that failed to parse or validate', () => p.stats.parseErrors],
      ['kemi_sip_forwarded_total', 'Requests forwarded statelessly', () => p.stats.forwarded],
      ['kemi_sip_forward_errors_total', 'Stateless forwards that failed', () => p.stats.forwardErrors],
      ['kemi_sip_replies_relayed_total', 'Replies relayed statelessly by Via', () => p.stats.repliesRelayed],
      ['kemi_sip_replies_dropped_total', 'Replies dropped (not for us, no next Via, script drop)', () => p.stats.repliesDropped],
      ['kemi_sip_acks_filtered_total', 'ACKs to our stateless negative replies absorbed before the script (sl_filter_ACK)', () => p.stats.acksFiltered],
      ['kemi_overload_rejected_total', 'New dialogs answered 503 by the overload guard (overloadBacklogMs)', () => p.overload.rejected],
      ['kemi_script_runs_total', 'Script callback runs', () => p.stats.scriptRuns],
      ['kemi_script_errors_total', 'Script callback runs that ended in a Lua error', () => p.stats.scriptErrors],
      ['kemi_script_reloads_total', 'Successful script reloads', () => p.host?.stats.reloads ?? 0],
      ['kemi_script_reload_failures_total', 'Script reloads refused because the new script failed to load', () => p.host?.stats.reloadFailures ?? 0],
      ['kemi_tm_transactions_created_total', 'Transactions created', () => p.tm?.stats.created ?? 0],
      ['kemi_tm_transactions_completed_total', 'Transactions ended', () => p.tm?.stats.completed ?? 0],
      ['kemi_tm_branch_timeouts_total', 'Branches ended by their final-response timer', () => p.tm?.stats.timedOut ?? 0],
      ['kemi_tm_retransmissions_absorbed_total', 'Request retransmissions and ACKs absorbed by transactions', () => p.tm?.stats.absorbed ?? 0],
    ];
    if (drachtio) {
      const d = drachtio;
      simple.push(
        ['kemi_drachtio_requests_handed_over_total', 'Requests the script handed to a drachtio-srf app', () => d.handedOver],
        ['kemi_drachtio_no_app_total', 'send_to_app calls that found no app', () => d.noApp],
        ['kemi_drachtio_answered_total', 'Handed-over requests an app answered 2xx', () => d.answered],
        ['kemi_drachtio_failed_total', 'Handed-over requests answered >= 300 (by the app, or by us when it left)', () => d.failed],
        ['kemi_drachtio_bad_connections_total', 'Control connections closed for a protocol error, a wrong secret or no authentication', () => d.badConnections],
        ['kemi_drachtio_app_requests_total', 'Requests drachtio-srf apps originated', () => d.appRequests],
      );
      const apps = new Gauge({ name: 'kemi_drachtio_connected_apps', help: 'drachtio-srf apps connected and authenticated', registers: [r], collect() { apps.set(d.connectedApps); } });
      void apps;
    }
    for (const [name, help, read] of simple) {
      const c: Counter<string> = new Counter({ name, help, registers: [r], collect() { publish(c, [[{}, read()]]); } });
    }
    const active = new Gauge({ name: 'kemi_tm_transactions_active', help: 'Transactions in memory', registers: [r], collect() { active.set(p.tm?.active ?? 0); } });
    void active;
    const transport: [string, string, () => number][] = [
      ['kemi_transport_udp_received_total', 'UDP datagrams received', () => p.transports.stats.udpReceived],
      ['kemi_transport_udp_sent_total', 'UDP datagrams sent', () => p.transports.stats.udpSent],
      ['kemi_transport_tcp_received_total', 'SIP messages received over TCP', () => p.transports.stats.tcpReceived],
      ['kemi_transport_tcp_sent_total', 'SIP messages sent over TCP', () => p.transports.stats.tcpSent],
      ['kemi_transport_framing_errors_total', 'TCP connections closed for garbage or oversize messages', () => p.transports.stats.framingErrors],
      ['kemi_transport_send_errors_total', 'Sends that failed', () => p.transports.stats.sendErrors],
    ];
    if (worker) {
      // Summed over the workers by the primary: sent and received each count every hand-over once.
      const handovers: [string, string, (h: Readonly<HandoverStats>) => [number, number]][] = [
        ['kemi_workers_handover_messages_total', 'Messages a worker read for another worker (the owner of their call) or sent over its connection, by direction', (h) => [h.messagesSent, h.messagesReceived]],
        ['kemi_workers_handover_datagrams_total', 'Loopback datagrams that carried the hand-overs (a batch per poll phase and worker), by direction', (h) => [h.datagramsSent, h.datagramsReceived]],
      ];
      for (const [name, help, read] of handovers) {
        const c: Counter<string> = new Counter({
          name, help, labelNames: ['direction'], registers: [r],
          collect() {
            const [sent, received] = read(worker.handoverStats);
            publish(c, [[{ direction: 'sent' }, sent], [{ direction: 'received' }, received]]);
          },
        });
      }
    }
    for (const [name, help, read] of transport) {
      const c: Counter<string> = new Counter({ name, help, registers: [r], collect() { publish(c, [[{}, read()]]); } });
    }
    const events: Counter<string> = new Counter({
      name: 'kemi_transport_events_total', help: 'Transport counters by protocol (messages, bytes, connections, handshake and frame errors, limits)',
      labelNames: ['proto', 'event'], registers: [r],
      collect() { publish(events, transportEvents(p.transports.stats.byProto ?? {})); },
    });
    const stateErrors: Counter<string> = new Counter({
      name: 'kemi_state_errors_total', help: 'Calls to the state backend (Redis) that failed or timed out', labelNames: ['backend'], registers: [r],
      collect() { publish(stateErrors, [[{ backend: p.state?.kind ?? 'memory' }, p.state?.errors ?? 0]]); },
    });
    const conns = new Gauge({ name: 'kemi_transport_tcp_connections', help: 'Open TCP connections', registers: [r], collect() { conns.set(p.transports.stats.connectionsOpen); } });
    void conns;
    r.registerMetric(new ProcessingHistogram(p.stats) as unknown as Counter<string>);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves GET /metrics on `addr` (host:port). */
  async listen(addr: string): Promise<number> {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(i + 1));
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || !req.url?.startsWith('/metrics')) {
        res.writeHead(404).end();
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(port, host, () => res());
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.gcObserver.disconnect();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
