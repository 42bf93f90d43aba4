/**
 * The overload guard, on by default: a burst of 150 in-dialog requests, each of which busies the
 * script for 20 ms, keeps the proxy's UDP socket full for about 3 s; new INVITEs sent at the end
 * of the burst get 503 with Retry-After while every in-dialog request is answered, and once the
 * socket has drained new calls are served again. `--overload off` never sheds. (Stalls without a
 * backlog, and the controller's numbers, are in test/core/overload.test.ts.)
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startProxy, writeScript, type ProxyHandle } from './harness.js';
import { udpRequest } from './udp-client.js';

let running: ProxyHandle[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

const SCRIPT = `
function ksr_request_route()
  local ms = tonumber(string.match(KSR.kx.get_ruser(), "^slow(%d+)$") or "0")
  local t = os.clock()
  while os.clock() - t < ms / 1000 do end
  KSR.sl.sl_send_reply(200, "OK")
end
`;

let n = 0;
function req(method: string, user: string, lport: number | '$LPORT', toTag = ''): string {
  n++;
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bKovl${n}x${Date.now()}`,
    'Max-Forwards: 70',
    'From: <sip:a@kemi.test>;tag=o1',
    `To: <sip:${user}@kemi.test>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: overload-${n}-${Date.now()}@kemi.test`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BURST = 150;
const INVITES_AT = [130, 133, 136, 139, 142, 145];

/** Sends the burst from one socket; resolves with each request's final status line (by Call-ID), in sending order. */
async function burst(port: number): Promise<{ method: string; status: string }[]> {
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const lport = (sock.address() as { port: number }).port;
  const sent: { method: string; callId: string }[] = [];
  const finals = new Map<string, string>();
  sock.on('message', (m) => {
    const s = m.toString('latin1');
    const callId = /\r\nCall-ID: ([^\r]+)/i.exec(s)?.[1];
    if (callId && Number(/^SIP\/2\.0 (\d{3})/.exec(s)?.[1]) >= 200) finals.set(callId, s);
  });
  for (let i = 0; i < BURST; i++) {
    const invite = INVITES_AT.includes(i);
    const text = invite ? req('INVITE', 'bob', lport) : req('OPTIONS', 'slow20', lport, 'dialog1');
    sent.push({ method: invite ? 'INVITE' : 'OPTIONS', callId: /Call-ID: (\S+)/.exec(text)![1]! });
    sock.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');
  }
  // Bounded: 150 x 20 ms of script time, slower on a loaded box.
  for (let i = 0; i < 600 && finals.size < BURST; i++) await sleep(50);
  sock.close();
  return sent.map((s) => {
    const r = finals.get(s.callId) ?? '';
    return { method: s.method, status: (r.split('\r\n')[0] ?? '') + (/\r\nRetry-After: 1\r\n/.test(r) ? ' +Retry-After' : '') };
  });
}

async function run(extra: string[]): Promise<{ options: string[]; invites: string[]; after: string }> {
  const port = await freePort();
  running.push(await startProxy({ script: writeScript(SCRIPT), port, protos: ['udp'], extraArgs: extra, overloadDefault: true }));
  const out = await burst(port);
  await sleep(3500);
  const after = (await udpRequest(port, req('INVITE', 'bob', '$LPORT'), 3000)).replies.at(-1)?.split('\r\n')[0] ?? '';
  return {
    options: [...new Set(out.filter((o) => o.method === 'OPTIONS').map((o) => o.status))],
    invites: out.filter((o) => o.method === 'INVITE').map((o) => o.status),
    after,
  };
}

describe('overload guard', () => {
  it('is on by default: with the UDP backlog full for 500 ms, new dialogs get 503 + Retry-After, in-dialog requests go on, then it recovers', async () => {
    const r = await run([]);
    expect(r.options).toEqual(['SIP/2.0 200 OK']);
    expect(r.invites).toContain('SIP/2.0 503 Service Unavailable +Retry-After');
    expect(r.invites.every((s) => s === 'SIP/2.0 200 OK' || s === 'SIP/2.0 503 Service Unavailable +Retry-After')).toBe(true);
    expect(r.after).toBe('SIP/2.0 200 OK');
  }, 60_000);

  it('never sheds with --overload off', async () => {
    const r = await run(['--overload', 'off']);
    expect(r).toEqual({ options: ['SIP/2.0 200 OK'], invites: INVITES_AT.map(() => 'SIP/2.0 200 OK'), after: 'SIP/2.0 200 OK' });
  }, 60_000);
});
