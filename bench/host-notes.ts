/**
 * What on this host makes every proxy's latency figures worse, printed with the bench's summary so
 * that a reader does not take it for the proxy's own tail.
 *
 * DAMON (the kernel's data access monitor): a kdamond thread that samples memory accesses wakes
 * every aggregation interval and runs for milliseconds. On the 2-core VM of the README's figures
 * (`paddr` operations, 500 ms) it ran 3-4 ms every ~500 ms and stalled the proxy's processes at
 * those moments: a cluster of slow calls each time, about 1% of the calls at 2000 calls/s, so the
 * p99 itself (README, Benchmarks; `perf sched timehist`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DAMON_ADMIN = '/sys/kernel/mm/damon/admin/kdamonds';

/** Reads a file's trimmed text; null when it cannot be read. */
function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The kdamonds that are on under `admin` (DAMON's sysfs directory), with their operations set. */
export function runningKdamonds(admin = DAMON_ADMIN): { id: string; operations: string }[] {
  let ids: string[];
  try {
    ids = readdirSync(admin).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: { id: string; operations: string }[] = [];
  for (const id of ids) {
    if (readText(join(admin, id, 'state')) !== 'on') continue;
    out.push({ id, operations: readText(join(admin, id, 'contexts', '0', 'operations')) ?? '?' });
  }
  return out;
}

/** One line per condition found on this host that adds to every target's latency. */
export function hostLatencyNotes(admin = DAMON_ADMIN): string[] {
  return runningKdamonds(admin).map(
    (k) => `note: kdamond ${k.id} (DAMON, ${k.operations}) is on: on the README's VM it stalled every process for 3-4 ms every ~500 ms, about 1% of calls at 2000/s, so p99 figures include it`,
  );
}
