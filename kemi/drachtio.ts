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
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import type { ReceiveInfo } from '../src/transport/types.js';
import type { SipMessage } from '../src/sip/index.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

/**
 * What the module asks of the drachtio control port (src/drachtio/service.ts implements it). The
 * composition root starts the port when the config has `drachtio` and puts it under this key.
 */
export interface AppBridge {
  sendToApp(msg: SipMessage, rcv: ReceiveInfo, tag: string): number;
  sendToAppAt(msg: SipMessage, rcv: ReceiveInfo, addr: string): number | Promise<number>;
}

export const DRACHTIO_BRIDGE = new ModuleKey<AppBridge>('drachtio:bridge');

/** The accessor every export goes through. */
function st(ctx: MsgContext): AppBridge | undefined {
  return DRACHTIO_BRIDGE.find(ctx);
}

function init(env: ModuleEnv): void {
  if (!env.modules.find(DRACHTIO_BRIDGE)) env.log('warn', 'no drachtio port configured (drachtio: { listen, secret }): send_to_app will return -1');
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
