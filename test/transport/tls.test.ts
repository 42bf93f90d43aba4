/**
 * TLS transport on loopback through TransportManager, with certificates made by openssl at test
 * time: receiving and answering on the connection, client certificate policies, the connection's
 * facts for $tls_*, non-TLS bytes and failed handshakes (closed, counted, others unaffected),
 * outgoing TLS with the server's name verified and the connection reused, SNI, and reloading.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ReceiveInfo } from '../../src/transport/types.js';
import { TransportManager } from '../../src/transport/manager.js';
import type { TlsSettings } from '../../src/transport/settings.js';
import { parseListen } from '../../src/transport/types.js';
import { issue, makeCerts, type TestCerts } from './tls-certs.js';

const MSG = (n: number): string =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bK${n}\r\nCall-ID: c${n}\r\nContent-Length: 0\r\n\r\n`;

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
let managers: TransportManager[] = [];
const socks: TLSSocket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});
afterAll(() => undefined);

interface Started {
  tm: TransportManager;
  got: { data: string; rcv: ReceiveInfo }[];
  errors: string[];
  port: number;
}
async function start(tls: TlsSettings, tcp = {}): Promise<Started> {
  const got: Started['got'] = [];
  const errors: string[] = [];
  const tm = new TransportManager({ onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }), onError: (e, w) => errors.push(`${w}: ${e.message}`), tls, tcp });
  await tm.listen([parseListen('tls:127.0.0.1:0')]);
  managers.push(tm);
  return { tm, got, errors, port: tm.sockets()[0]!.port };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

interface Client {
  sock: TLSSocket;
  data: () => string;
  closed: () => boolean;
  error: () => Error | undefined;
}
function client(port: number, opts: { cert?: { cert: string; key: string }; servername?: string; ca?: string } = {}): Promise<Client> {
  return new Promise((res) => {
    let data = '';
    let closed = false;
    let error: Error | undefined;
    const sock = tlsConnect({
      host: '127.0.0.1', port, ca: readFileSync(opts.ca ?? certs.ca), ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.cert ? { cert: readFileSync(opts.cert.cert), key: readFileSync(opts.cert.key) } : {}),
    });
    socks.push(sock);
    const c = { sock, data: () => data, closed: () => closed, error: () => error };
    sock.on('secureConnect', () => res(c));
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('close', () => {
      closed = true;
      res(c);
    });
    sock.on('error', (e) => (error = e));
  });
}

const base = (): TlsSettings => ({ cert: certs.server.cert, key: certs.server.key, ca: certs.ca });

describe('TLS transport', () => {
  it('receives over TLS, answers on the same connection, and tells the connection facts', async () => {
    const { tm, got, port } = await start(base());
    const c = await client(port);
    expect(c.sock.authorized).toBe(true); // our CA vouches for the server cert for 127.0.0.1
    c.sock.write(MSG(1));
    await until(() => got.length === 1);
    const rcv = got[0]!.rcv;
    expect(rcv).toMatchObject({ proto: 'tls', srcAddress: '127.0.0.1', localPort: port });
    expect(tm.send({ proto: 'tls', address: '127.0.0.1', port: rcv.srcPort, connId: rcv.connId }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'))).toBe(true);
    await until(() => c.data().includes('200 OK'));
    const info = tm.connInfo(rcv.connId!)!;
    expect(info.proto).toBe('tls');
    expect(info.tls).toMatchObject({ verified: false, version: expect.stringMatching(/^TLSv1\.[23]$/), peerCert: null });
    expect(info.tls!.localCert!.subject.CN).toBe('kemi.test');
    expect(info.tls!.cipher!.bits).toBeGreaterThan(0);
  });

  it('clientCert require: a client without a certificate fails the handshake, one with our CA\'s passes and is verified', async () => {
    const { tm, got, port } = await start({ ...base(), clientCert: 'require' });
    const anon = await client(port);
    await until(() => anon.closed());
    const alice = await client(port, { cert: certs.client });
    alice.sock.write(MSG(2));
    await until(() => got.length === 1);
    const info = tm.connInfo(got[0]!.rcv.connId!)!.tls!;
    expect(info.verified).toBe(true);
    expect(info.peerCert!.subject.CN).toBe('alice.kemi.test');
    expect(tm.stats.handshakeErrors).toBeGreaterThanOrEqual(1);
  });

  it('clientCert request: a certificate no CA vouches for is accepted but not verified', async () => {
    const { tm, got, port } = await start({ ...base(), clientCert: 'request' });
    const rogue = await client(port, { cert: certs.rogue });
    rogue.sock.write(MSG(3));
    await until(() => got.length === 1);
    const info = tm.connInfo(got[0]!.rcv.connId!)!.tls!;
    expect(info.verified).toBe(false);
    expect(info.verifyError).toMatch(/SELF_SIGNED|UNABLE/);
    expect(info.peerCert!.subject.CN).toBe('kemi.test');
  });

  it('closes a connection that sends plain bytes to the TLS port, counts it, and serves the others', async () => {
    const { tm, got, port } = await start(base());
    const good = await client(port);
    const plain = netConnect(port, '127.0.0.1');
    let plainClosed = false;
    plain.on('close', () => (plainClosed = true));
    plain.on('error', () => undefined);
    plain.on('connect', () => plain.write(MSG(4)));
    await until(() => plainClosed);
    expect(tm.stats.handshakeErrors).toBe(1);
    good.sock.write(MSG(5));
    await until(() => got.length === 1);
    expect(good.closed()).toBe(false);
    await until(() => tm.stats.connectionsOpen === 1);
  });

  it('a client that never finishes its handshake is closed by the header timeout', async () => {
    const { tm, port } = await start(base(), { headerTimeout: 0.3 });
    const silent = netConnect(port, '127.0.0.1');
    let closed = false;
    silent.on('close', () => (closed = true));
    silent.on('error', () => undefined);
    await until(() => closed, 2000);
    expect(tm.stats.handshakeErrors).toBe(1);
  });

  it('opens outgoing TLS verifying the server name, reuses the connection, and refuses a wrong name', async () => {
    const b = await start(base());
    const a = await start(base());
    const t = { proto: 'tls' as const, address: '127.0.0.1', port: b.port, serverName: 'kemi.test' };
    expect(a.tm.send(t, Buffer.from(MSG(6)))).toBe(true);
    expect(a.tm.send(t, Buffer.from(MSG(7)))).toBe(true);
    await until(() => b.got.length === 2);
    expect(b.got[0]!.rcv.connId).toBe(b.got[1]!.rcv.connId);
    expect(a.tm.stats.connectionsOpened).toBe(1);

    const c = await start(base());
    expect(c.tm.send({ ...t, serverName: 'wrong.test' }, Buffer.from(MSG(8)))).toBe(true);
    await until(() => c.tm.stats.handshakeErrors === 1);
    expect(c.errors.join('\n')).toMatch(/wrong\.test/);
    expect(b.got).toHaveLength(2);
  });

  it('verifies servers by default: no CA for the server\'s issuer, no connection', async () => {
    const b = await start(base());
    const a = await start({ cert: certs.server.cert, key: certs.server.key });
    a.tm.send({ proto: 'tls', address: '127.0.0.1', port: b.port, serverName: 'kemi.test' }, Buffer.from(MSG(9)));
    await until(() => a.tm.stats.handshakeErrors === 1);
    expect(b.got).toHaveLength(0);
    const lax = await start({ cert: certs.server.cert, key: certs.server.key, verifyServer: false });
    lax.tm.send({ proto: 'tls', address: '127.0.0.1', port: b.port }, Buffer.from(MSG(10)));
    await until(() => b.got.length === 1);
  });

  it('serves the SNI certificate for its name, and the main one otherwise', async () => {
    const { port } = await start({ ...base(), sni: { 'other.test': { cert: certs.other.cert, key: certs.other.key } } });
    const o = await client(port, { servername: 'other.test' });
    expect(o.sock.getPeerCertificate().subject.CN).toBe('other.test');
    const m = await client(port, { servername: 'kemi.test' });
    expect(m.sock.getPeerCertificate().subject.CN).toBe('kemi.test');
  });

  it('reloads certificates from their files for new handshakes, and keeps the old on a bad file', async () => {
    const files = issue(certs.dir, 'reload', 'before.test', 'DNS:before.test,IP:127.0.0.1');
    const { tm, port } = await start({ cert: files.cert, key: files.key, ca: certs.ca });
    const c1 = await client(port);
    expect(c1.sock.getPeerCertificate().subject.CN).toBe('before.test');
    const next = issue(certs.dir, 'reload2', 'after.test', 'DNS:after.test,IP:127.0.0.1');
    copyFileSync(next.cert, files.cert);
    copyFileSync(next.key, files.key);
    expect(tm.reloadCertificates()).toBe(true);
    const c2 = await client(port);
    expect(c2.sock.getPeerCertificate().subject.CN).toBe('after.test');
    // A key that does not match its certificate: refused, the running one stays.
    copyFileSync(certs.other.key, files.key);
    expect(() => tm.reloadCertificates()).toThrow();
    const c3 = await client(port);
    expect(c3.sock.getPeerCertificate().subject.CN).toBe('after.test');
    expect(c1.closed()).toBe(false);
  });

  it('refuses to listen on TLS without a certificate', async () => {
    const tm = new TransportManager({ onMessage: () => undefined });
    managers.push(tm);
    await expect(tm.listen([parseListen('tls:127.0.0.1:0')])).rejects.toThrow(/tls\.cert and tls\.key/);
  });
});
