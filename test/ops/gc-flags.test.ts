/** The young-generation size workers (and npm start) run with, unless the command line sets one. */
import { describe, expect, it } from 'vitest';
import { LATENCY_GC_FLAG, withLatencyGc } from '../../src/ops/gc-flags.js';

describe('withLatencyGc', () => {
  it('adds the semi-space flag to an argv without one, and keeps the rest in order', () => {
    expect(withLatencyGc(['--enable-source-maps'])).toEqual(['--enable-source-maps', LATENCY_GC_FLAG]);
  });

  it("keeps the user's own semi-space size", () => {
    expect(withLatencyGc(['--max-semi-space-size=32'])).toEqual(['--max-semi-space-size=32']);
  });
});
