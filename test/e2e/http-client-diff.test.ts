/**
 * http_client next to Kamailio 5.6 (http_client.so, Debian's kamailio-utils-modules): one request
 * runs a series of queries against a local HTTP server (200 with a two-line body, 404, 500, 204,
 * a redirect, POST with and without headers, a named connection) and against a closed port and a
 * server slower than connection_timeout; the return codes and the result PVs go into the reply's
 * headers, and what the HTTP server received is compared too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest, request } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
});

/** The HTTP service; `seen` lists method, path, content type, X- headers and body of each request. */
async function httpServer(): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const xh = Object.entries(req.headers).filter(([k]) => k.startsWith('x-')).map(([k, v]) => `${k}=${String(v)}`).join(',');
      seen.push(`${req.method} ${req.url} ct=${req.headers['content-type'] ?? ''} ${xh} body=${body}`);
      const path = (req.url ?? '').split('?')[0];
      switch (path) {
        case '/ok':
          res.end('first line\nsecond line\n');
          break;
        case '/missing':
          res.writeHead(404, 'Not Here').end('nothing here');
          break;
        case '/broken':
          res.writeHead(500).end('oops');
          break;
        case '/empty':
          res.writeHead(204).end();
          break;
        case '/moved':
          res.writeHead(302, { Location: '/ok' }).end('moved');
          break;
        case '/echo':
          res.writeHead(201).end(`${req.method}:${body}`);
          break;
        case '/slow':
          setTimeout(() => res.end('late'), 2500);
          break;
        default:
          res.writeHead(400).end('bad path');
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen };
}

const script = (http: number, closed: number): string => `
local n = 0
local function out(label, rc)
  n = n + 1
  local body = tostring(KSR.pv.get("$var(r)")):gsub("[\\r\\n]", "|")
  KSR.hdr.append_to_reply(string.format("X-Q%02d: %s rc=%s body=[%s]\\r\\n", n, label, tostring(rc), body))
end

function ksr_request_route()
  local base = "http://127.0.0.1:${http}"
  out("ok", KSR.http_client.query(base .. "/ok?a=1&b=two", "$var(r)"))
  out("missing", KSR.http_client.query(base .. "/missing", "$var(r)"))
  out("broken", KSR.http_client.query(base .. "/broken", "$var(r)"))
  out("empty", KSR.http_client.query(base .. "/empty", "$var(r)"))
  out("moved", KSR.http_client.query(base .. "/moved", "$var(r)"))
  out("post", KSR.http_client.query_post(base .. "/echo", "a=1&b=2", "$var(r)"))
  out("post-empty", KSR.http_client.query_post(base .. "/echo", "", "$var(r)"))
  out("post-hdrs", KSR.http_client.query_post_hdrs(base .. "/echo", "{}", "X-One: 1\\r\\nX-Two: two", "$var(r)"))
  out("get-hdrs", KSR.http_client.get_hdrs(base .. "/echo", "", "X-Three: 3", "$var(r)"))
  out("get-hdrs-body", KSR.http_client.get_hdrs(base .. "/echo", "q=1", "X-Four: 4", "$var(r)"))
  out("con", KSR.http_client.curl_connect("svc", "/ok", "$var(r)"))
  out("con-post-empty", KSR.http_client.curl_connect_post("svc", "echo", "text/csv", "", "$var(r)"))
  out("con-post", KSR.http_client.curl_connect_post("svc", "/echo", "application/json", "{\\"k\\":1}", "$var(r)"))
  out("con-redirect", KSR.http_client.curl_connect("redir", "moved", "$var(r)"))
  out("con-timeout", KSR.http_client.curl_connect("quick", "/slow", "$var(r)"))
  out("refused", KSR.http_client.query("http://127.0.0.1:${closed}/x", "$var(r)"))
  out("slow", KSR.http_client.query(base .. "/slow", "$var(r)"))
  KSR.sl.sl_send_reply(200, "Queried")
end
`;

async function run(target: 'kemi' | 'kamailio'): Promise<{ reply: string[]; seen: string[] }> {
  const http = await httpServer();
  const closed = await freePort();
  const port = await freePort();
  const con = `svc=>http://127.0.0.1:${http.port}/base`;
  const redir = `redir=>http://127.0.0.1:${http.port};httpredirect=1`;
  const quick = `quick=>http://127.0.0.1:${http.port};timeout=1`;
  const cfg = join(tempDir('kemi-httpc-'), 'config.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { http_client: { connection_timeout: 2, httpcon: [con, redir, quick].join('\n') } } }));
  const h = await targets.start(target, writeScript(script(http.port, closed)), {
    port,
    kemiModules: ['pv', 'hdr', 'kx', 'sl', 'http_client'],
    kemiArgs: ['-c', cfg],
    kamailioModules: `loadmodule "http_client.so"\nmodparam("http_client", "connection_timeout", 2)\n${[con, redir, quick].map((c) => `modparam("http_client", "httpcon", "${c}")`).join('\n')}`,
  });
  const ex = await udpRequest(port, request('OPTIONS', 'sip:service@kemi.test'), 15_000);
  const final = ex.replies.find((r) => r.startsWith('SIP/2.0 200'));
  if (!final) throw new Error(`${target}: no 200 (${ex.replies.map((r) => r.split('\r\n')[0]).join(' | ')})\n${h.output().slice(-3000)}`);
  const mask = (s: string): string => s.replaceAll(String(http.port), 'HTTP').replaceAll(String(closed), 'CLOSED');
  return { reply: final.split('\r\n').filter((l) => l.startsWith('X-Q')).map(mask), seen: http.seen.map(mask) };
}

describe('http_client next to Kamailio 5.6', () => {
  it('the same return codes, result PVs and HTTP requests', async () => {
    const { kemi, kam } = await targets.onBoth(async (t) => {
      const r = await run(t);
      server!.closeAllConnections();
      await new Promise<void>((res) => server!.close(() => res()));
      server = null;
      return r;
    });
    if (process.env.HTTPC_DIFF_SHOW) console.log(`${kam.reply.join('\n')}\n${kam.seen.join('\n')}`);
    expect(kemi.reply.length).toBe(17);
    expect(kemi.reply).toEqual(kam.reply);
    expect(kemi.seen).toEqual(kam.seen);
  }, 90_000);
});
