import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostLatencyNotes, runningKdamonds } from '../../bench/host-notes.js';
import { tempDir } from '../e2e/harness.js';

/** A DAMON sysfs tree: kdamonds with their state and first context's operations. */
function damonTree(kdamonds: { state: string; operations?: string }[]): string {
  const admin = join(tempDir('kemi-damon-'), 'kdamonds');
  mkdirSync(admin, { recursive: true });
  writeFileSync(join(admin, 'nr_kdamonds'), `${kdamonds.length}\n`);
  kdamonds.forEach((k, i) => {
    mkdirSync(join(admin, String(i), 'contexts', '0'), { recursive: true });
    writeFileSync(join(admin, String(i), 'state'), `${k.state}\n`);
    if (k.operations) writeFileSync(join(admin, String(i), 'contexts', '0', 'operations'), `${k.operations}\n`);
  });
  return admin;
}

describe('host latency notes', () => {
  it('names each kdamond that is on, with its operations, and none that is off', () => {
    const admin = damonTree([{ state: 'on', operations: 'paddr' }, { state: 'off', operations: 'vaddr' }, { state: 'on' }]);
    expect(runningKdamonds(admin)).toEqual([{ id: '0', operations: 'paddr' }, { id: '2', operations: '?' }]);
    const notes = hostLatencyNotes(admin);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^note: kdamond 0 \(DAMON, paddr\) is on/);
  });

  it('says nothing where DAMON is absent or every kdamond is off', () => {
    expect(hostLatencyNotes(join(tempDir('kemi-damon-'), 'none'))).toEqual([]);
    expect(hostLatencyNotes(damonTree([{ state: 'off' }]))).toEqual([]);
  });
});
