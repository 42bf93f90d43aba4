/**
 * One HTTP request on a ws/wss listener while the script's ksr_xhttp_event runs on it: what
 * KSR.websocket.handle_handshake and KSR.xhttp.xhttp_reply decide, checked as Kamailio's
 * websocket and xhttp modules check. The core makes one per request (in its onHttpRequest hook),
 * puts it in the event context's moduleData under HTTP_EXCHANGE_KEY, runs the script, and hands
 * `outcome()` back to the transport.
 */
import type { HttpDecision, HttpRequestView } from './ws.js';

export const HTTP_EXCHANGE_KEY = 'xhttp';

export class HttpExchange {
  private decision: HttpDecision | null = null;

  constructor(readonly req: HttpRequestView) {}

  /** Already accepted or answered: a second decision is refused. */
  get decided(): boolean {
    return this.decision !== null;
  }

  /**
   * KSR.websocket.handle_handshake (ws_handshake.c): 1 when the upgrade is accepted; 0 after
   * answering 426 (a WebSocket version other than 13) or 400 (required headers or the sip
   * subprotocol missing), or when already decided.
   */
  handshake(): number {
    if (this.decision) return 0;
    const h = this.req.headers;
    const one = (name: string): string => {
      const v = h[name];
      return Array.isArray(v) ? v.join(', ') : (v ?? '');
    };
    const version = one('sec-websocket-version');
    if (version !== '' && version.trim() !== '13') {
      this.decision = { action: 'reply', code: 426, reason: 'Upgrade Required', headers: { 'Sec-WebSocket-Version': '13' } };
      return 0;
    }
    const hasToken = (v: string, token: string): boolean => v.toLowerCase().split(',').some((x) => x.trim() === token);
    const ok =
      this.req.upgrade &&
      hasToken(one('connection'), 'upgrade') &&
      one('upgrade').toLowerCase().includes('websocket') &&
      one('sec-websocket-key') !== '' &&
      version !== '' &&
      hasToken(one('sec-websocket-protocol'), 'sip');
    if (!ok) {
      this.decision = { action: 'reply', code: 400, reason: 'Bad Request', headers: { 'Sec-WebSocket-Protocol': 'sip', 'Sec-WebSocket-Version': '13' } };
      return 0;
    }
    this.decision = { action: 'accept' };
    return 1;
  }

  /**
   * KSR.xhttp.xhttp_reply(code, reason, ctype, body): 0 when the answer is taken (the value
   * Kamailio's KEMI export returns), -1 for a code outside 100-700, an empty reason, or a
   * request already decided.
   */
  reply(code: number, reason: string, contentType: string, body: string): number {
    if (this.decision || code < 100 || code > 700 || reason === '') return -1;
    this.decision = { action: 'reply', code, reason, headers: contentType ? { 'Content-Type': contentType } : {}, body };
    return 0;
  }

  /** What the transport does once the script is done: its decision, else close without an answer (as Kamailio leaves it). */
  outcome(): HttpDecision {
    return this.decision ?? { action: 'close' };
  }
}
