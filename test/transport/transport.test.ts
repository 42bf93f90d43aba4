/**
 * Transports on loopback: real datagrams and TCP streams through TransportManager (framing across
 * writes, keep-alives, garbage closing one connection only, replies on the request's connection,
 * IPv6), and RFC 3263 resolution against a fake DNS.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import type { ReceiveInfo } from '../../src/context/msg-context.js';
import { TransportManager } from '../../src/transport/manager.js';
import { SipResolver, type DnsBackend } from '../../src/transport/dns.js';
import { parseListen } from '../../src/transport/types.js';

const MSG = (n: number, body = ''): string =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK${n}\r\nCall-ID: c${n}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

let managers: TransportManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.close()));
  managers = [];
});

async function start(specs: string[], max?: number): Promise<{ tm: TransportManager; got: { data: string; rcv: ReceiveInfo }[] }> {
  const got: { data: string; rcv: ReceiveInfo }[] = [];
  const tm = new TransportManager({ onMessage: (d, rcv) => got.push({ data: d.toString('latin1'), rcv }), maxMessageSize: max });
  await tm.listen(specs.map(parseListen));
  managers.push(tm);
  return { tm, got };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

function tcpClient(port: number, host = '127.0.0.1'): Promise<{ sock: Socket; data: () => string; closed: () => boolean }> {
  return new Promise((res) => {
    let data = '';
    let closed = false;
    const sock = connect(port, host, () => res({ sock, data: () => data, closed: () => closed }));
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
  });
}

describe('TransportManager', () => {
  it('receives and sends UDP datagrams, from its own listening port', async () => {
    const { tm, got } = await start(['udp:127.0.0.1:0']);
    const port = tm.sockets()[0]!.port;
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const replies: { data: string; port: number }[] = [];
    client.on('message', (m, r) => replies.push({ data: m.toString(), port: r.port }));
    client.send(MSG(1), port, '127.0.0.1');
    client.send('\r\n\r\n', port, '127.0.0.1'); // keep-alive: ignored
    await until(() => got.length === 1);
    expect(got[0]!.rcv).toMatchObject({ proto: 'udp', srcAddress: '127.0.0.1', srcPort: client.address().port, localPort: port });
    expect(tm.send({ proto: 'udp', address: '127.0.0.1', port: client.address().port }, Buffer.from('pong'))).toBe(true);
    await until(() => replies.length === 1);
    expect(replies[0]).toEqual({ data: 'pong', port });
    client.close();
  });

  it('counts and reports a UDP send the kernel refuses (a datagram over 64 KiB), and goes on sending', async () => {
    const errors: string[] = [];
    const tm = new TransportManager({ onMessage: () => undefined, onError: (e, where) => errors.push(`${where}: ${e.message}`) });
    await tm.listen([parseListen('udp:127.0.0.1:0')]);
    managers.push(tm);
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const got: string[] = [];
    client.on('message', (m) => got.push(m.toString()));
    const to = { proto: 'udp' as const, address: '127.0.0.1', port: client.address().port };
    tm.send(to, Buffer.alloc(70000));
    tm.send(to, Buffer.from('after'));
    await until(() => errors.length === 1 && got.length === 1);
    expect(tm.stats.sendErrors).toBe(1);
    expect(errors[0]).toMatch(/EMSGSIZE 127\.0\.0\.1:\d+/);
    expect(got).toEqual(['after']);
    client.close();
  });

  it('frames TCP streams split across writes and several messages per write, answers CRLF pings', async () => {
    const { tm, got } = await start(['tcp:127.0.0.1:0']);
    const port = tm.sockets()[0]!.port;
    const c = await tcpClient(port);
    const two = MSG(1, 'abc') + MSG(2);
    c.sock.write(two.slice(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write(two.slice(10, 90));
    c.sock.write(two.slice(90) + '\r\n\r\n' + MSG(3).slice(0, 30));
    await until(() => got.length === 2);
    expect(got.map((g) => g.data)).toEqual([MSG(1, 'abc'), MSG(2)]);
    await until(() => c.data() === '\r\n');
    c.sock.write(MSG(3).slice(30));
    await until(() => got.length === 3);
    // A reply goes back on the connection the request came on.
    expect(tm.send({ proto: 'tcp', address: '127.0.0.1', port: got[2]!.rcv.srcPort, connId: got[2]!.rcv.connId }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'))).toBe(true);
    await until(() => c.data().includes('200 OK'));
    c.sock.destroy();
  });

  it('closes only the connection that sends garbage or an oversize message', async () => {
    const { tm, got } = await start(['tcp:127.0.0.1:0'], 2000);
    const port = tm.sockets()[0]!.port;
    const good = await tcpClient(port);
    const bad = await tcpClient(port);
    const big = await tcpClient(port);
    bad.sock.write('this is not SIP at all\r\n\r\n');
    big.sock.write(MSG(9, 'x'.repeat(5000)));
    await until(() => bad.closed() && big.closed());
    good.sock.write(MSG(4));
    await until(() => got.length === 1);
    expect(good.closed()).toBe(false);
    expect(tm.stats.framingErrors).toBe(2);
    good.sock.destroy();
  });

  it('opens a TCP connection for a request to a new peer and reuses it', async () => {
    const a = await start(['tcp:127.0.0.1:0']);
    const b = await start(['tcp:127.0.0.1:0']);
    const bport = b.tm.sockets()[0]!.port;
    a.tm.send({ proto: 'tcp', address: '127.0.0.1', port: bport }, Buffer.from(MSG(1)));
    a.tm.send({ proto: 'tcp', address: '127.0.0.1', port: bport }, Buffer.from(MSG(2)));
    await until(() => b.got.length === 2);
    expect(a.tm.stats.connectionsOpened).toBe(1);
    expect(b.got[0]!.rcv.connId).toBe(b.got[1]!.rcv.connId);
    expect(a.tm.send({ proto: 'tcp', address: '127.0.0.1', port: 9, noConnect: true }, Buffer.from('x'))).toBe(false);
  });

  it('listens and receives on IPv6 loopback', async () => {
    const { tm, got } = await start(['udp:[::1]:0']);
    const s = tm.sockets()[0]!;
    expect(s).toMatchObject({ family: 6, address: '::1' });
    const client = createSocket('udp6');
    client.send(MSG(5), s.port, '::1');
    await until(() => got.length === 1);
    expect(got[0]!.rcv).toMatchObject({ srcAddress: '::1', family: 6 });
    client.close();
  });
});

describe('SipResolver (RFC 3263)', () => {
  const fake = (calls: string[]): DnsBackend => ({
    resolve4: async (h) => {
      calls.push(`A ${h}`);
      if (h === 'sip1.example.com') return [{ address: '192.0.2.1', ttl: 300 }];
      if (h === 'sip2.example.com') return [{ address: '192.0.2.2', ttl: 300 }];
      if (h === 'plain.example.com') return [{ address: '192.0.2.9', ttl: 300 }];
      throw new Error('ENOTFOUND');
    },
    resolve6: async () => {
      throw new Error('ENODATA');
    },
    resolveSrv: async (n) => {
      calls.push(`SRV ${n}`);
      if (n === '_sip._tcp.example.com') return [{ name: 'sip2.example.com', port: 5070, priority: 20, weight: 0 }, { name: 'sip1.example.com', port: 5080, priority: 10, weight: 0 }];
      throw new Error('ENOTFOUND');
    },
    resolveNaptr: async (n) => {
      calls.push(`NAPTR ${n}`);
      if (n === 'example.com') return [{ flags: 's', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.example.com', order: 10, preference: 10 }];
      throw new Error('ENOTFOUND');
    },
    lookup: async () => [],
  });

  it('resolves IP literals synchronously, without DNS', () => {
    const calls: string[] = [];
    const r = new SipResolver(fake(calls));
    expect(r.resolve({ host: '192.0.2.7', port: 5070 })).toEqual([{ proto: 'udp', address: '192.0.2.7', port: 5070 }]);
    expect(r.resolve({ host: '[2001:db8::1]', transport: 'tcp' })).toEqual([{ proto: 'tcp', address: '2001:db8::1', port: 5060 }]);
    expect(calls).toEqual([]);
  });

  it('follows NAPTR then SRV by priority, and caches', async () => {
    const calls: string[] = [];
    const r = new SipResolver(fake(calls));
    const t = await r.resolve({ host: 'example.com' });
    expect(t).toEqual([{ proto: 'tcp', address: '192.0.2.1', port: 5080 }, { proto: 'tcp', address: '192.0.2.2', port: 5070 }]);
    const again = r.resolve({ host: 'example.com' });
    expect(again).toEqual(t);
    expect(calls.filter((c) => c.startsWith('NAPTR'))).toHaveLength(1);
  });

  it('uses A records when a port is given and falls back to them without SRV', async () => {
    const calls: string[] = [];
    const r = new SipResolver(fake(calls));
    expect(await r.resolve({ host: 'plain.example.com', port: 5090 })).toEqual([{ proto: 'udp', address: '192.0.2.9', port: 5090 }]);
    expect(await r.resolve({ host: 'plain.example.com' })).toEqual([{ proto: 'udp', address: '192.0.2.9', port: 5060 }]);
  });

  it('resolves localhost through the system resolver', async () => {
    const t = await new SipResolver().resolve({ host: 'localhost', port: 5060 });
    expect(t.some((x) => x.address === '127.0.0.1' || x.address === '::1')).toBe(true);
  });
});
