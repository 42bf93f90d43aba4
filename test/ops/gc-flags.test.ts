/** The node flags workers (and npm start) run with, unless the command line sets its own. */
import { describe, expect, it } from 'vitest';
import { LATENCY_GC_FLAG, v8PoolSize, withLatencyGc, workerExecArgv } from '../../src/ops/gc-flags.js';

describe('withLatencyGc', () => {
  it('adds the semi-space flag to an argv without one, and keeps the rest in order', () => {
    expect(withLatencyGc(['--enable-source-maps'])).toEqual(['--enable-source-maps', LATENCY_GC_FLAG]);
  });

  it("keeps the user's own semi-space size", () => {
    expect(withLatencyGc(['--max-semi-space-size=32'])).toEqual(['--max-semi-space-size=32']);
  });
});

describe('workerExecArgv', () => {
  it("gives each worker its share of the cores as V8's thread pool, at least one", () => {
    expect(v8PoolSize(2, 2)).toBe(1);
    expect(v8PoolSize(8, 2)).toBe(4);
    expect(v8PoolSize(2, 4)).toBe(1);
    expect(v8PoolSize(6, 4)).toBe(1);
    expect(workerExecArgv([], 2, 2)).toEqual([LATENCY_GC_FLAG, '--v8-pool-size=1']);
  });

  it("keeps the user's own pool size and semi-space size", () => {
    expect(workerExecArgv(['--v8-pool-size=3'], 2, 2)).toEqual(['--v8-pool-size=3', LATENCY_GC_FLAG]);
    expect(workerExecArgv(['--max-semi-space-size=4'], 16, 2)).toEqual(['--max-semi-space-size=4', '--v8-pool-size=8']);
  });
});
