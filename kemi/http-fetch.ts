/**
 * One HTTP request for http_client and http_async_client, as libcurl does it for Kamailio: a new
 * connection per request, closed after it (Kamailio's keep_connections=0), a total time limit
 * (CURLOPT_TIMEOUT), redirects followed or not (CURLOPT_FOLLOWLOCATION), basic auth, and a body
 * with any method (curl sends POSTFIELDS with a custom GET). Built on node:http rather than fetch,
 * which can do neither a GET with a body nor a connection per request. It never throws: a
 * transport failure or timeout comes back as `error` with the libcurl error code Kamailio returns.
 */
import { request as httpReq, type IncomingMessage } from 'node:http';
import { request as httpsReq } from 'node:https';
import { emptyNameTable } from '../src/lib/name-table.js';

export interface HttpRequest {
  url: string;
  method: string;
  body?: string;
  /** Header lines `Name: value`. */
  headers?: readonly string[];
  contentType?: string;
  timeoutMs: number;
  followRedirects?: boolean;
  username?: string;
  password?: string;
  /** Aborted when the module closes. */
  signal?: AbortSignal;
}

export interface HttpResult {
  /** HTTP status, 0 when no response came. */
  status: number;
  reason: string;
  headers: Headers | null;
  body: string;
  /** Why no response came (timeout, refused, bad URL); null when one came. */
  error: string | null;
  /** libcurl's CURLcode for that failure (7 could not connect, 28 timeout...); 0 when a response came. */
  curlCode: number;
}

/** libcurl's codes for what Node reports (CURLE_* in curl.h). */
function curlCodeOf(e: NodeJS.ErrnoException): number {
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 7; // CURLE_COULDNT_CONNECT
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 6; // CURLE_COULDNT_RESOLVE_HOST
    case 'ECONNRESET':
      return e.message === 'socket hang up' ? 52 : 56; // CURLE_GOT_NOTHING / CURLE_RECV_ERROR
    case 'EPIPE':
      return 55; // CURLE_SEND_ERROR
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 60; // CURLE_PEER_FAILED_VERIFICATION
    default:
      return e.code?.startsWith('ERR_SSL') ? 35 : 56;
  }
}

const failed = (error: string, curlCode: number): HttpResult => ({ status: 0, reason: '', headers: null, body: '', error, curlCode });

/** Redirects followed at most (libcurl's CURLOPT_MAXREDIRS default in 7.x). */
const MAX_REDIRECTS = 30;

export async function httpRequest(r: HttpRequest): Promise<HttpResult> {
  const deadline = Date.now() + Math.max(1, r.timeoutMs);
  let url = r.url;
  let method = r.method;
  let body = r.body;
  for (let hop = 0; ; hop++) {
    const res = await once({ ...r, url, method, ...(body !== undefined ? { body } : {}) }, deadline);
    if (!('location' in res)) return res.result;
    if (r.followRedirects === false || hop >= MAX_REDIRECTS) return res.result;
    try {
      url = new URL(res.location, url).toString();
    } catch {
      return res.result;
    }
    // As libcurl: 301/302/303 turn a POST into a GET without a body.
    if (res.result.status === 303 || ((res.result.status === 301 || res.result.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

type Once = { result: HttpResult } | { result: HttpResult; location: string };

function once(r: HttpRequest, deadline: number): Promise<Once> {
  let u: URL;
  try {
    u = new URL(r.url);
  } catch {
    return Promise.resolve({ result: failed(`URL using bad/illegal format or missing URL: ${r.url}`, 3) });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.resolve({ result: failed(`Protocol "${u.protocol.replace(/:$/, '')}" not supported`, 1) });
  }
  const headers: [string, string][] = [];
  for (const line of r.headers ?? []) {
    const i = line.indexOf(':');
    if (i > 0) headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  const has = (name: string): boolean => headers.some(([k]) => k.toLowerCase() === name);
  const data = r.body !== undefined ? Buffer.from(r.body) : null;
  if (data && !has('content-type')) headers.push(['Content-Type', r.contentType || 'application/x-www-form-urlencoded']);
  if (data) headers.push(['Content-Length', String(data.length)]);
  if (r.username) headers.push(['Authorization', `Basic ${Buffer.from(`${r.username}:${r.password ?? ''}`).toString('base64')}`]);
  if (!has('accept')) headers.push(['Accept', '*/*']);
  headers.push(['Connection', 'close']);
  return new Promise<Once>((resolve) => {
    let settled = false;
    const finish = (o: Once): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const send = u.protocol === 'https:' ? httpsReq : httpReq;
    let req: ReturnType<typeof httpReq>;
    try {
      const hdrs = emptyNameTable<string | string[]>();
      for (const [k, v] of headers) {
        const prev = hdrs[k];
        hdrs[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      req = send(u, { method: r.method, headers: hdrs, agent: false });
    } catch (e) {
      resolve({ result: failed(`bad request: ${e instanceof Error ? e.message : String(e)}`, 3) });
      return;
    }
    const timer = setTimeout(() => {
      finish({ result: failed(`Timeout was reached (${r.timeoutMs} ms)`, 28) });
      req.destroy();
    }, Math.max(1, deadline - Date.now()));
    const onAbort = (): void => {
      finish({ result: failed('aborted', 42) }); // CURLE_ABORTED_BY_CALLBACK
      req.destroy();
    };
    r.signal?.addEventListener('abort', onAbort);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ result: failed(e.message, curlCodeOf(e)) }));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', (e: NodeJS.ErrnoException) => finish({ result: failed(e.message, curlCodeOf(e)) }));
      res.on('end', () => {
        const h = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          } catch {
            // a header Headers refuses (bad name): not one a script reads
          }
        }
        const status = res.statusCode ?? 0;
        const result: HttpResult = { status, reason: res.statusMessage ?? '', headers: h, body: Buffer.concat(chunks).toString(), error: null, curlCode: 0 };
        const location = res.headers.location;
        finish(status >= 300 && status < 400 && location ? { result, location } : { result });
      });
    });
    req.end(data ?? undefined);
  });
}
