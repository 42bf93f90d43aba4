/**
 * V8 flags the proxy's processes get unless the command line (or NODE_OPTIONS) sets its own.
 *
 * Young generation: Node's default (up to 16 MB per semi-space) lets a proxy allocate long between
 * scavenges, and a scavenge then copies every live transaction allocated since: 11-18 ms pauses
 * (p50) in bench/hotpath.bench.ts, which every message arriving meanwhile waits out. 8 MB: 2-3 ms
 * pauses, for 3-6% more CPU per call. npm start and the workers get it.
 *
 * Background threads: each Node process starts 4 V8 platform threads (concurrent marking,
 * parallel scavenges, sweeping, compilation). With several workers on few cores the workers'
 * marking runs at the same time (same traffic, same heap growth) and their helper threads take
 * every core for 100+ ms, so every process with a message to handle waits in the run queue
 * (`perf sched timehist`, README). Workers get cores/workers threads each, at least one.
 */
export const LATENCY_GC_FLAG = '--max-semi-space-size=8';

/** True when the process's command line or NODE_OPTIONS already names `flag`. */
function setByUser(execArgv: readonly string[], flag: string): boolean {
  return execArgv.some((a) => a.startsWith(flag)) || (process.env.NODE_OPTIONS ?? '').includes(flag);
}

export function withLatencyGc(execArgv: readonly string[]): string[] {
  return setByUser(execArgv, '--max-semi-space-size') ? [...execArgv] : [...execArgv, LATENCY_GC_FLAG];
}

/** The V8 platform threads each of `workers` processes gets on a box with `cores` cores. */
export function v8PoolSize(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** A worker's node flags: the young generation of withLatencyGc and its share of the cores. */
export function workerExecArgv(execArgv: readonly string[], cores: number, workers: number): string[] {
  const out = withLatencyGc(execArgv);
  return setByUser(execArgv, '--v8-pool-size') ? out : [...out, `--v8-pool-size=${v8PoolSize(cores, workers)}`];
}
