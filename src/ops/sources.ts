/**
 * What ops (metrics, control RPC) reads of a running proxy, declared here so that ops imports no
 * other layer of ours: the composition root hands the proxy in, which has these shapes.
 */

/** The core's plain-number counters (src/core/stats.ts). */
export interface CoreCounters {
  readonly requestsIn: number;
  readonly repliesIn: number;
  readonly parseErrors: number;
  readonly scriptRuns: number;
  readonly scriptErrors: number;
  readonly forwarded: number;
  readonly forwardErrors: number;
  readonly repliesRelayed: number;
  readonly repliesDropped: number;
  readonly acksFiltered: number;
  readonly localReplies: readonly number[];
  readonly requestsByMethod: ReadonlyMap<string, number>;
  readonly repliesByClass: readonly number[];
  /** Upper bounds (seconds) of the processing-time histogram; counts has one more slot (+Inf). */
  readonly processingBuckets: readonly number[];
  readonly processingCounts: readonly number[];
  readonly processingSum: number;
  readonly processingCount: number;
}

export interface TmCounters {
  readonly active: number;
  readonly stats: { readonly created: number; readonly completed: number; readonly timedOut: number; readonly absorbed: number; readonly localReplies: number };
}

export interface TransportCounters {
  readonly udpReceived: number;
  readonly udpSent: number;
  readonly tcpReceived: number;
  readonly tcpSent: number;
  readonly framingErrors: number;
  readonly sendErrors: number;
  readonly connectionsOpen: number;
  /** Each transport's own counters by protocol (udp, tcp, tls, ws, wss): received, handshakeErrors, ... */
  readonly byProto?: Readonly<Partial<Record<string, Readonly<Record<string, number>>>>>;
}

export interface ScriptReloader {
  readonly stats: { readonly reloads: number; readonly reloadFailures: number };
  reload(): Promise<{ ok: boolean; error?: string }>;
}

/** The drachtio control port's counters (src/drachtio/metrics.ts). */
export interface DrachtioCounters {
  readonly connectedApps: number;
  readonly handedOver: number;
  readonly noApp: number;
  readonly answered: number;
  readonly failed: number;
  readonly badConnections: number;
  readonly appRequests: number;
}

/** The overload guard (src/core/overload.ts) as /metrics reads it. */
export interface OverloadCounters {
  /** New dialogs answered 503. */
  readonly rejected: number;
  /** Fraction of new dialogs admitted now (1: not shedding). */
  readonly admitted?: number;
  /** The fullest UDP receive buffer at the guard's last read of the kernel's queue (0..1; 0 when drained). */
  readonly queueFullness?: number;
  /** Event-loop utilization (0..1) of the guard's last window. */
  readonly utilization?: number;
  /** Event-loop lag samples in ns (perf_hooks RecordableHistogram): read and reset at each scrape. */
  readonly lag?: { percentile(p: number): number; readonly max: number; readonly count: number; reset(): void };
}

/** A running proxy instance as ops sees it. */
export interface ProxySource {
  readonly stats: CoreCounters;
  readonly overload: OverloadCounters;
  readonly host: ScriptReloader;
  readonly tm?: TmCounters;
  readonly transports: { readonly stats: TransportCounters };
  readonly state?: { readonly kind: string; readonly errors: number };
  readonly scriptPath: string;
  /** The operator's SIP message trace. */
  readonly trace: {
    set(mode: 'off' | 'log' | { file: string }): void;
    status(): { enabled: boolean; to: string };
  };
}
