/** The node flags workers (and npm start) run with, unless the command line sets its own. */
import { describe, expect, it } from 'vitest';
import { HEAP_GROWTH_FLAG, LATENCY_GC_FLAG, UDP_BATCH_FLAG, UDP_NO_BATCH_FLAG, udpBatchAvailable, udpSendsBatched, v8PoolSize, withProxyFlags, workerExecArgv } from '../../src/ops/node-flags.js';

describe('withProxyFlags', () => {
  it('adds the semi-space and heap-growth flags and UDP send batching to an argv without them, and keeps the rest in order', () => {
    expect(withProxyFlags(['--enable-source-maps'])).toEqual(['--enable-source-maps', LATENCY_GC_FLAG, HEAP_GROWTH_FLAG, UDP_BATCH_FLAG]);
  });

  it("keeps the user's own semi-space size and heap growth, and does not add batching twice", () => {
    expect(withProxyFlags(['--max-semi-space-size=32', UDP_BATCH_FLAG])).toEqual(['--max-semi-space-size=32', UDP_BATCH_FLAG, HEAP_GROWTH_FLAG]);
    expect(withProxyFlags(['--heap-growing-percent=50'])).toEqual(['--heap-growing-percent=50', LATENCY_GC_FLAG, UDP_BATCH_FLAG]);
  });

  it("keeps the user's choice of unbatched sends", () => {
    expect(withProxyFlags([UDP_NO_BATCH_FLAG])).toEqual([UDP_NO_BATCH_FLAG, LATENCY_GC_FLAG, HEAP_GROWTH_FLAG]);
    expect(udpSendsBatched([UDP_NO_BATCH_FLAG])).toBe(false);
    expect(udpSendsBatched([UDP_BATCH_FLAG, UDP_NO_BATCH_FLAG])).toBe(false);
    expect(udpSendsBatched([UDP_NO_BATCH_FLAG, UDP_BATCH_FLAG])).toBe(true);
  });

  it('knows batching from the command line, and that Node 20 to 24 have it', () => {
    expect(udpSendsBatched([UDP_BATCH_FLAG])).toBe(true);
    expect(udpSendsBatched(['--max-semi-space-size=8'])).toBe(false);
    expect(udpBatchAvailable('20.20.2')).toBe(true);
    expect(udpBatchAvailable('24.21.0')).toBe(true);
  });

  it('is accepted by the node running the tests', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [UDP_BATCH_FLAG, '-e', 'process.stdout.write(process.execArgv[0])'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(UDP_BATCH_FLAG);
    // A V8 flag Node did not know would stop the process with "bad option".
    const g = spawnSync(process.execPath, [HEAP_GROWTH_FLAG, '-e', ''], { encoding: 'utf8' });
    expect(g.stderr).toBe('');
    expect(g.status).toBe(0);
  });
});

describe('workerExecArgv', () => {
  it("gives each worker its share of the cores as V8's thread pool, at least one", () => {
    expect(v8PoolSize(2, 2)).toBe(1);
    expect(v8PoolSize(8, 2)).toBe(4);
    expect(v8PoolSize(2, 4)).toBe(1);
    expect(v8PoolSize(6, 4)).toBe(1);
    expect(workerExecArgv([], 2, 2)).toEqual([LATENCY_GC_FLAG, HEAP_GROWTH_FLAG, UDP_BATCH_FLAG, '--v8-pool-size=1']);
  });

  it("keeps the user's own pool size and semi-space size", () => {
    expect(workerExecArgv(['--v8-pool-size=3'], 2, 2)).toEqual(['--v8-pool-size=3', LATENCY_GC_FLAG, HEAP_GROWTH_FLAG, UDP_BATCH_FLAG]);
    expect(workerExecArgv(['--max-semi-space-size=4'], 16, 2)).toEqual(['--max-semi-space-size=4', HEAP_GROWTH_FLAG, UDP_BATCH_FLAG, '--v8-pool-size=8']);
  });
});
