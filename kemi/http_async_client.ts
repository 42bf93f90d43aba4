/**
 * KSR.http_async_client (src/modules/http_async_client): query(url, fn) sends an HTTP request in
 * the background and returns 0 (the script exits): the transaction is suspended (t_suspend) and,
 * when the answer (or an error) comes, the script function `fn` runs on it as t_continue does,
 * with $http_ok, $http_err, $http_rs, $http_rr, $http_rb, $http_bs, $http_hdr(name), $http_mb,
 * $http_ml and $http_req_id set. With $http_req(suspend) = 0 nothing is suspended: query returns 1
 * and `fn` runs later on a faked message.
 *
 * $http_req(name) (write-only) sets the next query's parameters: all (reset), hdr (adds a header
 * line), method, timeout (ms), body (a body makes the default method POST), suspend, username,
 * password; the tls_* and keepalive names are accepted and have no effect. They are reset after
 * each query. Modparam connection_timeout (ms, default 500) as Kamailio's.
 */
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import type { PvRegistry } from '../src/pv/registry.js';
import { TM } from '../src/tm/transaction-layer.js';
import { defineModule, type KemiExport, type ModuleEnv } from './types.js';
import { str } from './args.js';
import { httpRequest, type HttpResult } from './http-fetch.js';

interface QueryParams {
  headers: string[];
  method: string;
  timeoutMs: number;
  body: string;
  suspend: boolean;
  username: string;
  password: string;
}

/** What the callback's context carries: the result of its query. */
interface AsyncReply {
  readonly id: string;
  readonly res: HttpResult;
}

export class HttpAsyncState {
  readonly inflight = new Set<AbortController>();
  queries = 0;
  constructor(readonly timeoutMs: number) {}
}

export const HTTP_ASYNC = new ModuleKey<HttpAsyncState>('http_async_client');

const REQ = 'http_async_client:req';
const REPLY = 'http_async_client:reply';

function freshParams(st: HttpAsyncState): QueryParams {
  return { headers: [], method: '', timeoutMs: st.timeoutMs, body: '', suspend: true, username: '', password: '' };
}

function params(ctx: MsgContext): QueryParams {
  let p = ctx.moduleData.get(REQ) as QueryParams | undefined;
  if (!p) {
    p = freshParams(HTTP_ASYNC.of(ctx));
    ctx.moduleData.set(REQ, p);
  }
  return p;
}

function reply(ctx: MsgContext): AsyncReply | undefined {
  return ctx.moduleData.get(REPLY) as AsyncReply | undefined;
}

/** A $http_* getter: null outside a callback and after an error (Kamailio logs and returns null). */
function fromReply(f: (r: HttpResult) => PvValue | null) {
  return (ctx: MsgContext): PvValue | null => {
    const r = reply(ctx);
    if (!r || r.res.error !== null) return null;
    return f(r.res);
  };
}

function headBlock(r: HttpResult): string {
  let s = `HTTP/1.1 ${r.status} ${r.reason}\r\n`;
  r.headers?.forEach((v, k) => (s += `${k}: ${v}\r\n`));
  return `${s}\r\n`;
}

function registerPvs(pvs: PvRegistry): void {
  pvs.register('http_ok', { get: (ctx) => { const r = reply(ctx); return r ? (r.res.error === null ? 1 : 0) : null; } });
  pvs.register('http_err', { get: (ctx) => reply(ctx)?.res.error ?? null });
  pvs.register('http_rs', { get: fromReply((r) => r.status) });
  pvs.register('http_rr', { get: fromReply((r) => r.reason) });
  pvs.register('http_rb', { get: fromReply((r) => r.body) });
  pvs.register('http_bs', { get: fromReply((r) => Buffer.byteLength(r.body)) });
  pvs.register('http_mb', { get: fromReply((r) => headBlock(r) + r.body) });
  pvs.register('http_ml', { get: fromReply((r) => Buffer.byteLength(headBlock(r) + r.body)) });
  pvs.register('http_hdr', { get: (ctx, arg) => fromReply((r) => r.headers?.get(arg) ?? null)(ctx) });
  pvs.register('http_req_id', { get: (ctx) => reply(ctx)?.id ?? null });
  pvs.register('http_req', {
    get: () => null,
    set: (ctx, arg, value) => {
      const p = params(ctx);
      const v = value === null ? null : String(value);
      switch (arg) {
        case 'all':
          if (value === null) ctx.moduleData.set(REQ, freshParams(HTTP_ASYNC.of(ctx)));
          break;
        case 'hdr':
          if (v) p.headers.push(v);
          else p.headers = [];
          break;
        case 'method':
          p.method = (v ?? '').toUpperCase();
          break;
        case 'timeout':
          p.timeoutMs = v === null ? HTTP_ASYNC.of(ctx).timeoutMs : Number(v) || HTTP_ASYNC.of(ctx).timeoutMs;
          break;
        case 'body':
          p.body = v ?? '';
          break;
        case 'suspend':
          p.suspend = v === null ? true : Number(v) !== 0;
          break;
        case 'username':
          p.username = v ?? '';
          break;
        case 'password':
          p.password = v ?? '';
          break;
        case 'tls_ca_path':
        case 'tls_client_key':
        case 'tls_client_cert':
        case 'authmethod':
        case 'keepalive':
        case 'ka-idle':
        case 'ka-interval':
          break;
        default:
          throw new Error(`$http_req(${arg}): unknown name`);
      }
    },
  });
}

function send(ctx: MsgContext, st: HttpAsyncState, url: string, p: QueryParams): Promise<HttpResult> {
  const ac = new AbortController();
  st.inflight.add(ac);
  const method = p.method || (p.body ? 'POST' : 'GET');
  return httpRequest({
    url,
    method,
    headers: p.headers,
    timeoutMs: p.timeoutMs,
    ...(p.body ? { body: p.body } : {}),
    ...(p.username ? { username: p.username, password: p.password } : {}),
    signal: ac.signal,
  }).finally(() => st.inflight.delete(ac));
}

function query(ctx: MsgContext, url: string, fn: string): number {
  if (!url || !fn) {
    ctx.proxy.log(ctx, 'err', `http_async_client: query: invalid ${url ? 'route name' : 'data'} parameter`);
    return -1;
  }
  const st = HTTP_ASYNC.of(ctx);
  const p = params(ctx);
  ctx.moduleData.set(REQ, freshParams(st)); // parameters hold for one query
  const id = String(++st.queries);
  const setup = (c: MsgContext, res: HttpResult): void => {
    c.moduleData.delete(REQ);
    c.moduleData.set(REPLY, { id, res } satisfies AsyncReply);
  };
  if (!p.suspend) {
    void send(ctx, st, url, p).then((res) => ctx.proxy.runEvent?.(fn, '', null, (c) => setup(c, res)));
    return 1;
  }
  const tm = TM.find(ctx);
  if (!tm) throw new Error('KSR.http_async_client.query: the tm module is not loaded (needed to suspend the transaction)');
  if (tm.suspend(ctx) < 0) {
    ctx.proxy.log(ctx, 'err', 'http_async_client: query: could not suspend the transaction');
    return -1;
  }
  const ident = tm.ident(ctx)!;
  void send(ctx, st, url, p).then(async (res) => {
    const r = await tm.resume(ident.index, ident.label, fn, (c) => setup(c, res));
    if (r < 0) ctx.proxy.log(ctx, 'warn', `http_async_client: query ${id}: the transaction is gone (not continued)`);
  });
  return 0;
}

const exports: KemiExport[] = [
  { name: 'query', params: ['str', 'str'], ret: 'int', fn: (ctx, url, fn) => query(ctx, str(url), str(fn)) },
];

function init(env: ModuleEnv): HttpAsyncState {
  const t = Number(env.params.connection_timeout ?? 500);
  const st = new HttpAsyncState(Number.isFinite(t) && t > 0 ? t : 500);
  registerPvs(env.pvs);
  return st;
}

export default defineModule<HttpAsyncState>('http_async_client', exports, {
  key: HTTP_ASYNC,
  init,
  close: (st) => {
    for (const ac of st.inflight) ac.abort();
    st.inflight.clear();
  },
});
