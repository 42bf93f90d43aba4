import { describe, expect, it } from 'vitest';
import { SlotMap } from '../../src/lib/slot-map.js';

describe('SlotMap', () => {
  it('maps keys to values like a Map, reusing emptied slots', () => {
    const m = new SlotMap<{ n: number }>();
    const a = { n: 1 };
    const b = { n: 2 };
    m.set('a', a).set('b', b);
    expect(m.size).toBe(2);
    expect(m.get('a')).toBe(a);
    expect(m.has('b')).toBe(true);
    m.set('a', b);
    expect(m.get('a')).toBe(b);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    expect(m.get('a')).toBeUndefined();
    expect(m.size).toBe(1);
    const c = { n: 3 };
    m.set('c', c);
    expect([...m.values()]).toEqual([b, c]);
    m.clear();
    expect(m.size).toBe(0);
    expect([...m.values()]).toEqual([]);
  });

  it('lets go of a deleted value: its slot no longer points at it', () => {
    const m = new SlotMap<object>();
    for (let i = 0; i < 100; i++) m.set(`k${i}`, { i });
    for (let i = 0; i < 100; i++) m.delete(`k${i}`);
    // The slots array is the only place values are kept besides the caller.
    const slots = (m as unknown as { slots: unknown[] }).slots;
    expect(slots.every((v) => v === undefined)).toBe(true);
    m.set('again', { i: -1 });
    expect(slots.filter((v) => v !== undefined)).toHaveLength(1);
  });
});
