/**
 * Node flags the proxy's processes get unless the command line (or NODE_OPTIONS) sets its own:
 * `npm start` passes them, the workers and the test harness get them from here.
 *
 * Young generation: Node's default (up to 16 MB per semi-space) lets a proxy allocate long between
 * scavenges, and a scavenge then copies every live transaction allocated since: 11-18 ms pauses
 * (p50) in bench/hotpath.bench.ts, which every message arriving meanwhile waits out. 8 MB: 2-3 ms
 * pauses, for 3-6% more CPU per call.
 *
 * Old generation: V8 starts the next mark-compact once the old generation has grown by a factor of
 * its live size that it picks to spend about 3% of the time in GC, not for short pauses; with a
 * proxy's 30 MB live it picked about 1.3x, a mark-compact each second at 2000 calls/s, each a
 * pause of 6-12 ms that every message arriving meanwhile waits out. `--heap-growing-percent=300`
 * lets it grow to 4x first: 3 mark-compacts in 30 s instead of 19-20, p99 INVITE->200 4-8 ms
 * instead of 28-36 on one pinned core, and less CPU per call (README, Benchmarks). The cost is
 * memory: the heap reaches about 4x what is live before it shrinks back (V8 caps the limit halfway
 * to --max-old-space-size, so it never runs out for it).
 *
 * UDP sends: Node tries each datagram at once, one sendmsg system call each. With
 * `--test-udp-no-try-send` (a Node option since v12, hidden from --help, named for its first use
 * in Node's tests) a send goes through libuv's queue instead: the first of a loop turn is written
 * at once, the ones behind it wait until the turn ends and go out together, up to 20 per sendmmsg.
 * A message read in the same turn is answered a few hundred microseconds later at most, and the
 * system calls per call drop: 5-30% less CPU per call in bench/sipp-bench.ts on a 2-core VM
 * where a system call is dear (the more messages a loop turn handles, the more; README,
 * Benchmarks). The datagrams are the same, in the same order.
 *
 * Background threads: each Node process starts 4 V8 platform threads (concurrent marking,
 * parallel scavenges, sweeping, compilation). With several workers on few cores the workers'
 * marking runs at the same time (same traffic, same heap growth) and their helper threads take
 * every core for 100+ ms, so every process with a message to handle waits in the run queue
 * (`perf sched timehist`, README). Workers get cores/workers threads each, at least one.
 */
import { spawnSync } from 'node:child_process';

export const LATENCY_GC_FLAG = '--max-semi-space-size=8';
export const HEAP_GROWTH_FLAG = '--heap-growing-percent=300';
export const UDP_BATCH_FLAG = '--test-udp-no-try-send';
/** Node's negation of it: the command line's way to keep Node's one system call per datagram. */
export const UDP_NO_BATCH_FLAG = '--no-test-udp-no-try-send';

/** True when the process's command line or NODE_OPTIONS already names `flag`. */
function setByUser(execArgv: readonly string[], flag: string): boolean {
  return execArgv.some((a) => a.startsWith(flag)) || (process.env.NODE_OPTIONS ?? '').includes(flag);
}

let batchKnown: boolean | undefined;

/**
 * Whether this Node accepts UDP_BATCH_FLAG: Node 20 to 24 do (CI runs both ends); a later one is
 * asked once, so that a Node without it still starts its workers, unbatched.
 */
export function udpBatchAvailable(version = process.versions.node): boolean {
  const major = Number(version.split('.')[0]);
  if (major >= 20 && major <= 24) return true;
  batchKnown ??= spawnSync(process.execPath, [UDP_BATCH_FLAG, '-e', ''], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return batchKnown;
}

/** Whether this process queues its UDP sends (the last of UDP_BATCH_FLAG and its negation wins). */
export function udpSendsBatched(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.lastIndexOf(UDP_BATCH_FLAG) > execArgv.lastIndexOf(UDP_NO_BATCH_FLAG);
}

/**
 * `execArgv` with the young-generation size, the old generation's growth and UDP send batching
 * added where it names none of them (`--no-test-udp-no-try-send` keeps sends unbatched).
 */
export function withProxyFlags(execArgv: readonly string[]): string[] {
  const out = setByUser(execArgv, '--max-semi-space-size') ? [...execArgv] : [...execArgv, LATENCY_GC_FLAG];
  if (!setByUser(execArgv, '--heap-growing-percent')) out.push(HEAP_GROWTH_FLAG);
  const named = execArgv.includes(UDP_BATCH_FLAG) || execArgv.includes(UDP_NO_BATCH_FLAG);
  if (!named && udpBatchAvailable()) out.push(UDP_BATCH_FLAG);
  return out;
}

/** The V8 platform threads each of `workers` processes gets on a box with `cores` cores. */
export function v8PoolSize(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** A worker's node flags: withProxyFlags and its share of the cores. */
export function workerExecArgv(execArgv: readonly string[], cores: number, workers: number): string[] {
  const out = withProxyFlags(execArgv);
  return setByUser(execArgv, '--v8-pool-size') ? out : [...out, `--v8-pool-size=${v8PoolSize(cores, workers)}`];
}
