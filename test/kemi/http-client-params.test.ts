/** http_client's modparams as Kamailio reads them: defaults, units, named connections. */
import { describe, expect, it } from 'vitest';
import { httpClientState } from '../../kemi/http_client.js';

describe('http_client modparams', () => {
  it('defaults: 4 s, first line only, no size limit, redirects not followed', () => {
    const s = httpClientState({ params: {} });
    expect([s.timeoutMs, s.oneline, s.maxDataSize, s.followRedirects, s.connections.size]).toEqual([4000, true, 0, false, 0]);
  });

  it('connection_timeout in seconds, query_result 0, httpcon lines and numbered keys', () => {
    const s = httpClientState({ params: { connection_timeout: 2, query_result: 0, httpredirect: 0, query_maxdatasize: 10, httpcon: 'api=>http://127.0.0.1:8080/v1\nauth => http://a.example/x', httpcon2: 'b=>http://b.example' } });
    expect([s.timeoutMs, s.oneline, s.maxDataSize, s.followRedirects]).toEqual([2000, false, 10, false]);
    expect([...s.connections]).toEqual([['api', { url: 'http://127.0.0.1:8080/v1' }], ['auth', { url: 'http://a.example/x' }], ['b', { url: 'http://b.example' }]]);
  });

  it('httpcon parameters: timeout, httpredirect, maxdatasize; a spec without scheme:// is left out', () => {
    const s = httpClientState({ params: { httpcon: 'p=>https://u:pw@h.example:8443/v2;timeout=2;httpredirect=1;maxdatasize=64;useragent=x\nbad=>h.example/x' } });
    expect([...s.connections]).toEqual([['p', { url: 'https://u:pw@h.example:8443/v2', timeoutMs: 2000, followRedirects: true, maxDataSize: 64 }]]);
  });
});
