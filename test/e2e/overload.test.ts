/**
 * The opt-in overload guard (--overload-lag): after the event loop fell behind (a script that
 * busies the process for 600 ms), a new INVITE gets 503 with Retry-After while requests inside a
 * dialog still go through, and once the hold time has passed new calls are served again. Without
 * the option nothing is refused.
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
  if KSR.kx.get_ruser() == "slow" then
    local t = os.clock()
    while os.clock() - t < 0.6 do end
  end
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
    `Call-ID: overload-${n}@kemi.test`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const status = (r: string | undefined): string => (r ?? '').split('\r\n')[0] ?? '';

async function sequence(extra: string[]): Promise<string[]> {
  const port = await freePort();
  running.push(await startProxy({ script: writeScript(SCRIPT), port, protos: ['udp'], extraArgs: extra }));
  const out: string[] = [];
  out.push(status((await udpRequest(port, req('OPTIONS', 'slow'), 3000)).replies.at(-1)));
  await sleep(30);
  const shed = await udpRequest(port, req('INVITE', 'bob'), 2000);
  out.push(status(shed.replies.at(-1)) + (/\r\nRetry-After: 1\r\n/.test(shed.replies.at(-1) ?? '') ? ' +Retry-After' : ''));
  out.push(status((await udpRequest(port, req('OPTIONS', 'bob', 'dialog1'), 2000)).replies.at(-1)));
  await sleep(1300);
  out.push(status((await udpRequest(port, req('INVITE', 'bob'), 2000)).replies.at(-1)));
  return out;
}

describe('overload guard', () => {
  it('sheds new dialogs with 503 while the loop lags, keeps in-dialog requests, recovers', async () => {
    expect(await sequence(['--overload-lag', '200'])).toEqual([
      'SIP/2.0 200 OK', 'SIP/2.0 503 Service Unavailable +Retry-After', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK',
    ]);
  }, 30_000);

  it('is off by default', async () => {
    expect(await sequence([])).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  }, 30_000);
});
