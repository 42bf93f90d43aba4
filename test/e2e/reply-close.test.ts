/**
 * set_reply_close over TCP, end to end: a local reply to a request whose script called
 * KSR.set_reply_close() closes the connection after it is written; without it the connection
 * stays open for the next request (RFC 3261 18 connection reuse).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startProxy, writeScript, type ProxyHandle } from './harness.js';

const SCRIPT = `
function ksr_request_route()
  if KSR.kx.get_ruser() == "close" then KSR.set_reply_close() end
  KSR.sl.sl_send_reply(200, "OK")
end
`;

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy({ script: writeScript(SCRIPT), protos: ['tcp'] });
});
afterAll(async () => {
  await proxy?.stop();
});

function options(user: string, n: number): string {
  return [
    `OPTIONS sip:${user}@127.0.0.1:${proxy.port} SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKclose${user}${n}`,
    'Max-Forwards: 70',
    'From: <sip:a@kemi.test>;tag=c1',
    `To: <sip:${user}@kemi.test>`,
    `Call-ID: close-${user}-${n}@kemi.test`,
    `CSeq: ${n} OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends one request on a new connection; resolves with the reply and whether the proxy closed it. */
function exchange(user: string): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect(proxy.port, '127.0.0.1');
    let reply = '';
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ reply, closed });
    }, 800);
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('end', () => {
      closed = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ reply, closed });
    });
    sock.on('error', reject);
    sock.on('connect', () => sock.write(options(user, 1)));
  });
}

describe('set_reply_close', () => {
  it('closes the TCP connection after the reply only when the script asked for it', async () => {
    const closing = await exchange('close');
    expect(closing.reply.startsWith('SIP/2.0 200 OK')).toBe(true);
    expect(closing.closed).toBe(true);
    const keeping = await exchange('keep');
    expect(keeping.reply.startsWith('SIP/2.0 200 OK')).toBe(true);
    expect(keeping.closed).toBe(false);
  }, 20_000);
});
