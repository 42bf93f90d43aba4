/**
 * Bad input on a real socket: every invalid torture request sent to a running kemi-proxy over UDP
 * gets the response code the manifest names (malformed responses get nothing), and the proxy
 * keeps serving other traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { REPO, startProxy, type ProxyHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';

const DIR = fileURLToPath(new URL('../fixtures/sip-torture/', import.meta.url));
interface Entry { name: string; file: string; verdict: string; handling?: { response?: number | string | null; also_acceptable?: number } }
const invalid = (JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as { messages: Entry[] }).messages.filter((e) => e.verdict === 'invalid');

/**
 * Sends raw bytes from the port the message's top Via names (the proxy answers there, RFC 3261
 * 18.2.2: source address, Via port), returns the status of the first reply or 0 when none comes.
 */
function sendRaw(port: number, data: Buffer, ms = 400): Promise<number> {
  const viaPort = Number(/\r\n(?:via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*\w+[ \t]+[^;:\s,]+(?::(\d+))?/i.exec(data.toString('latin1'))?.[1] ?? 5060);
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(0);
    }, ms);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(m.toString('latin1'))?.[1] ?? -1));
    });
    s.bind(viaPort, '127.0.0.1', () => s.send(data, port, '127.0.0.1'));
  });
}

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'] });
});
afterAll(async () => {
  await proxy.stop();
});

describe('malformed messages on a socket', () => {
  for (const e of invalid) {
    it(`${e.name}: answered as the manifest says`, async () => {
      const code = await sendRaw(proxy.port, readFileSync(DIR + e.file));
      const want = e.handling?.response;
      if (want === null) expect(code).toBe(0);
      else if (typeof want === 'number') expect([want, e.handling?.also_acceptable]).toContain(code);
      else expect(code).toBe(400);
    });
  }

  it('keeps serving other traffic and logs each bad message once with a reason', async () => {
    const ok = await udpRequest(proxy.port, request('OPTIONS', `sip:127.0.0.1:${proxy.port}`));
    expect(ok.final).toBe(200);
    const lines = proxy.output().split('\n').filter((l) => l.includes('bad message from'));
    expect(lines.length).toBe(invalid.length);
  });
});
