/**
 * tm callbacks for modules, as Kamailio's register_tmcb: a module (acc) registers once at init and
 * hears about every transaction. Three moments, named after Kamailio's TMCB_* types:
 * - requestIn: a transaction was created (TMCB_REQUEST_IN), with the request's context;
 * - onFailure: a final reply >= 300 was picked, before the failure route runs (TMCB_ON_FAILURE);
 * - responseOut: a reply went upstream, relayed or local (TMCB_RESPONSE_OUT).
 * Listeners run synchronously on the reply path and must not throw.
 */
import type { MsgContext } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { ClientBranch, ProxyTransaction } from './proxy-transaction.js';

export interface TmReplyEvent {
  readonly t: ProxyTransaction;
  readonly code: number;
  readonly reason: string;
  /** The received reply relayed upstream; null when tm generated it (Kamailio's FAKED_REPLY). */
  readonly reply: SipMessage | null;
  /** The branch whose reply this is (relayed, or picked for a final >= 300); null otherwise. */
  readonly branch: ClientBranch | null;
}

export interface TmCallbacks {
  requestIn?(t: ProxyTransaction, ctx: MsgContext): void;
  onFailure?(e: TmReplyEvent): void;
  responseOut?(e: TmReplyEvent): void;
}

const registered: TmCallbacks[] = [];

/** Adds a module's callbacks; returns the function that removes them (module close, tests). */
export function registerTmCallbacks(cb: TmCallbacks): () => void {
  registered.push(cb);
  return () => {
    const i = registered.indexOf(cb);
    if (i >= 0) registered.splice(i, 1);
  };
}

/** True when some module listens: the reply path skips building events otherwise. */
export function hasTmCallbacks(): boolean {
  return registered.length > 0;
}

export function runRequestIn(t: ProxyTransaction, ctx: MsgContext): void {
  for (const cb of registered) cb.requestIn?.(t, ctx);
}

export function runOnFailure(e: TmReplyEvent): void {
  for (const cb of registered) cb.onFailure?.(e);
}

export function runResponseOut(e: TmReplyEvent): void {
  for (const cb of registered) cb.responseOut?.(e);
}
