/**
 * KSR.websocket (src/modules/websocket): the handshake of a SIP-over-WebSocket connection
 * (RFC 7118) from ksr_xhttp_event, and closing connections. Exports as Kamailio 5.6's
 * sr_kemi_websocket_exports: handle_handshake, close, close_reason, close_conid; and $ws_conid.
 * Ping and pong are Kamailio RPC commands (ws.ping, ws.pong), not KEMI exports: the transport
 * sends pings itself (config `ws.pingInterval`).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import type { ConnectionQueries } from '../src/transport/types.js';
import { HTTP_EXCHANGE_KEY, type HttpExchange } from '../src/transport/http-exchange.js';
import { defineModule, type KemiArg } from './types.js';

/** The one way to the proxy instance's transports. */
function transports(ctx: MsgContext): ConnectionQueries | null {
  return ctx.proxy.transports ?? null;
}

function exchange(ctx: MsgContext): HttpExchange | null {
  return (ctx.moduleData.get(HTTP_EXCHANGE_KEY) as HttpExchange | undefined) ?? null;
}

function wsConnId(ctx: MsgContext): number | null {
  return (ctx.rcv.proto === 'ws' || ctx.rcv.proto === 'wss') && ctx.rcv.connId !== undefined ? ctx.rcv.connId : null;
}

function closeConn(ctx: MsgContext, connId: number | null, status: number, reason: string): number {
  if (connId === null) {
    ctx.proxy.log(ctx, 'err', 'websocket: close: not a WebSocket connection');
    return -1;
  }
  return transports(ctx)?.closeWebSocket(connId, status, reason) ? 1 : -1;
}

const intArg = (v: KemiArg, dflt: number): number => (typeof v === 'number' ? v : v !== null && /^-?\d+$/.test(v) ? Number(v) : dflt);

export default defineModule('websocket', [
  // From ksr_xhttp_event: 1 accepts the upgrade; 0 after answering 400/426 as Kamailio does.
  { name: 'handle_handshake', params: [], ret: 'int', fn: (ctx) => {
    const ex = exchange(ctx);
    if (!ex) {
      ctx.proxy.log(ctx, 'err', 'websocket: handle_handshake outside an HTTP request (ksr_xhttp_event)');
      return -1;
    }
    return ex.handshake();
  } },
  { name: 'close', params: [], ret: 'int', fn: (ctx) => closeConn(ctx, wsConnId(ctx), 1000, 'Normal closure') },
  { name: 'close_reason', params: ['int', 'str'], ret: 'int', fn: (ctx, status, reason) => closeConn(ctx, wsConnId(ctx), intArg(status, 1000), String(reason ?? '')) },
  { name: 'close_conid', params: ['int', 'str', 'int'], ret: 'int', fn: (ctx, status, reason, conid) => closeConn(ctx, intArg(conid, -1), intArg(status, 1000), String(reason ?? '')) },
], { init: (env) => env.pvs.register('ws_conid', { get: (ctx) => wsConnId(ctx) }) });
