/** The overload guard's switch: on by default (0.97), `--overload off` or `"overloadUtilization": 0` turns it off. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OVERLOAD_UTILIZATION, defaultConfig, loadConfigFile, parseCli } from '../../src/ops/config.js';

describe('overload config', () => {
  it('is on by default, set or turned off on the command line', () => {
    expect(defaultConfig().overloadUtilization).toBe(DEFAULT_OVERLOAD_UTILIZATION);
    expect(DEFAULT_OVERLOAD_UTILIZATION).toBeGreaterThan(0.9);
    expect(parseCli([]).config.overloadUtilization).toBe(0.97);
    expect(parseCli(['--overload', 'off']).config.overloadUtilization).toBe(0);
    expect(parseCli(['--overload', '0.9']).config.overloadUtilization).toBe(0.9);
    expect(() => parseCli(['--overload', 'yes'])).toThrow(/--overload/);
  });

  it('reads overloadUtilization from the config file (0 is off; above 1 is an error)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemi-cfg-'));
    writeFileSync(join(dir, 'off.json'), '{"overloadUtilization": 0}');
    writeFileSync(join(dir, 'bad.json'), '{"overloadUtilization": 97}');
    expect(loadConfigFile(join(dir, 'off.json')).overloadUtilization).toBe(0);
    expect(() => loadConfigFile(join(dir, 'bad.json'))).toThrow(/overloadUtilization/);
  });
});
