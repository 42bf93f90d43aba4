/**
 * KSR.http_client (src/modules/http_client): synchronous HTTP queries for the script. The call
 * waits only in the calling script's coroutine (the binding returns a Promise); the event loop and
 * other messages go on. Returns the HTTP status, or libcurl's error code when no response came (7
 * could not connect, 28 timed out, 6 host not resolved: Kamailio returns curl_easy_perform's
 * CURLcode), and stores the body in the result PV (only for a status from 200 to 499; empty
 * otherwise, as Kamailio's curL_request_url). Checked against Kamailio: test/e2e/http-client-diff.test.ts.
 *
 * Modparams as Kamailio's: connection_timeout (s, default 4, the whole request), query_result (1,
 * default: only the body's first line goes to the PV; 0: all of it), query_maxdatasize (bytes kept,
 * 0 no limit), httpredirect (0, default: a 3xx is the result; 1 follow), httpcon ("name=>url", one per line or repeated
 * keys httpcon, httpcon2...) for curl_connect / curl_connect_post.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { setPvAwaitable } from '../src/pv/registry.js';
import { defineModule, type KemiArg, type KemiExport, type ModuleEnv } from './types.js';
import { str } from './args.js';
import { httpRequest, type HttpRequest } from './http-fetch.js';

/** One instance's settings, its named connections and the requests in flight (aborted at close). */
export class HttpClientState {
  readonly inflight = new Set<AbortController>();
  constructor(
    readonly timeoutMs: number,
    readonly oneline: boolean,
    readonly maxDataSize: number,
    readonly followRedirects: boolean,
    readonly connections: ReadonlyMap<string, string>,
  ) {}
}

export const HTTP_CLIENT = new ModuleKey<HttpClientState>('http_client');

function num(v: string | number | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

export function httpClientState(env: Pick<ModuleEnv, 'params'>): HttpClientState {
  const p = env.params;
  const connections = new Map<string, string>();
  for (const [k, v] of Object.entries(p)) {
    if (!/^httpcon\d*$/.test(k)) continue;
    for (const line of String(v).split(/\r?\n/)) {
      const m = /^\s*([^=\s]+)\s*=>\s*(\S+)\s*$/.exec(line);
      if (m) connections.set(m[1]!, m[2]!);
    }
  }
  return new HttpClientState(num(p.connection_timeout, 4) * 1000, num(p.query_result, 1) !== 0, num(p.query_maxdatasize, 0), num(p.httpredirect, 0) !== 0, connections);
}

/** Runs one request and writes the (first line of the) body to `dst`: the status, or -1. */
async function query(ctx: MsgContext, req: Omit<HttpRequest, 'timeoutMs' | 'signal'>, dst: string, fn: string): Promise<number> {
  const st = HTTP_CLIENT.of(ctx);
  const ac = new AbortController();
  st.inflight.add(ac);
  let res;
  try {
    res = await httpRequest({ ...req, timeoutMs: st.timeoutMs, followRedirects: st.followRedirects, signal: ac.signal });
  } finally {
    st.inflight.delete(ac);
  }
  if (res.error !== null) {
    ctx.proxy.log(ctx, 'warn', `http_client: ${fn} ${req.url} failed: ${res.error}`);
    await setPvAwaitable(ctx, dst, '');
    return res.curlCode || -1;
  }
  let body = res.status >= 200 && res.status < 500 ? res.body : '';
  const nl = st.oneline ? body.indexOf('\n') : -1;
  if (nl >= 0) body = body.slice(0, nl);
  else if (st.maxDataSize > 0 && Buffer.byteLength(body) > st.maxDataSize) body = Buffer.from(body).subarray(0, st.maxDataSize).toString();
  await setPvAwaitable(ctx, dst, body);
  return res.status === 0 ? -1 : res.status;
}

/** Headers given as one string, lines separated by CRLF (or LF), as Kamailio splits them. */
const hdrLines = (h: string): string[] => h.split(/\r?\n/).filter((l) => l.trim() !== '');

function connUrl(ctx: MsgContext, con: string, url: string): string | null {
  const base = HTTP_CLIENT.of(ctx).connections.get(con);
  if (base === undefined) return null;
  if (!url) return base;
  return `${base}${url.startsWith('/') ? '' : '/'}${url}`;
}

const exports: KemiExport[] = [
  { name: 'query', params: ['str', 'str'], ret: 'int', fn: (ctx, url: KemiArg, dst: KemiArg) =>
    query(ctx, { url: str(url), method: 'GET' }, str(dst), 'query') },
  { name: 'query_post', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, url, post, dst) => {
    const body = str(post);
    return query(ctx, body ? { url: str(url), method: 'POST', body } : { url: str(url), method: 'GET' }, str(dst), 'query_post');
  } },
  { name: 'query_post_hdrs', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, url, post, hdrs, dst) => {
    const body = str(post);
    const headers = hdrLines(str(hdrs));
    return query(ctx, body ? { url: str(url), method: 'POST', body, headers } : { url: str(url), method: 'GET', headers }, str(dst), 'query_post_hdrs');
  } },
  { name: 'get_hdrs', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, url, body, hdrs, dst) => {
    const b = str(body);
    return query(ctx, { url: str(url), method: 'GET', headers: hdrLines(str(hdrs)), ...(b ? { body: b } : {}) }, str(dst), 'get_hdrs');
  } },
  { name: 'curl_connect', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, con, url, dst) => {
    const full = connUrl(ctx, str(con), str(url));
    if (full === null) {
      ctx.proxy.log(ctx, 'err', `http_client: curl_connect: no connection named ${str(con)}`);
      return -1;
    }
    return query(ctx, { url: full, method: 'GET' }, str(dst), 'curl_connect');
  } },
  { name: 'curl_connect_post', params: ['str', 'str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, con, url, ctype, data, dst) => {
    const full = connUrl(ctx, str(con), str(url));
    if (full === null) {
      ctx.proxy.log(ctx, 'err', `http_client: curl_connect_post: no connection named ${str(con)}`);
      return -1;
    }
    const body = str(data);
    return query(ctx, body ? { url: full, method: 'POST', body, contentType: str(ctype) || 'text/plain' } : { url: full, method: 'GET' }, str(dst), 'curl_connect_post');
  } },
];

export default defineModule<HttpClientState>('http_client', exports, {
  key: HTTP_CLIENT,
  init: (env) => httpClientState(env),
  close: (st) => {
    for (const ac of st.inflight) ac.abort();
    st.inflight.clear();
  },
});
