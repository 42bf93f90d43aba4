/**
 * Pins a process tree to a set of CPUs (Linux, taskset from util-linux): every thread of the
 * process and of its descendants now, and what they start later inherits it. The bench uses it to
 * give the proxy and the SIPps cores of their own (`--proxy-cpus`, `--sipp-cpus`), so that on a
 * box with enough cores a proxy's INVITE->200 tail is its own and not the run queue it shares with
 * the load generator.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { treePids } from './proc-cpu.js';

/** taskset's list syntax, as the options take it: `2`, `0-1`, `0,2-3`, CPUs this box has. */
export function checkCpuList(list: string, option: string, cpus = availableParallelism()): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(list)) throw new Error(`${option}: a CPU list such as 2, 0-1 or 0,2-3 (got '${list}')`);
  const highest = Math.max(...list.split(/[,-]/).map(Number));
  if (highest >= cpus) throw new Error(`${option}: CPU ${highest} is not there (this box has CPUs 0-${cpus - 1})`);
  return list;
}

export function pinTree(root: number, cpus: string): void {
  for (const pid of treePids(root)) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
    // A process that ended meanwhile is not an error; anything else (no taskset, a CPU not there) is.
    if (r.status !== 0 && !/No such process|failed to get pid/.test(r.stderr ?? '')) {
      throw new Error(`taskset -a -p -c ${cpus} ${pid}: ${r.error?.message ?? r.stderr.trim()}`);
    }
  }
}
