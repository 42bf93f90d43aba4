import { describe, expect, it } from 'vitest';
import { cpuShares, totalCpu, treeCpuByPid, treeCpuSeconds } from '../../bench/proc-cpu.js';

describe('cpuShares', () => {
  it('gives each process its share of the CPU used between two readings, largest first', () => {
    const before = new Map([[10, 1.0], [11, 5.0], [12, 5.0]]);
    const after = new Map([[10, 1.02], [11, 6.5], [12, 5.48]]);
    // Used: 0.02, 1.5, 0.48 of 2.0 s.
    expect(cpuShares(before, after)).toEqual([75, 24, 1]);
  });

  it('leaves out processes under 1% and counts one started after the first reading from zero', () => {
    const before = new Map([[10, 3.0], [11, 2.0]]);
    const after = new Map([[10, 3.001], [11, 3.0], [13, 1.0]]);
    expect(cpuShares(before, after)).toEqual([50, 50]);
  });

  it('is empty when nothing was used', () => {
    const m = new Map([[10, 1.0]]);
    expect(cpuShares(m, m)).toEqual([]);
    expect(cpuShares(new Map(), new Map())).toEqual([]);
  });

  it('reads this process from /proc, and the tree sum is the sum of its processes', () => {
    const byPid = treeCpuByPid(process.pid);
    expect(byPid.has(process.pid)).toBe(true);
    expect(totalCpu(new Map([[1, 0.5], [2, 1.25]]))).toBe(1.75);
    // CPU only grows between the two readings.
    expect(treeCpuSeconds(process.pid)).toBeGreaterThanOrEqual(totalCpu(byPid));
  });
});
