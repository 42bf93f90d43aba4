/** KSR.pike: Kamailio's IP tree (prefix splitting, leaf hits, red / unblock on the sampling swap, expiry). */
import { afterEach, describe, expect, it } from 'vitest';
import pike, { PIKE, PikeTree } from '../../kemi/pike.js';
import { ipBytes } from '../../src/lib/ip.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { call, context, loadModule, services, testEnv } from './helpers.js';

const ip = (s: string): Uint8Array => ipBytes(s)!;

let loaded: typeof PIKE.stateType | undefined;
afterEach(async () => {
  if (loaded) await pike.close!(loaded);
  loaded = undefined;
});

describe('KSR.pike', () => {
  it('needs density/4 hits per prefix level before counting the address, then blocks at density', () => {
    const t = new PikeTree(30, 120);
    const a = ip('192.0.2.50');
    const r: number[] = [];
    for (let i = 0; i < 40; i++) r.push(t.check(a, 0));
    // Hits 1-9 build the prefix nodes 192 / 0 / 2 / 50 (7 hits make a prefix hot); hits 10-38 count 29 leaf hits.
    expect(r.slice(0, 38).every((x) => x === 1)).toBe(true);
    expect(r[38]).toBe(-2);
    expect(r[39]).toBe(-1);
    expect(t.size()).toBe(4);
    // Another address under the hot prefixes starts counting at once but is not blocked.
    expect(t.check(ip('192.0.2.51'), 0)).toBe(1);
  });

  it('stays blocked while the previous unit was hot, unblocks after a quiet unit', () => {
    const t = new PikeTree(8, 120);
    const a = ip('198.51.100.7');
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) codes.push(t.check(a, 0));
    expect(codes).toContain(-2);
    t.swap();
    expect(t.check(a, 0)).toBe(-1); // previous unit >= density: still red
    t.swap();
    expect(t.check(a, 0)).toBe(1); // quiet unit: unblocked
    // The average of two units also counts: 5 + 5 hits with density 8 is not hot, 8 + 8 is.
    const b = ip('198.51.100.8');
    for (let i = 0; i < 8; i++) t.check(b, 0);
    t.swap();
    let blocked = 0;
    for (let i = 0; i < 8; i++) if (t.check(b, 0) < 0) blocked++;
    expect(blocked).toBeGreaterThan(0);
  });

  it('forgets addresses unseen for remove_latency, leaves first', () => {
    const t = new PikeTree(8, 10);
    const a = ip('203.0.113.9');
    for (let i = 0; i < 12; i++) t.check(a, 100);
    expect(t.size()).toBe(4);
    t.clean(105);
    expect(t.size()).toBe(4);
    t.clean(111);
    expect(t.size()).toBe(3);
    t.clean(122);
    t.clean(133);
    t.clean(144);
    expect(t.size()).toBe(0);
  });

  it('handles IPv6 (16 bytes) and rejects what is no address', () => {
    expect(ipBytes('2001:db8::1')!.length).toBe(16);
    expect([...ipBytes('::ffff:1.2.3.4')!.slice(10)]).toEqual([0xff, 0xff, 1, 2, 3, 4]);
    const t = new PikeTree(4, 120);
    const v6 = ip('2001:db8::1');
    const r = Array.from({ length: 40 }, () => t.check(v6, 0));
    expect(r).toContain(-2);
    expect(ipBytes('not-an-ip')).toBeNull();
  });

  it('KSR.pike.pike_check_req / pike_check_ip with modparams', async () => {
    loaded = await loadModule(pike, testEnv({ params: { sampling_time_unit: 2, reqs_density_per_unit: 4, remove_latency: 120 }, allParams: {}, state: new MemoryStore(), proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
    const { ctx } = context();
    const r = Array.from({ length: 12 }, () => call(pike, 'pike_check_req', ctx));
    expect(r).toContain(-2);
    expect(r[r.length - 1]).toBe(-1);
    expect(call(pike, 'pike_check_ip', ctx, '192.0.2.77')).toBe(1);
    expect(call(pike, 'pike_check_ip', ctx, '')).toBe(-1);
    expect(call(pike, 'pike_check_ip', ctx, 'bogus')).toBe(-1);
  });
});
