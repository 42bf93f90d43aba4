/**
 * KSR.acc (Kamailio src/modules/acc: acc_logic.c, acc.c), the log backend: transactions whose
 * request carries the log flag are written to the log when they complete, as Kamailio writes them
 * to syslog:
 *
 *   ACC: transaction answered: timestamp=<unix s>;method=INVITE;from_tag=..;to_tag=..;call_id=..;
 *   code=200;reason=OK;<log_extra name=value pairs>
 *
 * As Kamailio: a transaction is watched only when log_flag or log_missed_flag is set on the request
 * when the transaction is created (TMCB_REQUEST_IN); its flags at reply time decide. A reply >= 200
 * is written under log_flag; one >= 300 only under failed_transaction_flag (less failed_filter
 * codes); a provisional only with early_media and a body. An INVITE whose picked final reply is
 * >= 300 while log_missed_flag is set is written once as "ACC: call missed: " (before the failure
 * route runs), and the flag is then reset so a serial fork does not write it again. Values come
 * from the transaction's request with the R-URI of the branch whose reply it is; to_tag from the
 * reply, or our own tag for local replies. CANCELs are not accounted unless report_cancels is 1.
 *
 * modparams: log_flag, log_missed_flag, failed_transaction_flag (-1: off), log_extra
 * ("name=$pv;..."), log_level (Kamailio's numbers, 1 = notice, the default), early_media (0),
 * report_cancels (0), failed_filter ("404,486"). KEMI: acc_log_request("<code> <reason>") writes
 * "ACC: request accounted: " for the current request.
 *
 * Not provided: database and other engines (db_flag, acc_db_request, acc_request fail naming
 * themselves; a db_flag modparam is refused at start), report_ack, detect_direction, time_mode
 * other than 0, multi-leg info, CDRs.
 */
import type { LogLevel, MsgContext, ProxyServices } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { getPv, type PvRegistry } from '../src/pv/registry.js';
import type { TmReplyEvent } from '../src/tm/callbacks.js';
import type { ProxyTransaction } from '../src/tm/proxy-transaction.js';
import { defineModule, type ModuleEnv } from './types.js';
import { str } from './args.js';

interface AccParams {
  logFlag: number;
  missedFlag: number;
  failedFlag: number;
  extra: { name: string; spec: string }[];
  level: LogLevel;
  earlyMedia: boolean;
  reportCancels: boolean;
  failedFilter: Set<number>;
}

/** One instance's acc: its modparams, where it logs, and how to drop its tm callbacks. */
export interface AccState {
  readonly params: AccParams;
  readonly proxy: ProxyServices;
  /** Removes the tm callbacks init registered (close). */
  readonly unregister: () => void;
}

export const ACC = new ModuleKey<AccState>('acc');

function st(ctx: MsgContext): AccState {
  return ACC.of(ctx);
}

/** What acc remembers of a transaction it watches (Kamailio registers its tm callbacks then). */
interface Watch {
  missedOnFailure: boolean;
}
const WATCH = 'acc';

const flagSet = (flags: number, flag: number): boolean => flag >= 0 && flag < 32 && ((flags >>> flag) & 1) === 1;

/** Kamailio's numeric log levels (L_CRIT -2 ... L_DBG 3). */
function levelOf(n: number): LogLevel {
  if (n <= -2) return 'crit';
  if (n === -1) return 'err';
  if (n === 0) return 'warn';
  if (n === 1) return 'notice';
  if (n === 2) return 'info';
  return 'dbg';
}

/** log_extra: "name=$pv;name2=$pv2" (spaces around the parts allowed). */
function parseExtra(s: string, pvs: PvRegistry): AccParams['extra'] {
  const out: AccParams['extra'] = [];
  for (const part of s.split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`acc: bad log_extra element '${part}' (expected name=$pv)`);
    const name = part.slice(0, eq).trim();
    const spec = part.slice(eq + 1).trim();
    if (!pvs.parse(spec)) continue; // an unknown PV fails at start (parse throws), as in Kamailio
    out.push({ name, spec });
  }
  return out;
}

/** The ";name=value" list after the timestamp (acc_log_request in acc.c). */
function record(ctx: MsgContext, p: AccParams, toTag: string, code: string, reason: string): string {
  const msg = ctx.msg;
  let line = `;method=${msg.cseq.method};from_tag=${msg.from.tag ?? ''};to_tag=${toTag};call_id=${msg.callId};code=${code};reason=${reason}`;
  for (const e of p.extra) {
    let v: string | number | null = null;
    try {
      v = getPv(ctx, e.spec);
    } catch {
      v = null;
    }
    line += `;${e.name}=${v ?? ''}`;
  }
  return line;
}

function write(ctx: MsgContext, a: AccState, text: string, body: string): void {
  a.proxy.log(ctx, a.params.level, `ACC: ${text}timestamp=${Math.floor(Date.now() / 1000)}${body}`);
}

/** To tag of the reply, else of the request, else the one tm puts in its local replies. */
function toTagOf(t: ProxyTransaction, e: TmReplyEvent): string {
  const fromReply = e.reply?.to.tag;
  if (fromReply) return fromReply;
  return t.request.to.tag ?? (e.reply ? '' : t.core.tagFor(t.request));
}

function shouldAccReply(p: AccParams, flags: number, e: TmReplyEvent): boolean {
  if (e.code >= 300) return flagSet(flags, p.failedFlag) && !p.failedFilter.has(e.code);
  if (!flagSet(flags, p.logFlag)) return false;
  if (e.code < 200) return p.earlyMedia && !!e.reply && e.reply.body.length > 0;
  return true;
}

function onMissed(a: AccState, e: TmReplyEvent): void {
  const p = a.params;
  const t = e.t;
  const ctx = t.requestContext(e.branch);
  const code = e.reply ? String(e.reply.status) : String(e.code);
  write(ctx, a, 'call missed: ', record(ctx, p, toTagOf(t, e), code, e.reply ? e.reply.reason : e.reason));
  t.flags &= ~(1 << p.missedFlag);
}

function responseOut(a: AccState, e: TmReplyEvent): void {
  const p = a.params;
  const t = e.t;
  if (!t.moduleData.has(WATCH)) return;
  if (t.isInvite && e.code >= 300 && flagSet(t.flags, p.missedFlag)) onMissed(a, e);
  if (!shouldAccReply(p, t.flags, e)) return;
  if (!flagSet(t.flags, p.logFlag)) return;
  const ctx = t.requestContext(e.branch);
  const code = e.reply ? String(e.reply.status) : String(e.code);
  write(ctx, a, 'transaction answered: ', record(ctx, p, toTagOf(t, e), code, e.reason));
}

function init(e: ModuleEnv): AccState {
  const m = e.params;
  const num = (v: string | number | undefined, d: number): number => (v === undefined || v === '' ? d : Number(v));
  for (const unsupported of ['db_flag', 'db_missed_flag', 'detect_direction', 'report_ack', 'time_mode', 'cdr_enable']) {
    const v = m[unsupported];
    if (v !== undefined && Number(v) !== 0 && Number(v) !== -1) throw new Error(`acc: modparam ${unsupported} is not supported by kemi-proxy`);
  }
  const filter = new Set<number>();
  for (const c of String(m.failed_filter ?? '').split(',')) {
    if (!c.trim()) continue;
    if (!/^\d{3}$/.test(c.trim()) || Number(c) < 300) throw new Error(`acc: invalid response code '${c}' in failed_filter`);
    filter.add(Number(c));
  }
  const p: AccParams = {
    logFlag: num(m.log_flag, -1),
    missedFlag: num(m.log_missed_flag, -1),
    failedFlag: num(m.failed_transaction_flag, -1),
    extra: parseExtra(String(m.log_extra ?? ''), e.pvs),
    level: levelOf(num(m.log_level, 1)),
    earlyMedia: num(m.early_media, 0) !== 0,
    reportCancels: num(m.report_cancels, 0) !== 0,
    failedFilter: filter,
  };
  // Kamailio's acc cannot load without tm's API either.
  if (!e.tm) throw new Error('acc: the tm module must be loaded (acc accounts transactions)');
  const callbacks = e.tm.callbacks;
  const unregister = callbacks.register({
    requestIn: (t, ctx) => {
      if (t.method === 'CANCEL' && !p.reportCancels) return;
      const mc = flagSet(ctx.flags, p.missedFlag);
      if (!flagSet(ctx.flags, p.logFlag) && !mc) return;
      t.moduleData.set(WATCH, { missedOnFailure: t.isInvite && mc } satisfies Watch);
    },
    onFailure: (ev) => {
      const w = ev.t.moduleData.get(WATCH) as Watch | undefined;
      if (w?.missedOnFailure && flagSet(ev.t.flags, p.missedFlag)) onMissed(state, ev);
    },
    responseOut: (ev) => responseOut(state, ev),
  });
  // The callbacks above run for transactions only, after init has returned this.
  const state: AccState = { params: p, proxy: e.proxy, unregister };
  return state;
}

const notProvided = (name: string): never => {
  throw new Error(`KSR.acc.${name}: not implemented in kemi-proxy (no database accounting)`);
};

/** acc_log_request("<3-digit code> <reason>"): "ACC: request accounted: " for this request. */
function accLogRequest(ctx: MsgContext, comment: string): number {
  if (!comment) return -1;
  const a = st(ctx);
  const p = a.params;
  let code = '';
  let reason = comment;
  if (/^\d{3}/.test(comment)) {
    code = comment.slice(0, 3);
    reason = comment.slice(3).replace(/^\s+/, '');
  }
  write(ctx, a, 'request accounted: ', record(ctx, p, ctx.msg.to.tag ?? '', code, reason));
  return 1;
}

export default defineModule<AccState>('acc', [
  { name: 'acc_log_request', params: ['str'], ret: 'int', fn: (ctx, c) => accLogRequest(ctx, str(c)) },
  // Kamailio 5.6.3's other acc exports (not in shared/kemi-exports.md): no database here.
  { name: 'acc_db_request', params: ['str', 'str'], ret: 'int', fn: () => notProvided('acc_db_request') },
  { name: 'acc_request', params: ['str', 'str'], ret: 'int', fn: () => notProvided('acc_request') },
], {
  key: ACC,
  init,
  close: (a) => a.unregister(),
});
