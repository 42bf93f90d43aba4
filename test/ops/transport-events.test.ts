/** kemi_transport_events_total{proto,event}: the transports' counters by protocol, from /metrics. */
import { describe, expect, it } from 'vitest';
import { Metrics, transportEvents } from '../../src/ops/metrics.js';
import type { ProxySource } from '../../src/ops/sources.js';
import { CoreStats } from '../../src/core/stats.js';

describe('kemi_transport_events_total', () => {
  it('labels each counter of byProto with its protocol and a snake_case event; gauges are left out', () => {
    expect(transportEvents({ wss: { handshakeErrors: 3, connectionsOpen: 2, upgradesRefused: 1 }, udp: { received: 5 } })).toEqual([
      [{ proto: 'wss', event: 'handshake_errors' }, 3],
      [{ proto: 'wss', event: 'upgrades_refused' }, 1],
      [{ proto: 'udp', event: 'received' }, 5],
    ]);
  });

  it('is served in the metrics text', async () => {
    const transports = { stats: { udpReceived: 0, udpSent: 0, tcpReceived: 0, tcpSent: 0, framingErrors: 0, sendErrors: 0, connectionsOpen: 0, byProto: { tls: { handshakeErrors: 4 } } } };
    const src = { stats: new CoreStats(), overload: { rejected: 0 }, host: { stats: { reloads: 0, reloadFailures: 0 }, reload: async () => ({ ok: true }) }, transports, scriptPath: 'x.lua', trace: { set: () => undefined, status: () => ({ enabled: false, to: 'off' }) } };
    const text = await new Metrics(src satisfies ProxySource).text();
    expect(text).toMatch(/kemi_transport_events_total\{proto="tls",event="handshake_errors"\} 4/);
  });
});
