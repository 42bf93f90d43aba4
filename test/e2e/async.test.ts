/**
 * Async processing on a real proxy: INVITEs wait for a slow local HTTP server (300 ms) through
 * http_async_client and are relayed from the callback to a SIPp UAS, while an OPTIONS answered in
 * the request route gets its 200 long before the HTTP answer; and t_suspend / t_continue with the
 * ids carried in a later MESSAGE.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, startProxy, startSipp, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { udpRequest } from './udp-client.js';

const HTTP_DELAY_MS = 300;

let running: { stop(): Promise<void> }[] = [];
function track<T extends ProxyHandle | SippHandle>(h: T): T {
  running.push(h);
  return h;
}
let server: Server | null = null;
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
});

/** The slow HTTP service: answers "allow" after HTTP_DELAY_MS; counts what it answered. */
async function slowHttp(): Promise<{ url: string; inflight: () => number; served: () => number }> {
  let inflight = 0;
  let served = 0;
  server = createServer((_req, res) => {
    inflight++;
    setTimeout(() => {
      inflight--;
      served++;
      res.end('allow\n');
    }, HTTP_DELAY_MS);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`, inflight: () => inflight, served: () => served };
}

const script = (url: string): string => `
function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  if KSR.siputils.has_totag() > 0 then
    KSR.tm.t_relay()
    return
  end
  if KSR.is_MESSAGE() then
    local rc = KSR.tmx.t_continue(tonumber(KSR.hdr.get("X-Tindex")), tonumber(KSR.hdr.get("X-Tlabel")), "ksr_continued")
    KSR.sl.sl_send_reply(200, "Continue " .. rc)
    return
  end
  if KSR.is_INVITE() and KSR.kx.get_ruser() == "park" then
    KSR.tmx.t_suspend()
    KSR.info("parked " .. KSR.pv.get("$T(id_index)") .. " " .. KSR.pv.get("$T(id_label)") .. "\\n")
    return
  end
  if KSR.is_INVITE() then
    KSR.http_async_client.query("${url}?u=" .. KSR.kx.get_ruser(), "ksr_http_done")
    return
  end
  KSR.tm.t_relay()
end

function ksr_http_done()
  if KSR.pv.get("$http_ok") ~= 1 or KSR.pv.get("$http_rb") ~= "allow\\n" then
    KSR.tm.t_reply(503, "Policy Unavailable")
    return
  end
  if KSR.kx.get_ruser() == "probe" then
    KSR.tm.t_reply(486, "Checked")
    return
  end
  KSR.tm.t_relay()
end

function ksr_continued()
  KSR.tm.t_reply(486, "Continued " .. KSR.kx.get_ruser())
end
`;

let seq = 0;
function req(method: string, user: string, extra = ''): string {
  seq++;
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKasync${seq}x${Date.now()}`,
    'Max-Forwards: 70',
    'From: <sip:a@kemi.test>;tag=as1',
    `To: <sip:${user}@kemi.test>`,
    `Call-ID: async-${seq}-${Date.now()}@kemi.test`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:a@127.0.0.1:$LPORT>',
    extra,
    'Content-Length: 0',
    '',
    '',
  ].filter((l, i, a) => l !== '' || i >= a.length - 2).join('\r\n');
}

const timed = async <T>(p: Promise<T>): Promise<{ v: T; ms: number }> => {
  const t0 = performance.now();
  const v = await p;
  return { v, ms: performance.now() - t0 };
};

describe('http_async_client on a real proxy', () => {
  it('INVITEs wait for the slow HTTP answer and are relayed; OPTIONS is not held back', async () => {
    const http = await slowHttp();
    const proxy = track(await startProxy({ script: writeScript(script(http.url)), protos: ['udp'], modules: [...DEFAULT_MODULES, 'http_async_client'] }));
    const uasPort = await freePort();
    track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 30 }));

    // One INVITE answered by the callback, an OPTIONS sent while its HTTP query is in flight.
    const invite = timed(udpRequest(proxy.port, req('INVITE', 'probe'), 3000));
    // The first query loads undici in the proxy: wait until it reached the server.
    for (let i = 0; i < 200 && http.inflight() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(http.inflight(), proxy.output().slice(-2000)).toBe(1);
    const options = await timed(udpRequest(proxy.port, req('OPTIONS', 'any'), 2000));
    const inv = await invite;
    expect(options.v.final).toBe(200);
    expect(inv.v.final).toBe(486);
    expect(inv.v.replies.at(-1)).toMatch(/^SIP\/2\.0 486 Checked\r\n/);
    expect(options.ms).toBeLessThan(HTTP_DELAY_MS / 2);
    expect(inv.ms).toBeGreaterThanOrEqual(HTTP_DELAY_MS);
    console.log(`OPTIONS answered in ${options.ms.toFixed(1)} ms while the INVITE waited ${inv.ms.toFixed(1)} ms (HTTP ${HTTP_DELAY_MS} ms)`);

    // SIPp calls through the async query: each waits 300 ms for HTTP, then goes to the UAS.
    const served0 = http.served();
    const uac = track(startSipp({ scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`, calls: 10, rate: 20, limit: 10, service: 'bob', timeoutS: 30 }));
    // OPTIONS during the calls: answered at once, whatever the HTTP queries in flight.
    const during: number[] = [];
    let overlapping = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 60));
      if (http.inflight() > 0) overlapping++;
      const o = await timed(udpRequest(proxy.port, req('OPTIONS', 'any'), 2000));
      expect(o.v.final).toBe(200);
      during.push(o.ms);
    }
    const res = await uac.done;
    expect(res.failed, res.output + proxy.output().slice(-3000)).toBe(0);
    expect(res.successful).toBe(10);
    expect(http.served() - served0).toBe(10);
    expect(overlapping).toBeGreaterThan(0); // OPTIONS really went in while queries were waiting
    expect(Math.max(...during)).toBeLessThan(HTTP_DELAY_MS / 2);
    console.log(`OPTIONS during 10 async calls (${overlapping}/5 sent with HTTP queries in flight): max ${Math.max(...during).toFixed(1)} ms`);
  }, 60_000);
});

describe('t_suspend / t_continue on a real proxy', () => {
  it('a parked INVITE is continued by a MESSAGE carrying its ids', async () => {
    const proxy = track(await startProxy({ script: writeScript(script('http://127.0.0.1:1/')), protos: ['udp'], modules: [...DEFAULT_MODULES, 'http_async_client'] }));
    const invite = udpRequest(proxy.port, req('INVITE', 'park'), 4000);
    await proxy.waitForOutput(/parked \d+ \d+/, 3000);
    const m = /parked (\d+) (\d+)/.exec(proxy.output())!;
    const cont = await udpRequest(proxy.port, req('MESSAGE', 'resume', `X-Tindex: ${m[1]}\r\nX-Tlabel: ${m[2]}`), 2000);
    expect(cont.replies.at(-1)).toMatch(/^SIP\/2\.0 200 Continue 1\r\n/);
    const inv = await invite;
    expect(inv.replies.at(-1)).toMatch(/^SIP\/2\.0 486 Continued park\r\n/);
    // Continued once: the ids no longer name a suspended transaction.
    const again = await udpRequest(proxy.port, req('MESSAGE', 'resume', `X-Tindex: ${m[1]}\r\nX-Tlabel: ${m[2]}`), 2000);
    expect(again.replies.at(-1)).toMatch(/^SIP\/2\.0 200 Continue -1\r\n/);
  }, 30_000);
});
