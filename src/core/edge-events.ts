/**
 * The script events of the WebSocket edge, as Kamailio's xhttp and websocket modules run them:
 * - ksr_xhttp_event("xhttp:request") for each HTTP request on a ws/wss listener. Its message is
 *   what xhttp's xhttp_to_sip makes of the request: the request line, a `Via: SIP/2.0/TCP
 *   src:port` after it, then the request's headers and body. The script decides through
 *   KSR.websocket.handle_handshake / KSR.xhttp.xhttp_reply (an HttpExchange in moduleData); a
 *   script that neither accepts nor answers in time has the connection closed.
 * - ksr_websocket_event("websocket:closed") when a WebSocket connection closes, on a faked
 *   message received on that connection ($ws_conid, $si, $sp).
 * The callback names are the modules' `event_callback` modparams, these names by default.
 */
import { MsgContext, type ProxyServices, type ReceiveInfo } from '../context/msg-context.js';
import type { LuaScript, RunOutcome } from '../engine/lua-script.js';
import type { ScriptHost } from '../engine/script-host.js';
import type { Logger } from '../lib/log.js';
import { SipMessage } from '../sip/index.js';
import { HttpExchange, HTTP_EXCHANGE_KEY } from '../transport/http-exchange.js';
import { defaultHttpDecision, type HttpDecision, type HttpRequestView, type WsOptions } from '../transport/ws.js';
import type { CoreStats } from './stats.js';

/** How long ksr_xhttp_event may take (a KSR call waiting on I/O) before the request is closed. */
export const XHTTP_EVENT_TIMEOUT_MS = 5000;

type WsClosedInfo = Parameters<NonNullable<WsOptions['onClosed']>>[1];

/** What the events need of the proxy instance (KemiProxy). */
export interface EdgeHost extends ProxyServices {
  readonly host: ScriptHost;
  readonly logger: Logger;
  readonly cfg: { readonly script: string; readonly modparams: Readonly<Record<string, Readonly<Record<string, string | number>>>> };
  readonly stats: Pick<CoreStats, 'scriptRuns' | 'scriptErrors'>;
  fakedContext(rcv?: ReceiveInfo): MsgContext;
  nextMsgId(): number;
}

export class EdgeEvents {
  /** HTTP requests closed because ksr_xhttp_event did not finish in time. */
  xhttpTimeouts = 0;

  constructor(private readonly p: EdgeHost) {}

  private callbackName(module: 'xhttp' | 'websocket', dflt: string): string {
    const v = this.p.cfg.modparams[module]?.event_callback;
    return typeof v === 'string' && v !== '' ? v : dflt;
  }

  async onHttpRequest(req: HttpRequestView, timeoutMs = XHTTP_EVENT_TIMEOUT_MS): Promise<HttpDecision> {
    const fn = this.callbackName('xhttp', 'ksr_xhttp_event');
    const script = this.p.host.acquire();
    if (!script.has(fn)) {
      this.p.host.release(script);
      return defaultHttpDecision(req);
    }
    let msg: SipMessage;
    try {
      msg = SipMessage.parse(httpEventMessage(req), { http: true });
    } catch (e) {
      this.p.host.release(script);
      this.p.logger.warn(`xhttp: request from ${req.srcAddress}:${req.srcPort} not parsed: ${e instanceof Error ? e.message : String(e)}`);
      return { action: 'reply', code: 400, reason: 'Bad Request' };
    }
    const ctx = new MsgContext(msg, httpRcv(req), this.p);
    ctx.route = 'event';
    ctx.msgId = this.p.nextMsgId();
    const ex = new HttpExchange(req);
    ctx.moduleData.set(HTTP_EXCHANGE_KEY, ex);
    const out = this.run(script, fn, ctx, 'xhttp:request');
    if (!(out instanceof Promise)) return ex.outcome();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), timeoutMs)));
    const first = await Promise.race([out, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.xhttpTimeouts++;
      this.p.logger.warn(`xhttp: ${fn} took more than ${timeoutMs} ms for ${req.method} ${req.url} from ${req.srcAddress}:${req.srcPort}: closed`);
      return { action: 'close' };
    }
    return ex.outcome();
  }

  onWsClosed(connId: number, info: WsClosedInfo): void {
    const fn = this.callbackName('websocket', 'ksr_websocket_event');
    const script = this.p.host.acquire();
    if (!script.has(fn)) {
      this.p.host.release(script);
      return;
    }
    const rcv: ReceiveInfo = { ...info, family: info.localAddress.includes(':') ? 6 : 4, connId };
    const ctx = this.p.fakedContext(rcv);
    ctx.route = 'event';
    ctx.msgId = this.p.nextMsgId();
    void this.run(script, fn, ctx, 'websocket:closed');
  }

  /** Runs a callback, releasing the script when it ends; errors are logged with the event's name. */
  private run(script: LuaScript, fn: string, ctx: MsgContext, evname: string): RunOutcome | Promise<RunOutcome> {
    this.p.stats.scriptRuns++;
    const done = (o: RunOutcome): RunOutcome => {
      this.p.host.release(script);
      if (o.status === 'error') {
        const where = o.error?.file ? `${o.error.file}:${o.error.line ?? '?'}` : this.p.cfg.script;
        this.p.stats.scriptErrors++;
        this.p.logger.err(`script error in ${fn}("${evname}") at ${where}: ${o.error?.message ?? 'unknown error'}`);
      }
      return o;
    };
    let out: RunOutcome | Promise<RunOutcome>;
    try {
      out = script.run(fn, ctx, evname);
    } catch (e) {
      return done({ status: 'error', error: { message: e instanceof Error ? e.message : String(e) } });
    }
    if (out instanceof Promise) return out.then(done, (e: unknown) => done({ status: 'error', error: { message: String(e) } }));
    return done(out);
  }
}

function httpRcv(req: HttpRequestView): ReceiveInfo {
  return { proto: req.proto, srcAddress: req.srcAddress, srcPort: req.srcPort, localAddress: req.localAddress, localPort: req.localPort, family: req.localAddress.includes(':') ? 6 : 4 };
}

/** xhttp_to_sip: the request line, a Via naming the source, the headers as they came, the body. */
export function httpEventMessage(req: HttpRequestView): Buffer {
  const host = req.srcAddress.includes(':') ? `[${req.srcAddress}]` : req.srcAddress;
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\nVia: SIP/2.0/TCP ${host}:${req.srcPort}\r\n`;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), req.body]);
}
