/** The overload guard's switch: on by default (500 ms of full UDP backlog, 1000 with workers), `--overload off` or `"overloadBacklogMs": 0` turns it off. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OVERLOAD_BACKLOG_MS, DEFAULT_OVERLOAD_BACKLOG_MS_WORKERS, defaultConfig, loadConfigFile, parseCli } from '../../src/ops/config.js';

describe('overload config', () => {
  it('is on by default, set or turned off on the command line', () => {
    expect(defaultConfig().overloadBacklogMs).toBe(DEFAULT_OVERLOAD_BACKLOG_MS);
    expect(parseCli([]).config.overloadBacklogMs).toBe(500);
    expect(parseCli(['--overload', 'off']).config.overloadBacklogMs).toBe(0);
    expect(parseCli(['--overload', '2000']).config.overloadBacklogMs).toBe(2000);
    expect(() => parseCli(['--overload', 'yes'])).toThrow(/--overload/);
  });

  it('defaults to 1000 ms with workers, unless the command line or the config file sets it', () => {
    expect(DEFAULT_OVERLOAD_BACKLOG_MS_WORKERS).toBe(1000);
    expect(parseCli(['--workers', '2']).config.overloadBacklogMs).toBe(1000);
    expect(parseCli(['--workers', '2', '--overload', '500']).config.overloadBacklogMs).toBe(500);
    expect(parseCli(['--workers', '2', '--overload', 'off']).config.overloadBacklogMs).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'kemi-cfg-'));
    writeFileSync(join(dir, 'w.json'), '{"workers": 2}');
    writeFileSync(join(dir, 'w500.json'), '{"workers": 2, "overloadBacklogMs": 500}');
    expect(parseCli(['--config', join(dir, 'w.json')]).config.overloadBacklogMs).toBe(1000);
    expect(parseCli(['--config', join(dir, 'w500.json')]).config.overloadBacklogMs).toBe(500);
    expect(parseCli(['--config', join(dir, 'w500.json'), '--workers', '1']).config.overloadBacklogMs).toBe(500);
  });

  it('reads overloadBacklogMs from the config file (0 is off; negative is an error)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemi-cfg-'));
    writeFileSync(join(dir, 'off.json'), '{"overloadBacklogMs": 0}');
    writeFileSync(join(dir, 'bad.json'), '{"overloadBacklogMs": -1}');
    expect(loadConfigFile(join(dir, 'off.json')).overloadBacklogMs).toBe(0);
    expect(() => loadConfigFile(join(dir, 'bad.json'))).toThrow(/overloadBacklogMs/);
  });
});
