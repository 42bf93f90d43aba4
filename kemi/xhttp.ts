/**
 * KSR.xhttp (src/modules/xhttp): answering HTTP requests that reach a ws/wss listener, from
 * ksr_xhttp_event. Exports as Kamailio 5.6's sr_kemi_xhttp_exports: xhttp_reply(code, reason,
 * content_type, body), which returns 0 once the answer is taken as Kamailio's does, and get_hu;
 * and $hu. A request the script neither answers nor upgrades is closed without an answer.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { HTTP_EXCHANGE_KEY, type HttpExchange } from '../src/transport/http-exchange.js';
import { defineModule } from './types.js';

function exchange(ctx: MsgContext): HttpExchange | null {
  return (ctx.moduleData.get(HTTP_EXCHANGE_KEY) as HttpExchange | undefined) ?? null;
}

export default defineModule('xhttp', [
  { name: 'xhttp_reply', params: ['int', 'str', 'str', 'str'], ret: 'int', fn: (ctx, code, reason, ctype, body) => {
    const ex = exchange(ctx);
    if (!ex) {
      ctx.proxy.log(ctx, 'err', 'xhttp: xhttp_reply outside an HTTP request (ksr_xhttp_event)');
      return -1;
    }
    return ex.reply(typeof code === 'number' ? code : Number(code), String(reason ?? ''), String(ctype ?? ''), String(body ?? ''));
  } },
  { name: 'get_hu', params: [], ret: 'xval', fn: (ctx) => exchange(ctx)?.req.url ?? null },
], { init: (env) => env.pvs.register('hu', { get: (ctx) => exchange(ctx)?.req.url ?? null }) });
