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
 * keys httpcon, httpcon2...; `;timeout=s;httpredirect=0|1;maxdatasize=n` after the URL) for
 * curl_connect / curl_connect_post, whose result is the whole body (maxdatasize limits it).
 * Not done: httpcon's useragent/failover/TLS parameters, authmethod (credentials in the URL are
 * sent as Basic at once, where libcurl waits for a challenge), keep_connections.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { setPvAwaitable } from '../src/pv/registry.js';
import { defineModule, type KemiArg, type KemiExport, type ModuleEnv } from './types.js';
import { str } from './args.js';
import { httpRequest, type HttpRequest } from './http-fetch.js';

/**
 * A named connection (httpcon `name=>scheme://[user[:pass]@]host/path[;param=value...]`): its base
 * URL, and the settings its `;timeout=s;httpredirect=0|1;maxdatasize=n` override.
 */
export interface HttpCon {
  url: string;
  timeoutMs?: number;
  followRedirects?: boolean;
  maxDataSize?: number;
}

/** Settings one query runs with. */
interface QuerySettings {
  oneline: boolean;
  timeoutMs: number;
  followRedirects: boolean;
  maxDataSize: number;
}

/** Parses the part after `=>`; null when it has no `scheme://`. */
export function parseHttpCon(spec: string): HttpCon | null {
  const m = /^\s*([A-Za-z][A-Za-z0-9+.-]*):\/\/([^;]*)(?:;(.*))?$/.exec(spec);
  if (!m) return null;
  const con: HttpCon = { url: `${m[1]}://${m[2]!.trim()}` };
  for (const kv of (m[3] ?? '').split(';')) {
    const [k, v] = kv.split('=').map((x) => x.trim());
    const n = Number(v);
    if (!k || v === undefined || !Number.isInteger(n)) continue;
    if (k === 'timeout' && n > 0) con.timeoutMs = n * 1000;
    else if (k === 'httpredirect' && (n === 0 || n === 1)) con.followRedirects = n === 1;
    else if (k === 'maxdatasize' && n >= 0) con.maxDataSize = n;
  }
  return con;
}

/** One instance's settings, its named connections and the requests in flight (aborted at close). */
export class HttpClientState {
  readonly inflight = new Set<AbortController>();
  constructor(
    readonly timeoutMs: number,
    readonly oneline: boolean,
    readonly maxDataSize: number,
    readonly followRedirects: boolean,
    readonly connections: ReadonlyMap<string, HttpCon>,
    /** modparam maxdatasize: what a named connection keeps of a body (query_maxdatasize is the queries'). */
    readonly conMaxDataSize = 0,
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
  const connections = new Map<string, HttpCon>();
  for (const [k, v] of Object.entries(p)) {
    if (!/^httpcon\d*$/.test(k)) continue;
    for (const line of String(v).split(/\r?\n/)) {
      const m = /^\s*([^=\s]+)\s*=>\s*(\S+)\s*$/.exec(line);
      const con = m ? parseHttpCon(m[2]!) : null;
      if (con) connections.set(m![1]!, con);
    }
  }
  return new HttpClientState(num(p.connection_timeout, 4) * 1000, num(p.query_result, 1) !== 0, num(p.query_maxdatasize, 0), num(p.httpredirect, 0) !== 0, connections, num(p.maxdatasize, 0));
}

/** Runs one request and writes the (first line of the) body to `dst`: the status, or -1. */
async function query(ctx: MsgContext, req: Omit<HttpRequest, 'timeoutMs' | 'signal'>, dst: string, fn: string, con?: HttpCon): Promise<number> {
  const st = HTTP_CLIENT.of(ctx);
  // A named connection's query keeps the whole body (Kamailio sets oneline 0 for them).
  const set: QuerySettings = con
    ? { oneline: false, timeoutMs: con.timeoutMs ?? st.timeoutMs, followRedirects: con.followRedirects ?? st.followRedirects, maxDataSize: con.maxDataSize ?? st.conMaxDataSize }
    : { oneline: st.oneline, timeoutMs: st.timeoutMs, followRedirects: st.followRedirects, maxDataSize: st.maxDataSize };
  const ac = new AbortController();
  st.inflight.add(ac);
  let res;
  try {
    res = await httpRequest({ ...req, timeoutMs: set.timeoutMs, followRedirects: set.followRedirects, signal: ac.signal });
  } finally {
    st.inflight.delete(ac);
  }
  if (res.error !== null) {
    ctx.proxy.log(ctx, 'warn', `http_client: ${fn} ${req.url} failed: ${res.error}`);
    await setPvAwaitable(ctx, dst, '');
    return res.curlCode || -1;
  }
  let body = res.status >= 200 && res.status < 500 ? res.body : '';
  const nl = set.oneline ? body.indexOf('\n') : -1;
  if (nl >= 0) body = body.slice(0, nl);
  else if (set.maxDataSize > 0 && Buffer.byteLength(body) > set.maxDataSize) body = Buffer.from(body).subarray(0, set.maxDataSize).toString();
  await setPvAwaitable(ctx, dst, body);
  return res.status === 0 ? -1 : res.status;
}

/** Headers given as one string, lines separated by CRLF (or LF), as Kamailio splits them. */
const hdrLines = (h: string): string[] => h.split(/\r?\n/).filter((l) => l.trim() !== '');

/** The connection's URL with the path appended as Kamailio joins them (a `/` added when missing). */
function connUrl(ctx: MsgContext, name: string, url: string): { full: string; con: HttpCon } | null {
  const con = HTTP_CLIENT.of(ctx).connections.get(name);
  if (con === undefined) return null;
  return { full: url ? `${con.url}${url.startsWith('/') ? '' : '/'}${url}` : con.url, con };
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
    const c = connUrl(ctx, str(con), str(url));
    if (c === null) {
      ctx.proxy.log(ctx, 'err', `http_client: curl_connect: no connection named ${str(con)}`);
      return -1;
    }
    return query(ctx, { url: c.full, method: 'GET' }, str(dst), 'curl_connect', c.con);
  } },
  { name: 'curl_connect_post', params: ['str', 'str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, con, url, ctype, data, dst) => {
    const c = connUrl(ctx, str(con), str(url));
    if (c === null) {
      ctx.proxy.log(ctx, 'err', `http_client: curl_connect_post: no connection named ${str(con)}`);
      return -1;
    }
    const body = str(data);
    return query(ctx, body ? { url: c.full, method: 'POST', body, contentType: str(ctype) || 'text/plain' } : { url: c.full, method: 'GET' }, str(dst), 'curl_connect_post', c.con);
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
