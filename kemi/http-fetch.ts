/**
 * One HTTP request for http_client and http_async_client, on Node's fetch (undici): a total time
 * limit (libcurl's CURLOPT_TIMEOUT), redirects followed or not, basic auth. It never throws: a
 * transport failure or timeout comes back as `error` (libcurl's error text role).
 */

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
}

export async function httpRequest(r: HttpRequest): Promise<HttpResult> {
  const headers = new Headers();
  try {
    for (const line of r.headers ?? []) {
      const i = line.indexOf(':');
      if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    if (r.body !== undefined && r.contentType && !headers.has('content-type')) headers.set('content-type', r.contentType);
    if (r.username) headers.set('authorization', `Basic ${Buffer.from(`${r.username}:${r.password ?? ''}`).toString('base64')}`);
  } catch (e) {
    return { status: 0, reason: '', headers: null, body: '', error: `bad header: ${e instanceof Error ? e.message : String(e)}` };
  }
  const timeout = AbortSignal.timeout(Math.max(1, r.timeoutMs));
  const signal = r.signal ? AbortSignal.any([timeout, r.signal]) : timeout;
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers,
      body: r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' ? r.body : undefined,
      redirect: r.followRedirects === false ? 'manual' : 'follow',
      signal,
    });
    const body = await res.text();
    return { status: res.status, reason: res.statusText, headers: res.headers, body, error: null };
  } catch (e) {
    if (timeout.aborted) return { status: 0, reason: '', headers: null, body: '', error: `Timeout was reached (${r.timeoutMs} ms)` };
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return { status: 0, reason: '', headers: null, body: '', error: `${e instanceof Error ? e.message : String(e)}${cause}` };
  }
}
