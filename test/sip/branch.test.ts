import { describe, expect, it } from 'vitest';
import { stableHash, statelessBranch } from '../../src/sip/branch.js';

describe('stateless branches', () => {
  it('repeat for the same request and differ when any input differs', () => {
    const b = statelessBranch('z9hG4bK-1', 'call-1@h', 1, 'sip:a@b', 'udp:127.0.0.1:5060');
    expect(b).toMatch(/^z9hG4bKsl[0-9a-f]{16}$/);
    expect(statelessBranch('z9hG4bK-1', 'call-1@h', 1, 'sip:a@b', 'udp:127.0.0.1:5060')).toBe(b);
    const others = [
      statelessBranch('z9hG4bK-2', 'call-1@h', 1, 'sip:a@b', 'udp:127.0.0.1:5060'),
      statelessBranch('z9hG4bK-1', 'call-2@h', 1, 'sip:a@b', 'udp:127.0.0.1:5060'),
      statelessBranch('z9hG4bK-1', 'call-1@h', 2, 'sip:a@b', 'udp:127.0.0.1:5060'),
      statelessBranch('z9hG4bK-1', 'call-1@h', 1, 'sip:a@c', 'udp:127.0.0.1:5060'),
      statelessBranch('z9hG4bK-1', 'call-1@h', 1, 'sip:a@b', 'udp:127.0.0.1:5061'),
    ];
    expect(new Set([b, ...others]).size).toBe(6);
  });

  it('keep the parts apart: ("ab", "c") is not ("a", "bc")', () => {
    expect(stableHash('ab', 'c')).not.toBe(stableHash('a', 'bc'));
  });

  it('spread: 100,000 Call-IDs give 100,000 different hashes, and both halves vary', () => {
    const all = new Set<string>();
    const low = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const h = stableHash(`z9hG4bK-${i}`, `${i}-4242@127.0.0.1`);
      all.add(h);
      low.add(h.slice(8));
    }
    expect(all.size).toBe(100_000);
    expect(low.size).toBeGreaterThan(99_990);
  });
});
