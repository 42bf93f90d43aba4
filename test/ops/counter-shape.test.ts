/**
 * prom-client adds to a counter's `{ value, labels }` object in place (a counter without labels
 * from its first inc(), made with a 0 entry); the first such write made V8 throw away the
 * optimized code of the message path that depended on the field being constant (at the first
 * scrape, under load). settleCounterShape() does that write at start-up, so a later one
 * generalizes nothing. Observed with V8's own trace.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const metricsModule = pathToFileURL(resolve(root, 'dist/src/ops/metrics.js')).href;
/** A counter's value field turned from constant to mutable (V8's own trace, one line per step). */
const GENERALIZED = /^\[generalizing\]value:\S*const\}->\S*mutable\}.*counter\.js/gm;

/**
 * How often V8 generalized a counter's value field in a process that settles the shape (when
 * `settle`) and then adds to a new counter twice (when `scrape`). Counted, not ordered: V8 writes
 * its trace through C's buffered stdout, so its lines and ours may come out of order. Node 20's V8
 * fails a check printing a baseline frame in this trace, hence --no-sparkplug.
 */
function generalizations(settle: boolean, scrape: boolean): number {
  const script = `
    const { settleCounterShape } = await import(${JSON.stringify(metricsModule)});
    const { Counter } = await import('prom-client');
    ${settle ? 'settleCounterShape();' : ''}
    if (${scrape}) {
      const c = new Counter({ name: 'scraped', help: 'a counter a scrape adds to', registers: [] });
      c.inc(2);
      c.inc(3);
      if ((await c.get()).values[0].value !== 5) throw new Error('counter lost an inc');
    }
  `;
  const r = spawnSync(process.execPath, ['--no-sparkplug', '--trace-generalization', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.match(GENERALIZED)?.length ?? 0;
}

describe('prom-client counter shape', () => {
  it('without the settling, adding to a counter turns its value field from constant to mutable', () => {
    expect(generalizations(false, false)).toBe(0);
    expect(generalizations(false, true)).toBeGreaterThan(0);
  });

  it('settleCounterShape() does it, and adding to a counter after it generalizes nothing more', () => {
    const settled = generalizations(true, false);
    expect(settled).toBeGreaterThan(0);
    expect(generalizations(true, true)).toBe(settled);
  });
});
