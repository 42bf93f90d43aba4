/**
 * The tm part of a message context: the transaction the message belongs to and the callbacks
 * armed with t_on_* before the transaction exists (Kamailio keeps them in globals until t_newtran).
 */
import type { MsgContext } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import type { ProxyTransaction, ClientBranch } from './proxy-transaction.js';

export interface TmMsgState {
  t: ProxyTransaction | null;
  onBranch: string;
  onReply: string;
  onFailure: string;
  onBranchFailure: string;
  /** t_set_fr values waiting for the transaction (ms; 0 = module default). */
  frInv: number;
  fr: number;
  /** The reply being processed (onreply) or the winning reply (failure route); $T_rpl. */
  reply: SipMessage | null;
  /** $T_reply_code: status of that reply (faked ones included). */
  replyCode: number;
  /** The branch a branch / onreply / branch-failure route runs for. */
  branch: ClientBranch | null;
  /** t_set_retr (T1, T2) and t_set_max_lifetime (INVITE, non-INVITE) values waiting for the transaction (ms). */
  retr?: { t1: number; t2: number };
  lifetime?: { inv: number; nonInv: number };
  /** Per-transaction switches (t_set_auto_inv_100 and friends); undefined = module default. */
  autoInv100?: boolean;
  disable6xx?: boolean;
  disableInternalReply?: boolean;
  noE2eCancelReason?: boolean;
}

const KEY = 'tm';

export function tmState(ctx: MsgContext): TmMsgState {
  let st = ctx.moduleData.get(KEY) as TmMsgState | undefined;
  if (!st) {
    st = { t: null, onBranch: '', onReply: '', onFailure: '', onBranchFailure: '', frInv: 0, fr: 0, reply: null, replyCode: 0, branch: null };
    ctx.moduleData.set(KEY, st);
  }
  return st;
}

/** The tm state without creating one (cheap check on paths that never used tm). */
export function peekTmState(ctx: MsgContext): TmMsgState | undefined {
  return ctx.moduleData.get(KEY) as TmMsgState | undefined;
}
