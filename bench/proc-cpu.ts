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
  const all = allStats();
  const inTree = treePids(root, all);
  return all.filter((p) => inTree.has(p.pid)).reduce((a, p) => a + p.cpu, 0);
}
