/**
 * The lookup our UDP sockets give dgram: IP literals answered in the same call, everything else
 * left to dns.lookup (here a recording stand-in), and a real socket that sends through it.
 */
import { createSocket, type SocketOptions } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { literalLookup } from '../../src/transport/literal-lookup.js';

describe('literal lookup for UDP sends', () => {
  it('takes a dotted quad as inet_pton reads one for a literal, and nothing else', () => {
    const resolved: string[] = [];
    const lookup = literalLookup((host, _family, cb) => {
      resolved.push(host);
      cb(null, '192.0.2.7', 4);
    });
    const literal = (a: string): boolean => {
      const before = resolved.length;
      lookup(a, 4, () => undefined);
      return resolved.length === before;
    };
    for (const a of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '10.0.20.3', '192.168.1.100']) expect(literal(a), a).toBe(true);
    for (const a of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1..2.3', '.1.2.3', '1.2.3.', 'a.b.c.d', '1.2.3.4 ', 'localhost', '', '1.2.3.4a'])
      expect(literal(a), a).toBe(false);
  });

  it('answers a literal before it returns and hands anything else to the resolver', () => {
    const asked: [string, unknown][] = [];
    const lookup = literalLookup((host, family, cb) => {
      asked.push([host, family]);
      cb(null, '192.0.2.7', 4);
    });
    const answers: [string, number][] = [];
    const cb = (err: Error | null, address: string, family: number): void => {
      expect(err).toBeNull();
      answers.push([address, family]);
    };
    lookup('127.0.0.1', 4, cb);
    lookup('2001:db8::1', 6, cb);
    lookup('::ffff:10.0.0.1', 6, cb);
    expect(answers).toEqual([['127.0.0.1', 4], ['2001:db8::1', 6], ['::ffff:10.0.0.1', 6]]);
    expect(asked).toEqual([]);
    // Not literals (or not in the form libuv reads): dns.lookup's answer, as before.
    for (const host of ['sip.example.com', '01.2.3.4', '1.2.3', '[::1]', 'fe80::zz']) lookup(host, 4, cb);
    expect(asked.map((a) => a[0])).toEqual(['sip.example.com', '01.2.3.4', '1.2.3', '[::1]', 'fe80::zz']);
    expect(asked.every((a) => a[1] === 4)).toBe(true);
  });

  it('carries datagrams on a real socket, and a failed lookup reaches the send callback', async () => {
    const rx = createSocket('udp4');
    const lookup = literalLookup((_host, _family, cb) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }), '', 0));
    const tx = createSocket({ type: 'udp4', lookup: lookup as NonNullable<SocketOptions['lookup']> });
    try {
      const port = await new Promise<number>((r) => rx.bind(0, '127.0.0.1', () => r(rx.address().port)));
      await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
      const got: string[] = [];
      const all = new Promise<void>((r) => rx.on('message', (m) => got.push(m.toString()) === 3 && r()));
      for (const m of ['one', 'two', 'three']) tx.send(Buffer.from(m), port, '127.0.0.1');
      await all;
      expect(got).toEqual(['one', 'two', 'three']);
      const err = await new Promise<Error | null>((r) => tx.send(Buffer.from('x'), port, 'nowhere.invalid', (e) => r(e)));
      expect((err as NodeJS.ErrnoException | null)?.code).toBe('ENOTFOUND');
    } finally {
      rx.close();
      tx.close();
    }
  });
});
