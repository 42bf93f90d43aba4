/**
 * The overload guard's controller, driven window by window (no timers): it sheds only after the
 * loop has been saturated for the sustain time, spreads its refusals evenly, sheds more while
 * saturation lasts and admits everyone again once the loop idles.
 */
import { describe, expect, it } from 'vitest';
import { OverloadGuard } from '../../src/core/overload.js';

const sheds = (g: OverloadGuard, n: number): number => {
  let k = 0;
  for (let i = 0; i < n; i++) if (g.active && g.shed()) k++;
  return k;
};

describe('OverloadGuard controller', () => {
  it('does not shed for saturation shorter than the sustain time, nor below the threshold', () => {
    const g = new OverloadGuard({ utilization: 0.97 });
    g.adjust(1, 750);
    g.adjust(0.96, 250);
    g.adjust(1, 750);
    expect(g.active).toBe(false);
    expect(sheds(g, 100)).toBe(0);
  });

  it('sheds after 1 s saturated, more while it lasts, evenly spread', () => {
    const g = new OverloadGuard({ utilization: 0.97 });
    for (let i = 0; i < 4; i++) g.adjust(0.99, 250);
    expect(g.admitted).toBeCloseTo(0.85);
    expect(sheds(g, 100)).toBe(15);
    for (let i = 0; i < 4; i++) g.adjust(1, 250);
    expect(g.admitted).toBeCloseTo(0.85 ** 5);
    expect(sheds(g, 1000)).toBe(556);
    expect(g.rejected).toBe(571);
    for (let i = 0; i < 40; i++) g.adjust(1, 250);
    expect(g.admitted).toBe(0.1); // the floor
  });

  it('counts one long blocked stretch as the windows it spanned past the sustain time', () => {
    const g = new OverloadGuard({ utilization: 0.97 });
    g.adjust(1, 2000);
    expect(g.admitted).toBeCloseTo(0.85 ** 5);
  });

  it('admits everyone again once the loop idles', () => {
    const g = new OverloadGuard({ utilization: 0.97 });
    g.adjust(1, 3000);
    g.adjust(0.92, 250); // below the threshold but busy: holds
    expect(g.active).toBe(true);
    const held = g.admitted;
    g.adjust(0.8, 250);
    expect(g.admitted).toBeCloseTo(held + 0.1);
    for (let i = 0; i < 4; i++) g.adjust(0.1, 250);
    expect(g.active).toBe(false);
    expect(sheds(g, 100)).toBe(0);
  });

  it('never sheds when off (threshold 0)', () => {
    const g = new OverloadGuard(0);
    g.start();
    g.stop();
    expect(g.active).toBe(false);
  });
});
