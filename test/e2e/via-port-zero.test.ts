/**
 * Found by bench/fuzz.ts (issue 17): a request whose top Via names port 0 (`host:0`, no rport)
 * made KSR.sl.sl_send_reply and KSR.sanity.sanity_check raise a Lua error ("Port should be > 0"),
 * so the script failed. Kamailio 5.6.3 reads port 0 as no port and answers at 5060 (checked on its
 * wire output); so does kemi-proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { REPO, startProxy, type ProxyHandle } from './harness.js';

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'] });
});
afterAll(async () => {
  await proxy?.stop();
});

describe('a Via with port 0', () => {
  it('is answered at 5060 without a script error (tests run in their own network namespace, where 5060 is free)', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(5060, '127.0.0.1', () => r()));
    const got = new Promise<string>((res) => {
      const t = setTimeout(() => res(''), 1500);
      s.once('message', (m) => {
        clearTimeout(t);
        res(m.toString('latin1'));
      });
    });
    const sender = createSocket('udp4');
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
    sender.send(`OPTIONS sip:127.0.0.1:${proxy.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bKport0\r\nMax-Forwards: 70\r\n` +
      `From: <sip:a@kemi.test>;tag=p0\r\nTo: <sip:127.0.0.1:${proxy.port}>\r\nCall-ID: port0@kemi.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, proxy.port, '127.0.0.1');
    const reply = await got;
    sender.close();
    s.close();
    expect(reply.split('\r\n')[0]).toBe('SIP/2.0 200 Keepalive');
    expect(proxy.output()).not.toMatch(/script error|Port should be/);
  });
});
