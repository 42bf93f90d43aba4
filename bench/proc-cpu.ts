/** CPU time of a process and all its descendants, from /proc (utime + stime, in seconds). */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

export interface ProcStat { pid: number; ppid: number; cpu: number }

function readStat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parens: fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS };
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  const all: ProcStat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(Number(d));
    if (st) all.push(st);
  }
  return all;
}

/** The pids of a process and all its descendants. */
export function treePids(root: number, all: readonly ProcStat[] = allStats()): Set<number> {
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return inTree;
}

export function treeCpuSeconds(root: number): number {
  return totalCpu(treeCpuByPid(root));
}

/** The CPU seconds of a treeCpuByPid reading, summed. */
export function totalCpu(byPid: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const cpu of byPid.values()) sum += cpu;
  return sum;
}

/** CPU seconds of each process of the tree, by pid. */
export function treeCpuByPid(root: number): Map<number, number> {
  const all = allStats();
  const inTree = treePids(root, all);
  return new Map(all.filter((p) => inTree.has(p.pid)).map((p) => [p.pid, p.cpu]));
}

/**
 * How the CPU used between two readings of a tree (treeCpuByPid) was shared among its processes:
 * each process's share in percent, largest first, those under 1% left out. With `--workers N` it
 * shows how evenly the workers shared the work (the one reading a source's datagrams takes more).
 * A process that started after the first reading counts from zero.
 */
export function cpuShares(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number[] {
  const used: number[] = [];
  for (const [pid, cpu] of after) used.push(Math.max(0, cpu - (before.get(pid) ?? 0)));
  const total = used.reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  return used.map((u) => Math.round((u / total) * 100)).filter((pct) => pct >= 1).sort((a, b) => b - a);
}
