/**
 * http_client and http_async_client against a local node:http server, through the script harness:
 * status codes and result PVs, the first body line only (query_result 1), a POST with headers, a
 * refused connection, and the async query that suspends the INVITE and relays it or answers 503
 * from the callback once the answer (or a timeout) comes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptHarness, type ScriptHarness } from '../../src/testing/index.js';

let h: ScriptHarness;
let server: Server;
let base = '';
const seen: { url: string; method: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
      const path = req.url ?? '';
      if (path === '/two') return void res.end('line1\nline2\n');
      if (path === '/missing') return void res.writeHead(404, 'Nope').end('not here');
      if (path === '/echo') return void res.end(`${req.method} ${req.headers['x-a']}${req.headers['x-b']} ${req.headers['content-type']} ${body}`);
      if (path === '/slowtimeout') return void setTimeout(() => res.end('late'), 400);
      res.end('allow');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  h = await scriptHarness({
    script: 'test/testing/scripts/http.lua',
    modules: ['pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'xlog', 'http_client', 'http_async_client'],
    modparams: { http_client: { httpcon: `api=>${base.replace(/\/$/, '')}` } },
  });
});

afterAll(async () => {
  await h.close();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Waits (real time: the HTTP answer comes over loopback) for a log line and returns its text. */
async function logLine(re: RegExp, ms = 3000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const l = h.logged(re);
    if (l.length > 0) return l[l.length - 1]!.text.trim();
    if (Date.now() > end) throw new Error(`no log line ${re}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let n = 0;
async function query(user: string, b = base): Promise<string> {
  const callId = `hc-${++n}`;
  await h.request({ method: 'MESSAGE', ruri: `sip:${user}@example.org`, callId, headers: { 'X-Base': b } });
  return logLine(new RegExp(`result ${callId} `));
}

describe('http_client', () => {
  it('query: status and the first line of the body', async () => {
    expect(await query('allow')).toMatch(/rc=200 res=allow$/);
    expect(await query('two')).toMatch(/rc=200 res=line1$/);
    expect(await query('missing')).toMatch(/rc=404 res=not here$/);
  });

  it('query_post_hdrs: POST with libcurl\'s default content type and the header lines', async () => {
    await h.request({ method: 'PUBLISH', ruri: 'sip:p@example.org', callId: 'hc-post', headers: { 'X-Base': base } });
    expect(await logLine(/result hc-post /)).toMatch(/rc=200 res=POST 12 application\/x-www-form-urlencoded hello$/);
  });

  it('curl_connect: the named connection\'s URL joined with the path; an unknown name: -1', async () => {
    await h.request({ method: 'SUBSCRIBE', ruri: 'sip:api@example.org', callId: 'hc-con' });
    // A named connection's result is the whole body (Kamailio's curl_con_query_url: oneline 0).
    expect(await logLine(/result hc-con /)).toMatch(/rc=200 res=line1\nline2$/);
    await h.request({ method: 'SUBSCRIBE', ruri: 'sip:nocon@example.org', callId: 'hc-nocon' });
    expect(await logLine(/result hc-nocon /)).toMatch(/rc=-1 res=/) // the result PV is left as it was;
  });

  it('a refused connection: libcurl\'s CURLE_COULDNT_CONNECT (7), empty result', async () => {
    expect(await query('allow', 'http://127.0.0.1:1/')).toMatch(/rc=7 res=$/);
  });
});

describe('http_async_client', () => {
  it('suspends the INVITE (query returns 0) and relays it from the callback with the $http_* PVs', async () => {
    const s = await h.request({ method: 'INVITE', ruri: 'sip:allow@example.org', callId: 'async-1', headers: { 'X-Base': base } });
    expect(s.logs.some((l) => l.text.includes('async rc=0'))).toBe(true);
    expect(await logLine(/http async-1 /)).toMatch(/ok=1 rs=200 rb=allow err=nil$/);
    expect(await logLine(/relay async-1 /)).toMatch(/rc=1$/);
    expect(seen.some((r) => r.headers['x-call'] === 'async-1' && r.method === 'GET')).toBe(true);
  });

  it('a timeout ($http_req(timeout) 100 ms): $http_ok 0, $http_err set, the callback answers', async () => {
    await h.request({ method: 'INVITE', ruri: 'sip:slowtimeout@example.org', callId: 'async-2', headers: { 'X-Base': base } });
    expect(await logLine(/http async-2 /)).toMatch(/ok=0 rs=nil rb=nil err=Timeout was reached \(100 ms\)$/);
  });

  it('$http_req(suspend) 0: query returns 1, the function runs later on a faked message', async () => {
    const s = await h.request({ method: 'INVITE', ruri: 'sip:nosusp@example.org', callId: 'async-3', headers: { 'X-Base': base } });
    expect(s.logs.some((l) => l.text.includes('nosusp rc=1'))).toBe(true);
    expect(s.finalReply?.code).toBe(202);
    expect(await logLine(/event ok=/)).toMatch(/event ok=1 rb=allow rm=/);
  });
});
