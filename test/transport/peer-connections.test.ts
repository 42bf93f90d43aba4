/**
 * With workers, the transports consult the other workers' connections (PeerConnections): a send
 * that no connection of this process carries is handed to the worker holding one; one that a
 * local connection carries stays here; connection ids carry the worker's index; opening and
 * closing are announced, and what other workers hand over is sent here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { TransportManager } from '../../src/transport/manager.js';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { parseListen, type ConnInfo, type PeerConnections, type Proto, type SendTarget, type TlsConnInfo } from '../../src/transport/types.js';
import { makeCerts } from './tls-certs.js';

type Here = Parameters<PeerConnections['serve']>[0];

/** A fake directory: `elsewhere` says which worker holds which peer port. */
function fakePeers(elsewhere: Map<number, number>, wsElsewhere = new Set<number>()): PeerConnections & { handed: { worker: number; t: SendTarget; data: string }[]; events: string[]; here: Here | null } {
  const self = {
    handed: [] as { worker: number; t: SendTarget; data: string }[],
    events: [] as string[],
    here: null as Here | null,
    holder: (t: SendTarget) => elsewhere.get(t.port),
    handOver: (worker: number, t: SendTarget, data: Buffer) => (self.handed.push({ worker, t, data: data.toString() }), true),
    connInfo: (id: number): ConnInfo | undefined => (id === 7 ? { proto: 'tls', tls: { verified: false, verifyError: null, version: 'TLSv1.3', cipher: null, peerCert: null, localCert: null, serverName: null } } : undefined),
    closeHeld: (connId: number, status: number, reason: string) => (self.events.push(`close-ws ${connId} ${status} ${reason}`), wsElsewhere.has(connId)),
    opened: (proto: Proto, id: number, address: string, port: number, tls?: TlsConnInfo) => void self.events.push(`open ${proto} ${id} ${address}:${port}${tls ? ` ${tls.version} ${String(tls.localCert?.subject?.CN)}` : ''}`),
    closed: (proto: Proto, id: number, address: string, port: number) => void self.events.push(`close ${proto} ${id} ${address}:${port}`),
    serve: (here: Here) => void (self.here = here),
  };
  return self;
}

let managers: TransportManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});

describe('transports with other workers', () => {
  it('hand a send to the worker holding the peer, keep a send a local connection carries, and number connections per worker', async () => {
    const peers = fakePeers(new Map([[40001, 1]]));
    const closedHere: string[] = [];
    const tm = new TransportManager({ onMessage: () => undefined, peers, connIds: { first: 0, step: 2 }, onConnClosed: (p, id) => closedHere.push(`${p} ${id}`) });
    managers.push(tm);
    await tm.listen([parseListen('tcp:127.0.0.1:0')]);
    const port = tm.sockets()[0]!.port;

    // Another worker holds a WebSocket client at 127.0.0.1:40001.
    expect(tm.send({ proto: 'ws', address: '127.0.0.1', port: 40001 }, Buffer.from('to-ws'))).toBe(true);
    expect(peers.handed).toEqual([{ worker: 1, t: { proto: 'ws', address: '127.0.0.1', port: 40001 }, data: 'to-ws' }]);

    // A TCP client of ours: its connection id is 0 + 2n, announced; a send to it stays here.
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const clientPort = sock.localPort!;
    const got: string[] = [];
    sock.on('data', (d) => got.push(d.toString()));
    for (let i = 0; i < 100 && peers.events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peers.events).toEqual([`open tcp 2 127.0.0.1:${clientPort}`]);
    expect(tm.send({ proto: 'tcp', address: '127.0.0.1', port: clientPort }, Buffer.from('local'))).toBe(true);
    // What another worker hands over for our client is written on its connection.
    expect(peers.here!.send({ proto: 'tcp', address: '127.0.0.1', port: clientPort, noConnect: true }, Buffer.from('+handed'))).toBe(true);
    for (let i = 0; i < 100 && got.join('') !== 'local+handed'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got.join('')).toBe('local+handed');
    expect(peers.handed).toHaveLength(1);

    // Another worker's connection closed: tm learns it as for ours; ours closing is announced.
    peers.here!.closed('ws', 5, '127.0.0.1', 40001);
    sock.destroy();
    for (let i = 0; i < 100 && peers.events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peers.events[1]).toBe(`close tcp 2 127.0.0.1:${clientPort}`);
    expect(closedHere).toEqual(['ws 5', 'tcp 2']);
  });

  it('close a WebSocket connection another worker holds by handing the close over; an unknown id is -1 for the script', async () => {
    const peers = fakePeers(new Map(), new Set([7]));
    const tm = new TransportManager({ onMessage: () => undefined, peers, connIds: { first: 0, step: 2 } });
    managers.push(tm);
    await tm.listen([parseListen('ws:127.0.0.1:0')]);
    expect(tm.closeWebSocket(7, 1001, 'going away')).toBe(true);
    expect(tm.closeWebSocket(9, 1000, '')).toBe(false);
    expect(peers.events).toEqual(['close-ws 7 1001 going away', 'close-ws 9 1000 ']);
    // What another worker hands over for a connection this worker does not have closes nothing.
    expect(peers.here!.closeWebSocket(7, 1000, '')).toBe(false);
  });

  it('announce an accepted TLS connection with its TLS facts, and answer $tls_* for another worker\'s connection from its announcement', async () => {
    const certs = makeCerts();
    const peers = fakePeers(new Map());
    const tm = new TransportManager({ onMessage: () => undefined, peers, connIds: { first: 1, step: 2 }, tls: { cert: certs.server.cert, key: certs.server.key } });
    managers.push(tm);
    await tm.listen([parseListen('tls:127.0.0.1:0')]);
    const sock = tlsConnect({ host: '127.0.0.1', port: tm.sockets()[0]!.port, ca: readFileSync(certs.ca), servername: 'kemi.test' });
    await new Promise<void>((r, j) => (sock.once('secureConnect', () => r()), sock.once('error', j)));
    for (let i = 0; i < 100 && peers.events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const clientPort = sock.localPort;
    sock.destroy();
    expect(peers.events).toEqual([`open tls 3 127.0.0.1:${clientPort} TLSv1.3 kemi.test`]);
    expect(tm.connInfo(7)?.tls?.version).toBe('TLSv1.3');
    expect(tm.connInfo(9)).toBeUndefined();
  });
});
