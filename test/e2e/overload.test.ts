/**
 * The overload guard, on by default: after the event loop was saturated for 3 s (eight requests to
 * a script that busies the process for 400 ms each), a new INVITE gets 503 with Retry-After while a
 * request inside a dialog still goes through, and once the loop has idled new calls are served
 * again; `--overload off` never sheds. (That a stall shorter than 1 s sheds nothing is in
 * test/core/overload.test.ts: here a loaded box could stretch a CPU-time stall past 1 s.)
 */
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
function req(method: string, user: string, toTag = ''): string {
  n++;
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKovl${n}x${Date.now()}`,
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
const status = (r: string | undefined): string => (r ?? '').split('\r\n')[0] ?? '';

/** Busies the proxy (`stalls` requests of `ms` each, sent together), then: new INVITE, in-dialog OPTIONS, pause, new INVITE. */
async function sequence(extra: string[], stalls: number, ms: number): Promise<string[]> {
  const port = await freePort();
  running.push(await startProxy({ script: writeScript(SCRIPT), port, protos: ['udp'], extraArgs: extra }));
  const out: string[] = [];
  const slow = await Promise.all(Array.from({ length: stalls }, () => udpRequest(port, req('OPTIONS', `slow${ms}`), stalls * ms + 5000)));
  out.push([...new Set(slow.map((x) => status(x.replies.at(-1))))].join(','));
  const shed = await udpRequest(port, req('INVITE', 'bob'), 2000);
  out.push(status(shed.replies.at(-1)) + (/\r\nRetry-After: 1\r\n/.test(shed.replies.at(-1) ?? '') ? ' +Retry-After' : ''));
  out.push(status((await udpRequest(port, req('OPTIONS', 'bob', 'dialog1'), 2000)).replies.at(-1)));
  await sleep(2000);
  out.push(status((await udpRequest(port, req('INVITE', 'bob'), 2000)).replies.at(-1)));
  return out;
}

describe('overload guard', () => {
  it('is on by default: sheds new dialogs with 503 after 3 s saturated, keeps in-dialog requests, recovers', async () => {
    expect(await sequence([], 8, 400)).toEqual([
      'SIP/2.0 200 OK', 'SIP/2.0 503 Service Unavailable +Retry-After', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK',
    ]);
  }, 40_000);

  it('never sheds with --overload off', async () => {
    expect(await sequence(['--overload', 'off'], 8, 400)).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  }, 40_000);
});
