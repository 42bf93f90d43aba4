/**
 * How `--workers` binds UDP (src/ops/cluster.ts): its own socket per worker with SO_REUSEPORT
 * where dgram has reusePort (Node 22.12, 23.1), with SO_REUSEADDR on older Node, the shared handle
 * where neither keeps a call in order (not Linux, a listen port 0) or when the override says so.
 */
import { describe, expect, it } from 'vitest';
import { hasUdpReusePort, udpBindMode } from '../../src/ops/cluster.js';

const fixed = { listen: ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'] };

describe('workers: UDP bind mode', () => {
  it('reusePort from Node 22.12 and 23.1, on Linux', () => {
    for (const v of ['20.19.0', '22.11.0', '23.0.0']) expect(hasUdpReusePort(v, 'linux'), v).toBe(false);
    for (const v of ['22.12.0', '23.1.0', '24.21.0', '25.0.0']) expect(hasUdpReusePort(v, 'linux'), v).toBe(true);
    expect(hasUdpReusePort('24.21.0', 'darwin')).toBe(false);
  });

  it('SO_REUSEPORT on Node 24, SO_REUSEADDR with a warning on Node 20', () => {
    expect(udpBindMode(fixed, '24.21.0', 'linux', undefined)).toEqual({ mode: 'reuseport' });
    const old = udpBindMode(fixed, '20.19.0', 'linux', undefined);
    expect(old.mode).toBe('reuseaddr');
    expect(old.why).toMatch(/Node 20\.19\.0 has no dgram reusePort \(Node >= 22\.12\)/);
  });

  it('the shared handle off Linux, with a listen port 0, or when asked', () => {
    expect(udpBindMode(fixed, '24.21.0', 'darwin', undefined).mode).toBe('shared');
    const any = udpBindMode({ listen: ['udp:127.0.0.1:0'] }, '24.21.0', 'linux', undefined);
    expect(any.mode).toBe('shared');
    expect(any.why).toMatch(/udp:127\.0\.0\.1:0/);
    // A TCP port 0 does not matter: the primary hands out TCP connections either way.
    expect(udpBindMode({ listen: ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:0'] }, '24.21.0', 'linux', undefined).mode).toBe('reuseport');
    expect(udpBindMode(fixed, '24.21.0', 'linux', 'shared')).toEqual({ mode: 'shared', why: 'KEMI_WORKERS_UDP=shared' });
    expect(udpBindMode(fixed, '20.19.0', 'linux', 'bogus').mode).toBe('reuseaddr');
  });
});
