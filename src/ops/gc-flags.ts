/**
 * Node's default young generation (up to 16 MB per semi-space) lets a proxy allocate long between
 * scavenges, and a scavenge then copies every live transaction allocated since: 11-18 ms pauses
 * (p50) in bench/hotpath.bench.ts, which every message arriving meanwhile waits out. 8 MB: 2-3 ms
 * pauses, for 3-6% more CPU per call. Workers get it unless the command line sets its own.
 */
export const LATENCY_GC_FLAG = '--max-semi-space-size=8';

export function withLatencyGc(execArgv: readonly string[]): string[] {
  const own = execArgv.some((a) => a.startsWith('--max-semi-space-size')) || (process.env.NODE_OPTIONS ?? '').includes('--max-semi-space-size');
  return own ? [...execArgv] : [...execArgv, LATENCY_GC_FLAG];
}
