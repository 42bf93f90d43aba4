/**
 * tm callbacks for modules (Kamailio's register_tmcb: TMCB_REQUEST_IN, TMCB_ON_FAILURE,
 * TMCB_RESPONSE_OUT): acc registers its handlers with the instance's transaction layer.
 */
import type { MsgContext } from '../context/msg-context.js';
import type { ProxyTransaction, TmReplyEvent, TransactionEvents } from './proxy-transaction.js';

export type { TmReplyEvent } from './proxy-transaction.js';

export interface TmCallbacks {
  requestIn?(t: ProxyTransaction, ctx: MsgContext): void;
  onFailure?(e: TmReplyEvent): void;
  responseOut?(e: TmReplyEvent): void;
}

/** One transaction layer's registered callbacks. */
export class TmCallbackList implements TransactionEvents {
  private readonly registered: TmCallbacks[] = [];

  get active(): boolean {
    return this.registered.length > 0;
  }

  /** Adds a module's callbacks; returns the function that removes them (module close, tests). */
  register(cb: TmCallbacks): () => void {
    this.registered.push(cb);
    return () => {
      const i = this.registered.indexOf(cb);
      if (i >= 0) this.registered.splice(i, 1);
    };
  }

  requestIn(t: ProxyTransaction, ctx: MsgContext): void {
    for (const cb of this.registered) cb.requestIn?.(t, ctx);
  }

  onFailure(e: TmReplyEvent): void {
    for (const cb of this.registered) cb.onFailure?.(e);
  }

  responseOut(e: TmReplyEvent): void {
    for (const cb of this.registered) cb.responseOut?.(e);
  }
}
