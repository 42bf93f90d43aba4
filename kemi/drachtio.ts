/**
 * KSR.drachtio (a kemi-proxy module; Kamailio has none): hands requests to drachtio-srf apps
 * connected to the drachtio control port (config `drachtio: { listen, secret }`, src/drachtio/).
 *
 * send_to_app(tag): the current request goes to a connected app that routes its method and carries
 * `tag` ('' = any), chosen round robin. 1: an app took it (its transaction, CANCEL, ACK and every
 * request within the dialog it makes are the app's from then on; the script should return);
 * -1: no app can take it (the script decides what to answer).
 *
 * send_to_addr(addr): the same for an app listening at `host:port` (srf.listen, drachtio's
 * outbound connections): kemi-proxy connects to it (and keeps the connection for the next
 * requests), the app authenticates, the request is handed over. The script waits for the
 * connection; -1 when the app cannot be reached or does not authenticate.
 */
import cluster from 'node:cluster';
import type { MsgContext, ProxyServices } from '../src/core/context.js';
import type { KemiProxy } from '../src/core/proxy.js';
import { kemiProxyHost } from '../src/drachtio/kemi-proxy-adapter.js';
import { DrachtioService } from '../src/drachtio/service.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

/** One service per proxy instance. */
const services = new WeakMap<ProxyServices, DrachtioService>();

/** The accessor every export goes through. */
function st(ctx: MsgContext): DrachtioService | undefined {
  return services.get(ctx.proxy);
}

/** The service of a proxy (metrics, tests). */
export function drachtioService(proxy: ProxyServices): DrachtioService | undefined {
  return services.get(proxy);
}

function isKemiProxy(p: ProxyServices): p is KemiProxy {
  return 'interceptors' in p && 'cfg' in p;
}

async function init(env: ModuleEnv): Promise<void> {
  const proxy = env.proxy;
  if (!isKemiProxy(proxy)) return;
  const cfg = proxy.cfg.drachtio;
  if (!cfg) {
    env.log('warn', 'no drachtio port configured (drachtio: { listen, secret }): send_to_app will return -1');
    return;
  }
  if (cluster.isWorker) {
    // Apps hold calls on one connection: every message of those calls must reach one process.
    env.log('err', 'the drachtio port needs a single process (--workers 1): not started; send_to_app will return -1');
    return;
  }
  const svc: DrachtioService = new DrachtioService(
    kemiProxyHost(proxy, (): Promise<void> => svc.close()),
    { listen: cfg.listen, secret: cfg.secret, authTimeoutMs: cfg.authTimeoutMs },
  );
  const port = await svc.start();
  services.set(proxy, svc);
  env.log('info', `drachtio apps connect on ${cfg.listen.replace(/:\d+$/, '')}:${port}`);
}

function sendToApp(ctx: MsgContext, tag: KemiArg): number {
  const svc = st(ctx);
  if (!svc || ctx.route !== 'request') return -1;
  const r = svc.sendToApp(ctx.msg, ctx.rcv, tag === null ? '' : String(tag));
  if (r > 0) ctx.replied = true;
  return r;
}

function sendToAddr(ctx: MsgContext, addr: KemiArg): number | Promise<number> {
  const svc = st(ctx);
  if (!svc || ctx.route !== 'request' || addr === null || addr === '') return -1;
  const done = (r: number): number => {
    if (r > 0) ctx.replied = true;
    return r;
  };
  const r = svc.sendToAppAt(ctx.msg, ctx.rcv, String(addr));
  return r instanceof Promise ? r.then(done) : done(r);
}

export default defineModule('drachtio', [
  { name: 'send_to_app', params: ['str'], ret: 'int', fn: sendToApp },
  { name: 'send_to_addr', params: ['str'], ret: 'int', fn: sendToAddr },
], { init });
