/**
 * KSR.dialog (Kamailio src/modules/dialog): call-stateful dialog tracking over tm and rr.
 *
 * - dlg_manage() on an initial INVITE creates the dialog (state 1, unconfirmed) and adds
 *   `;did=<h_entry>.<h_id>` (reversed hex, as Kamailio) to our Record-Route; the INVITE's
 *   transaction (tm requestIn) carries it. A relayed 1xx with a To tag makes it early (2), a 2xx
 *   confirmed-not-acked (3, start_ts, the timer starts), a final >= 300 ends it as failed.
 *   modparam dlg_flag: INVITEs with that flag set get a dialog when their transaction is created.
 * - In-dialog requests are matched when loose_route consumes our Route entry (rr's callbacks, by
 *   `did`, else Call-ID and tags), or by dlg_manage() on a request with a To tag: ACK makes the
 *   dialog confirmed (4), BYE ends it (5), and they restart the timer.
 * - The timer (default_timeout, 43200 s; dlg_set_timeout) ends a dialog that sees no in-dialog
 *   request; with send_bye=1 or $dlg_ctx(timeout_bye)=1 (set before dlg_manage: read when the
 *   dialog is created, as in Kamailio) it sends BYE to both sides first, built as tm's
 *   build_uac_req builds them (checked against Kamailio in test/e2e/dialog-diff.test.ts).
 *   dlg_bye("all"|"caller"|"callee") sends them on request. Unconfirmed dialogs end as failed
 *   after early_timeout (300 s).
 * - Profiles (profiles_no_value, profiles_with_value) live in the state backend (src/dialog/
 *   profiles.ts): get_profile_size counts the calls of every proxy sharing the same Redis.
 *   Each dialog is also written to namespace `dlg` (key: its uid) while it lives.
 * - Events: modparam event_callback names a Lua function called on each state change, as
 *   Kamailio 5.6 does: "dialog:start" (2xx), "dialog:end" (BYE, timeout), "dialog:failed" (final
 *   >= 300, early timeout) and "unknown" for early (1xx) and confirmed (ACK); the dialog is current
 *   ($dlg, $dlg_var) while it runs, and an ended dialog has already left its profiles. It runs on
 *   the message that caused the change (for replies: the INVITE), or a faked one for timers.
 * - PVs: $dlg(attr) (Kamailio's names: h_id, h_entry, state, callid, from_uri, to_uri, from_tag,
 *   to_tag, start_ts, lifetime, ...), $dlg_var(name), $dlg_ctx(set|dir|timeout_bye|flags|timeout).
 *
 * Not provided (they fail naming themselves): dlg_db_load_callid, dlg_db_load_extra, dlg_bridge;
 * keepalives (dlg_set_property "ka-src"/"ka-dst"); databases, DMQ replication, spiral detection.
 */
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { DialogTable, Dialog, DlgState, didFromRouteParams, type DlgDir, type DlgLeg, type DlgStateValue } from '../src/dialog/dialog.js';
import { parseProfileList, ProfileStore, type ProfileDef } from '../src/dialog/profiles.js';
import { setPvAwaitable } from '../src/pv/registry.js';
import { RR, rrState } from '../src/rr/record-route.js';
import { andThen, type StateStore } from '../src/state/store.js';
import type { TmReplyEvent } from '../src/tm/callbacks.js';
import { peekTmState, type ProxyTransaction } from '../src/tm/proxy-transaction.js';
import { str, int } from './args.js';
import { defineModule, type KemiExport, type KemiResult, type ModuleEnv, type RpcTable } from './types.js';

/** The dialog a transaction carries (its initial INVITE's). */
const T_KEY = 'dialog:dlg';
/** Per-message dialog context (Kamailio's _dlg_ctx). */
const CTX_KEY = 'dialog';

/** What a message knows of its dialog; derived contexts (branch, failure, event) share it. */
class DlgCtx {
  dlg: Dialog | null = null;
  dir: DlgDir | null = null;
  /** The in-dialog request was processed already (rr callback and dlg_manage both ran). */
  seqDone = false;
  /** Profiles and vars set before the dialog exists, attached when it is created. */
  readonly pendingProfiles: { name: string; value: string }[] = [];
  readonly pendingVars = new Map<string, string>();
  flags = 0;
  timeoutBye: boolean | null = null;
  timeoutNoReset = false;
  timeout = 0;

  inherit(): DlgCtx {
    return this;
  }
}

interface DialogParams {
  defaultTimeout: number;
  earlyTimeout: number;
  sendBye: boolean;
  eventCallback: string;
  dlgFlag: number;
  hashSize: number;
}

export class DialogState {
  readonly table: DialogTable;
  readonly profiles = new Map<string, ProfileDef>();
  readonly profileStore: ProfileStore;
  private readonly timers = new Map<Dialog, NodeJS.Timeout>();
  /** Unique per instance: with the dialog's h_entry/h_id, a uid over every proxy. */
  private readonly instanceTag = Math.floor(Math.random() * 0xffffffff).toString(16);
  private unregister: (() => void) | null = null;
  /** Backend errors already logged (one line per kind). */
  private stateErrorLogged = false;
  counters = { created: 0, ended: 0, failed: 0, timeouts: 0, stateErrors: 0 };

  constructor(readonly p: DialogParams, readonly env: ModuleEnv) {
    this.table = new DialogTable(p.hashSize);
    this.profileStore = new ProfileStore(env.state);
    for (const d of [...parseProfileList(env.params.profiles_no_value, false), ...parseProfileList(env.params.profiles_with_value, true)]) {
      if (this.profiles.has(d.name)) throw new Error(`dialog: profile '${d.name}' is defined twice`);
      this.profiles.set(d.name, d);
    }
  }

  get store(): StateStore {
    return this.env.state;
  }

  attach(): void {
    const rr = this.env.modules.find(RR);
    if (!rr) throw new Error('dialog: the rr module must be loaded before dialog (cannot bind to the RR API)');
    if (!this.env.tm) throw new Error('dialog: the tm module must be loaded before dialog (cannot bind to the TM API)');
    rr.callbacks.push((ctx, params) => this.onRoute(ctx, params));
    this.unregister = this.env.tm.callbacks.register({
      requestIn: (t, ctx) => this.onRequestIn(t, ctx),
      responseOut: (e) => this.onReplyOut(e),
    });
  }

  close(): void {
    this.unregister?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  // ---- creation ----------------------------------------------------------------------------

  /** dlg_new_dialog: a dialog for the initial INVITE of ctx. */
  create(ctx: MsgContext): Dialog | null {
    const msg = ctx.msg;
    let leg: DlgLeg;
    let fromUri: string;
    let toUri: string;
    let callId: string;
    try {
      const contact = msg.contacts()[0];
      leg = {
        tag: msg.from.tag ?? '',
        contact: contact?.uri ?? '',
        cseq: msg.cseq.seq,
        routeSet: msg.recordRoutes().map((r) => r.raw),
        bindAddr: `${ctx.rcv.proto}:${ctx.rcv.family === 6 ? `[${ctx.rcv.localAddress}]` : ctx.rcv.localAddress}:${ctx.rcv.localPort}`,
      };
      fromUri = msg.from.uri;
      toUri = msg.to.uri;
      callId = msg.callId;
    } catch (e) {
      ctx.proxy.log(ctx, 'err', `dialog: cannot create a dialog: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    if (!leg.tag) {
      ctx.proxy.log(ctx, 'err', 'dialog: the INVITE has no From tag');
      return null;
    }
    const dc = dlgCtx(ctx);
    const { hEntry, hId } = this.table.allocate(callId);
    const d = new Dialog(hEntry, hId, `${this.instanceTag}-${hEntry}.${hId}`, callId, fromUri, toUri, leg, dc.timeout > 0 ? dc.timeout : this.p.defaultTimeout, dc.timeoutBye ?? this.p.sendBye);
    d.sflags = dc.flags;
    d.timeoutNoReset = dc.timeoutNoReset;
    for (const [k, v] of dc.pendingVars) d.vars.set(k, v);
    dc.pendingVars.clear();
    this.table.add(d);
    this.counters.created++;
    dc.dlg = d;
    dc.dir = 'downstream';
    rrState(ctx).params += `;did=${d.did}`;
    for (const pr of dc.pendingProfiles.splice(0)) this.link(ctx, d, pr.name, pr.value);
    const t = peekTmState(ctx)?.t;
    if (t) t.moduleData.set(T_KEY, d);
    this.arm(d, this.p.earlyTimeout);
    this.persist(d);
    return d;
  }

  private onRequestIn(t: ProxyTransaction, ctx: MsgContext): void {
    if (!t.isInvite) return;
    let toTag: string | undefined;
    try {
      toTag = t.request.to.tag;
    } catch {
      return;
    }
    if (toTag) return;
    const dc = ctx.moduleData.get(CTX_KEY) as DlgCtx | undefined;
    let d = dc?.dlg ?? null;
    if (!d && this.p.dlgFlag >= 0 && ((ctx.flags >>> this.p.dlgFlag) & 1) === 1) d = this.create(ctx);
    if (d && d.state === DlgState.UNCONFIRMED && d.callId === t.request.callId) t.moduleData.set(T_KEY, d);
  }

  // ---- replies -----------------------------------------------------------------------------

  private onReplyOut(e: TmReplyEvent): void {
    const d = e.t.moduleData.get(T_KEY) as Dialog | undefined;
    if (!d || d.ended) return;
    const code = e.code;
    if (code < 200) {
      if (code > 100 && d.state === DlgState.UNCONFIRMED && e.reply?.to.tag) this.setState(d, DlgState.EARLY, e.t.requestContext(e.branch));
      return;
    }
    if (code < 300) {
      if (d.state !== DlgState.UNCONFIRMED && d.state !== DlgState.EARLY) return;
      const r = e.reply;
      if (r) {
        try {
          d.callee.tag = r.to.tag ?? '';
          d.callee.contact = r.contacts()[0]?.uri ?? '';
          // Toward the callee: the reply's Record-Route reversed, less the caller side's and ours.
          const rr = r.recordRoutes().map((x) => x.raw).reverse();
          let skip = d.caller.routeSet.length;
          const rest = rr.slice(skip);
          skip = 0;
          while (skip < rest.length && isOurs(e.t.requestContext(null), rest[skip]!)) skip++;
          d.callee.routeSet = rest.slice(skip);
        } catch {
          // a reply tm relayed parsed already; a bad Contact leaves the leg without target
        }
      }
      d.callee.bindAddr = e.branch?.target.local ?? '';
      d.startTs = Math.floor(Date.now() / 1000);
      const old = d.state;
      this.setState(d, DlgState.CONFIRMED_NA);
      this.arm(d, d.lifetime);
      this.event(d, old, DlgState.CONFIRMED_NA, e.t.requestContext(e.branch));
      return;
    }
    this.end(d, e.t.requestContext(e.branch));
  }

  // ---- in-dialog requests -------------------------------------------------------------------

  /** rr callback: loose_route consumed our Route entry (Kamailio's dlg_onroute). */
  private onRoute(ctx: MsgContext, params: string): void {
    const msg = ctx.msg;
    let callId: string;
    let fromTag: string;
    let toTag: string;
    try {
      callId = msg.callId;
      fromTag = msg.from.tag ?? '';
      toTag = msg.to.tag ?? '';
    } catch {
      return;
    }
    if (!toTag) return;
    let hit: { dlg: Dialog; dir: DlgDir } | null = null;
    const did = didFromRouteParams(params);
    if (did) {
      const d = this.table.get(did.hEntry, did.hId);
      if (d && !d.ended) {
        if (fromTag === d.caller.tag && (!d.callee.tag || toTag === d.callee.tag) && d.callId === callId) hit = { dlg: d, dir: 'downstream' };
        else if (fromTag === d.callee.tag && toTag === d.caller.tag && d.callId === callId) hit = { dlg: d, dir: 'upstream' };
      }
    }
    // seq_match_mode 2 (Kamailio's default): fall back to Call-ID and tags.
    hit ??= this.table.lookup(callId, fromTag, toTag);
    if (hit) this.inDialog(ctx, hit.dlg, hit.dir);
  }

  /** dlg_manage on a request with a To tag: match by Call-ID and tags. */
  manageSequential(ctx: MsgContext): number {
    const dc = dlgCtx(ctx);
    if (dc.seqDone && dc.dlg) return 1;
    const hit = this.table.lookupMsg(ctx.msg);
    if (hit) this.inDialog(ctx, hit.dlg, hit.dir);
    return 1;
  }

  private inDialog(ctx: MsgContext, d: Dialog, dir: DlgDir): void {
    const dc = dlgCtx(ctx);
    dc.dlg = d;
    dc.dir = dir;
    if (dc.seqDone) return;
    dc.seqDone = true;
    const method = ctx.msg.method;
    if (method !== 'ACK') {
      let seq = 0;
      try {
        seq = ctx.msg.cseq.seq;
      } catch {
        seq = 0;
      }
      const leg = dir === 'downstream' ? d.caller : d.callee;
      if (seq > leg.cseq) leg.cseq = seq;
    }
    if (method === 'BYE') {
      this.end(d, ctx);
      return;
    }
    if (method === 'ACK' && d.state === DlgState.CONFIRMED_NA) {
      this.setState(d, DlgState.CONFIRMED, ctx);
      this.arm(d, d.lifetime);
      return;
    }
    if (d.state === DlgState.CONFIRMED && !d.timeoutNoReset && method !== 'CANCEL' && method !== 'PRACK') this.arm(d, d.lifetime);
  }

  // ---- state changes -----------------------------------------------------------------------

  private setState(d: Dialog, s: DlgStateValue, ctx: MsgContext | null = null): void {
    const old = d.state;
    d.state = s;
    this.persist(d);
    if (s !== DlgState.CONFIRMED_NA) this.event(d, old, s, ctx);
  }

  /** Moves to DELETED, runs dialog:end or dialog:failed with ctx (or a faked message), cleans up. */
  end(d: Dialog, ctx: MsgContext | null): void {
    if (d.ended) return;
    const old = d.state;
    d.state = DlgState.DELETED;
    const t = this.timers.get(d);
    if (t) clearTimeout(t);
    this.timers.delete(d);
    if (old === DlgState.CONFIRMED || old === DlgState.CONFIRMED_NA) this.counters.ended++;
    else this.counters.failed++;
    // As on Kamailio, the dialog has left its profiles when its end event runs.
    this.leaveProfiles(d);
    this.event(d, old, DlgState.DELETED, ctx);
    this.table.remove(d);
    this.guard(this.store.del('dlg', d.uid));
  }

  private leaveProfiles(d: Dialog): void {
    for (const [name, values] of d.profiles) for (const v of values) this.guard(this.profileStore.unlink(name, v, d.uid));
    d.profiles.clear();
  }

  private event(d: Dialog, old: DlgStateValue, now: DlgStateValue, ctx: MsgContext | null): void {
    const fn = this.p.eventCallback;
    if (!fn || old === now) return;
    // Kamailio calls the KEMI event callback on every state change; the ones without an event
    // route name (early, confirmed) get "unknown".
    let ev = 'unknown';
    if (now === DlgState.CONFIRMED_NA) ev = 'dialog:start';
    else if (now === DlgState.DELETED) ev = old === DlgState.CONFIRMED || old === DlgState.CONFIRMED_NA ? 'dialog:end' : 'dialog:failed';
    const run = this.env.proxy.runEvent;
    if (!run) return;
    // The event sees this dialog as current; what it was before comes back afterwards.
    const prev = ctx ? (ctx.moduleData.get(CTX_KEY) as DlgCtx | undefined) : undefined;
    const r = run.call(this.env.proxy, fn, ev, ctx, (ectx) => {
      const ec = new DlgCtx();
      ec.dlg = d;
      ec.seqDone = true;
      ectx.moduleData.set(CTX_KEY, ec);
    });
    const restore = (): void => {
      if (!ctx) return;
      if (prev) ctx.moduleData.set(CTX_KEY, prev);
      else ctx.moduleData.delete(CTX_KEY);
    };
    if (r instanceof Promise) void r.finally(restore);
    else restore();
  }

  /** (Re)starts the dialog's timer: `sec` from now. */
  arm(d: Dialog, sec: number): void {
    const old = this.timers.get(d);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => this.timeout(d), Math.max(0, sec) * 1000);
    timer.unref?.();
    this.timers.set(d, timer);
    // Profile entries count until the dialog's own end: a confirmed dialog's are renewed with it.
    if (d.confirmed) this.refreshProfiles(d);
  }

  isArmed(d: Dialog): boolean {
    return this.timers.has(d);
  }

  private timeout(d: Dialog): void {
    this.timers.delete(d);
    if (d.ended) return;
    this.counters.timeouts++;
    this.env.log('info', `dialog ${d.callId} (${d.hEntry}:${d.hId}) timed out in state ${d.state}`);
    if (d.confirmed && d.timeoutBye) {
      void this.bye(d, 'all', null);
      return;
    }
    this.end(d, null);
  }

  /**
   * dlg_bye: BYE to one or both sides; the dialog ends (dialog:end) when the first is answered
   * (or times out).
   */
  bye(d: Dialog, side: 'all' | 'caller' | 'callee', ctx: MsgContext | null): Promise<void> | null {
    const uac = this.env.uac;
    if (!uac?.within) {
      this.env.log('err', 'dialog: cannot send BYE: no local UAC in this instance');
      return null;
    }
    const sends: Promise<number>[] = [];
    if (side !== 'caller') sends.push(this.sendBye(d, 'callee'));
    if (side !== 'callee') sends.push(this.sendBye(d, 'caller'));
    return Promise.race(sends).then(() => this.end(d, ctx));
  }

  private sendBye(d: Dialog, to: 'caller' | 'callee'): Promise<number> {
    const within = this.env.uac!.within!;
    if (to === 'callee') {
      d.caller.cseq++;
      return within.call(this.env.uac, {
        method: 'BYE', ruri: d.callee.contact || d.toUri, routes: d.callee.routeSet, callId: d.callId, cseq: d.caller.cseq,
        from: `<${d.fromUri}>;tag=${d.caller.tag}`, to: `<${d.toUri}>;tag=${d.callee.tag}`, socket: d.callee.bindAddr || null,
      });
    }
    d.callee.cseq++;
    return within.call(this.env.uac, {
      method: 'BYE', ruri: d.caller.contact || d.fromUri, routes: d.caller.routeSet, callId: d.callId, cseq: d.callee.cseq,
      from: `<${d.toUri}>;tag=${d.callee.tag}`, to: `<${d.fromUri}>;tag=${d.caller.tag}`, socket: d.caller.bindAddr || null,
    });
  }

  // ---- profiles ----------------------------------------------------------------------------

  /** Profile entries count for lifetime plus the early phase (refreshed at 2xx). */
  private profileTtl(d: Dialog): number {
    return d.confirmed ? d.lifetime : Math.max(d.lifetime, this.p.earlyTimeout);
  }

  link(ctx: MsgContext | null, d: Dialog, name: string, value: string): KemiResult {
    let values = d.profiles.get(name);
    if (!values) d.profiles.set(name, (values = new Set()));
    values.add(value);
    return andThen(this.profileStore.link(name, value, d.uid, this.profileTtl(d)), () => 1, (e) => this.stateFailed(ctx, e));
  }

  unlink(ctx: MsgContext, d: Dialog, name: string, value: string | null): KemiResult {
    const values = d.profiles.get(name);
    if (!values) return -1;
    const gone = value === null ? [...values] : values.has(value) ? [value] : [];
    if (gone.length === 0) return -1;
    for (const v of gone) values.delete(v);
    if (values.size === 0) d.profiles.delete(name);
    const ops = gone.map((v) => this.profileStore.unlink(name, v, d.uid));
    if (ops.some((o) => o instanceof Promise)) return Promise.all(ops).then(() => 1, (e: unknown) => this.stateFailed(ctx, e));
    return 1;
  }

  private refreshProfiles(d: Dialog): void {
    for (const [name, values] of d.profiles) for (const v of values) this.guard(this.profileStore.link(name, v, d.uid, this.profileTtl(d)));
  }

  /** The dialog's record in the state backend (namespace `dlg`), for operators and other proxies. */
  private persist(d: Dialog): void {
    const rec = {
      h_entry: d.hEntry, h_id: d.hId, callid: d.callId, from_uri: d.fromUri, to_uri: d.toUri, from_tag: d.caller.tag,
      to_tag: d.callee.tag, state: d.state, start_ts: d.startTs, lifetime: d.lifetime,
    };
    this.guard(this.store.set('dlg', d.uid, JSON.stringify(rec), this.profileTtl(d) + 60));
  }

  private guard(v: void | Promise<void>): void {
    if (v instanceof Promise) v.catch((e: unknown) => this.stateFailed(null, e));
  }

  stateFailed(ctx: MsgContext | null, e: unknown): number {
    this.counters.stateErrors++;
    if (!this.stateErrorLogged) {
      this.stateErrorLogged = true;
      const text = `dialog: state backend error: ${e instanceof Error ? e.message : String(e)}`;
      if (ctx) ctx.proxy.log(ctx, 'err', text);
      else this.env.log('err', text);
    }
    return -1;
  }

  profile(ctx: MsgContext, name: string, withValue: boolean | null): ProfileDef | null {
    const p = this.profiles.get(name);
    if (!p || (withValue !== null && p.withValue !== withValue)) {
      ctx.proxy.log(ctx, 'err', `dialog: profile <${name}> not defined${p ? (withValue ? ' with values' : ' without values') : ''}`);
      return null;
    }
    return p;
  }
}

function isOurs(ctx: MsgContext, rrValue: string): boolean {
  const m = /<sips?:(?:[^@>]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/.exec(rrValue);
  if (!m) return false;
  return ctx.proxy.isMyself(m[1]!, m[2] ? Number(m[2]) : undefined);
}

export const DIALOG = new ModuleKey<DialogState>('dialog');

function dlgCtx(ctx: MsgContext): DlgCtx {
  let dc = ctx.moduleData.get(CTX_KEY) as DlgCtx | undefined;
  if (!dc) {
    dc = new DlgCtx();
    ctx.moduleData.set(CTX_KEY, dc);
  }
  return dc;
}

/** The dialog of this message: the one set on the context, else found by Call-ID and tags. */
function current(ctx: MsgContext): Dialog | null {
  const dc = ctx.moduleData.get(CTX_KEY) as DlgCtx | undefined;
  if (dc?.dlg) return dc.dlg;
  const st = DIALOG.of(ctx);
  const t = peekTmState(ctx)?.t;
  const fromT = t?.moduleData.get(T_KEY) as Dialog | undefined;
  if (fromT) return fromT;
  return st.table.lookupMsg(ctx.msg)?.dlg ?? null;
}

function isInitialInvite(ctx: MsgContext): boolean {
  try {
    return ctx.msg.isRequest && ctx.msg.method === 'INVITE' && !ctx.msg.to.tag;
  } catch {
    return false;
  }
}

function dlgManage(ctx: MsgContext): number {
  const st = DIALOG.of(ctx);
  if (!ctx.msg.isRequest) return -1;
  let toTag: string | undefined;
  try {
    toTag = ctx.msg.to.tag;
  } catch {
    ctx.proxy.log(ctx, 'err', 'dialog: bad To header');
    return -1;
  }
  if (toTag) return st.manageSequential(ctx);
  if (ctx.msg.method !== 'INVITE') return -1;
  const dc = dlgCtx(ctx);
  if (dc.dlg && dc.dlg.callId === ctx.msg.callId && !dc.dlg.ended) return 1;
  // A dialog for this Call-ID and From tag exists already (a retransmitted INVITE): Kamailio's
  // dlg_new_dialog refuses to create a second one.
  if (st.table.lookupMsg(ctx.msg)) return -1;
  return st.create(ctx) ? 1 : -1;
}

function setProfile(ctx: MsgContext, name: string, value: string, withValue: boolean): KemiResult {
  const st = DIALOG.of(ctx);
  if (!st.profile(ctx, name, withValue)) return -1;
  if (withValue && value === '') return -1;
  const d = current(ctx);
  if (d && !d.ended) return st.link(ctx, d, name, value);
  if (isInitialInvite(ctx)) {
    dlgCtx(ctx).pendingProfiles.push({ name, value });
    return 1;
  }
  ctx.proxy.log(ctx, 'err', 'dialog: set_dlg_profile: no dialog for this message');
  return -1;
}

function unsetProfile(ctx: MsgContext, name: string, value: string, withValue: boolean): KemiResult {
  const st = DIALOG.of(ctx);
  if (!st.profile(ctx, name, withValue)) return -1;
  const d = current(ctx);
  if (!d) {
    // Not linked yet: drop it from the pending list.
    const pend = dlgCtx(ctx).pendingProfiles;
    const i = pend.findIndex((p) => p.name === name && p.value === value);
    if (i < 0) return -1;
    pend.splice(i, 1);
    return 1;
  }
  return st.unlink(ctx, d, name, withValue ? value : null);
}

function isInProfile(ctx: MsgContext, name: string, value: string | null): number {
  const st = DIALOG.of(ctx);
  if (!st.profile(ctx, name, null)) return -1;
  const d = current(ctx);
  if (!d) return dlgCtx(ctx).pendingProfiles.some((p) => p.name === name && (value === null || p.value === value)) ? 1 : -1;
  const values = d.profiles.get(name);
  if (!values) return -1;
  return value === null || values.has(value) ? 1 : -1;
}

function profileSize(ctx: MsgContext, name: string, value: string | null, pv: string): KemiResult {
  const st = DIALOG.of(ctx);
  if (!st.profile(ctx, name, null)) return -1;
  if (!pv) return -1;
  const size = st.profileStore.size(name, value);
  const store = (n: number): number | Promise<number> => {
    const r = setPvAwaitable(ctx, pv, n);
    return r instanceof Promise ? r.then(() => 1) : 1;
  };
  if (size instanceof Promise) return size.then(store, (e: unknown) => st.stateFailed(ctx, e));
  return store(size);
}

function flagOp(ctx: MsgContext, f: number, op: 'set' | 'reset' | 'is'): number {
  if (f < 0 || f > 31) {
    ctx.proxy.log(ctx, 'err', `dialog: flag ${f} out of range`);
    return -1;
  }
  const d = current(ctx);
  const dc = dlgCtx(ctx);
  const bit = (1 << f) >>> 0;
  if (op === 'is') return (((d ? d.sflags : dc.flags) & bit) >>> 0) !== 0 ? 1 : -1;
  if (d) d.sflags = (op === 'set' ? d.sflags | bit : d.sflags & ~bit) >>> 0;
  dc.flags = (op === 'set' ? dc.flags | bit : dc.flags & ~bit) >>> 0;
  return 1;
}

function setTimeout_(st: DialogState, d: Dialog, to: number): number {
  if (to <= 0) return -1;
  d.lifetime = to;
  if (d.confirmed && st.isArmed(d)) st.arm(d, to);
  return 1;
}

function setProperty(ctx: MsgContext, prop: string, on: boolean): number {
  if (prop === 'timeout-noreset') {
    const d = current(ctx);
    if (d) d.timeoutNoReset = on;
    dlgCtx(ctx).timeoutNoReset = on;
    return 1;
  }
  if (prop === 'ka-src' || prop === 'ka-dst') throw new Error(`KSR.dialog.dlg_${on ? 'set' : 'reset'}_property("${prop}"): dialog keepalives are not implemented by kemi-proxy`);
  ctx.proxy.log(ctx, 'err', `dialog: unknown property '${prop}'`);
  return -1;
}

function varSet(ctx: MsgContext, name: string, value: string | null): number {
  const d = current(ctx);
  if (d) {
    if (value === null) d.vars.delete(name);
    else d.vars.set(name, value);
    return 1;
  }
  const pend = dlgCtx(ctx).pendingVars;
  if (value === null) pend.delete(name);
  else pend.set(name, value);
  return 1;
}

function varGet(ctx: MsgContext, name: string): string | null {
  const d = current(ctx);
  const v = d ? d.vars.get(name) : dlgCtx(ctx).pendingVars.get(name);
  return v ?? null;
}

function bye(ctx: MsgContext, side: string): number {
  const st = DIALOG.of(ctx);
  if (side !== 'all' && side !== 'caller' && side !== 'callee') {
    ctx.proxy.log(ctx, 'err', `dialog: dlg_bye: invalid side '${side}'`);
    return -1;
  }
  const d = current(ctx);
  if (!d || !d.confirmed) return -1;
  return st.bye(d, side, null) ? 1 : -1;
}

const exports: KemiExport[] = [
  { name: 'dlg_manage', params: [], ret: 'int', fn: (ctx) => dlgManage(ctx) },
  { name: 'is_known_dlg', params: [], ret: 'int', fn: (ctx) => (current(ctx) ? 1 : -1) },
  { name: 'dlg_bye', params: ['str'], ret: 'int', fn: (ctx, s) => bye(ctx, str(s)) },
  { name: 'dlg_set_timeout', params: ['int'], ret: 'int', fn: (ctx, to) => {
    const d = current(ctx);
    if (!d) return -1;
    return setTimeout_(DIALOG.of(ctx), d, int(to));
  } },
  { name: 'dlg_set_timeout_id', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, to, he, hi) => {
    const st = DIALOG.of(ctx);
    const d = st.table.get(int(he), int(hi));
    if (!d || d.ended) return -1;
    return setTimeout_(st, d, int(to));
  } },
  { name: 'dlg_set_property', params: ['str'], ret: 'int', fn: (ctx, p) => setProperty(ctx, str(p), true) },
  { name: 'dlg_reset_property', params: ['str'], ret: 'int', fn: (ctx, p) => setProperty(ctx, str(p), false) },
  { name: 'dlg_get', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, c, f, t) => {
    const hit = DIALOG.of(ctx).table.lookup(str(c), str(f), str(t));
    if (!hit) return -1;
    const dc = dlgCtx(ctx);
    dc.dlg = hit.dlg;
    dc.dir = hit.dir;
    return 1;
  } },
  { name: 'set_dlg_profile_static', params: ['str'], ret: 'int', fn: (ctx, p) => setProfile(ctx, str(p), '', false) },
  { name: 'set_dlg_profile', params: ['str', 'str'], ret: 'int', fn: (ctx, p, v) => setProfile(ctx, str(p), str(v), true) },
  { name: 'unset_dlg_profile_static', params: ['str'], ret: 'int', fn: (ctx, p) => unsetProfile(ctx, str(p), '', false) },
  { name: 'unset_dlg_profile', params: ['str', 'str'], ret: 'int', fn: (ctx, p, v) => unsetProfile(ctx, str(p), str(v), true) },
  { name: 'is_in_profile_static', params: ['str'], ret: 'int', fn: (ctx, p) => isInProfile(ctx, str(p), null) },
  { name: 'is_in_profile', params: ['str', 'str'], ret: 'int', fn: (ctx, p, v) => isInProfile(ctx, str(p), str(v)) },
  { name: 'get_profile_size_static', params: ['str', 'str'], ret: 'int', fn: (ctx, p, pv) => profileSize(ctx, str(p), null, str(pv)) },
  { name: 'get_profile_size', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, p, v, pv) => profileSize(ctx, str(p), str(v), str(pv)) },
  { name: 'dlg_setflag', params: ['int'], ret: 'int', fn: (ctx, f) => flagOp(ctx, int(f), 'set') },
  { name: 'dlg_resetflag', params: ['int'], ret: 'int', fn: (ctx, f) => flagOp(ctx, int(f), 'reset') },
  { name: 'dlg_isflagset', params: ['int'], ret: 'int', fn: (ctx, f) => flagOp(ctx, int(f), 'is') },
  { name: 'var_sets', params: ['str', 'str'], ret: 'int', fn: (ctx, n, v) => varSet(ctx, str(n), str(v)) },
  { name: 'var_get', params: ['str'], ret: 'xval', fn: (ctx, n) => varGet(ctx, str(n)) },
  { name: 'var_gete', params: ['str'], ret: 'xval', fn: (ctx, n) => varGet(ctx, str(n)) ?? '' },
  { name: 'var_getw', params: ['str'], ret: 'xval', fn: (ctx, n) => varGet(ctx, str(n)) ?? '<null>' },
  { name: 'var_rm', params: ['str'], ret: 'int', fn: (ctx, n) => varSet(ctx, str(n), null) },
  { name: 'var_is_null', params: ['str'], ret: 'int', fn: (ctx, n) => (varGet(ctx, str(n)) === null ? 1 : -1) },
];

/** $dlg(attr): Kamailio's pv_get_dlg names. */
function dlgAttr(d: Dialog, name: string): PvValue | null {
  const s = (v: string): string | null => (v ? v : null);
  switch (name) {
    case 'ref': return 1;
    case 'h_id': return d.hId;
    case 'h_entry': return d.hEntry;
    case 'state': return d.state;
    case 'to_rs': return s(d.callee.routeSet.join(','));
    case 'from_rs': return s(d.caller.routeSet.join(','));
    case 'dflags': return d.dflags;
    case 'sflags': return d.sflags;
    case 'callid': return s(d.callId);
    case 'to_uri': return s(d.toUri);
    case 'to_tag': return s(d.callee.tag);
    case 'toroute': return 0;
    case 'to_cseq': return d.callee.tag ? String(d.callee.cseq) : null;
    case 'from_uri': return s(d.fromUri);
    case 'from_tag': return s(d.caller.tag);
    case 'lifetime': return d.lifetime;
    case 'start_ts': return d.startTs;
    case 'from_cseq': return String(d.caller.cseq);
    case 'to_contact': return s(d.callee.contact);
    case 'to_bindaddr': return s(d.callee.bindAddr);
    case 'from_contact': return s(d.caller.contact);
    case 'from_bindaddr': return s(d.caller.bindAddr);
    default: throw new Error(`$dlg(${name}): unknown PV name`);
  }
}

function init(env: ModuleEnv): DialogState {
  const m = env.params;
  const num = (v: string | number | undefined, d: number): number => (v === undefined || v === '' ? d : Number(v));
  for (const unsupported of ['db_url', 'db_mode', 'enable_dmq', 'ka_timer', 'detect_spirals']) {
    const v = m[unsupported];
    if (v !== undefined && v !== '' && Number(v) !== 0) throw new Error(`dialog: modparam ${unsupported} is not supported by kemi-proxy`);
  }
  const st = new DialogState({
    defaultTimeout: num(m.default_timeout, 43200),
    earlyTimeout: num(m.early_timeout, 300),
    sendBye: num(m.send_bye, 0) !== 0,
    eventCallback: String(m.event_callback ?? ''),
    dlgFlag: num(m.dlg_flag, -1),
    hashSize: num(m.hash_size, 4096),
  }, env);
  st.attach();
  env.pvs.register('dlg', {
    get: (ctx, arg) => {
      const d = current(ctx);
      if (!d) {
        dlgAttr(new Dialog(0, 0, '', '', '', '', { tag: '', contact: '', cseq: 0, routeSet: [], bindAddr: '' }, 0, false), arg); // rejects unknown names
        return null;
      }
      return dlgAttr(d, arg);
    },
  });
  env.pvs.register('dlg_var', {
    get: (ctx, arg) => varGet(ctx, arg),
    set: (ctx, arg, v) => void varSet(ctx, arg, v === null ? null : String(v)),
  });
  env.pvs.register('dlg_ctx', {
    get: (ctx, arg) => {
      const dc = dlgCtx(ctx);
      const d = current(ctx);
      switch (arg) {
        case 'set': return d ? 1 : 0;
        case 'dir': return dc.dir === 'downstream' ? 1 : dc.dir === 'upstream' ? 2 : 0;
        case 'timeout_bye': return dc.timeoutBye ? 1 : 0;
        case 'flags': return dc.flags;
        case 'timeout': return dc.timeout;
        case 'on': return 1;
        default: throw new Error(`$dlg_ctx(${arg}): not supported by kemi-proxy`);
      }
    },
    set: (ctx, arg, v) => {
      const dc = dlgCtx(ctx);
      const d = current(ctx);
      const n = v === null ? 0 : Number(v) || 0;
      switch (arg) {
        case 'timeout_bye':
          // As Kamailio: read when the dialog is created (set it before dlg_manage).
          dc.timeoutBye = n !== 0;
          return;
        case 'flags':
          dc.flags = n >>> 0;
          if (d) d.sflags = n >>> 0;
          return;
        case 'timeout':
          dc.timeout = n;
          if (d && n > 0) setTimeout_(st, d, n);
          return;
        default: throw new Error(`$dlg_ctx(${arg}) cannot be set by kemi-proxy`);
      }
    },
  });
  return st;
}

function rpc(st: DialogState): RpcTable {
  return {
    'dlg.list': () => [...st.table.all()].map((d) => ({
      h_entry: d.hEntry, h_id: d.hId, call_id: d.callId, from_uri: d.fromUri, to_uri: d.toUri, from_tag: d.caller.tag,
      to_tag: d.callee.tag, state: d.state, start_ts: d.startTs, lifetime: d.lifetime,
      profiles: Object.fromEntries([...d.profiles].map(([k, v]) => [k, [...v]])), variables: Object.fromEntries(d.vars),
    })),
    'dlg.stats_active': () => {
      const c = { starting: 0, connecting: 0, answering: 0, ongoing: 0, all: 0 };
      for (const d of st.table.all()) {
        c.all++;
        if (d.state === DlgState.UNCONFIRMED) c.starting++;
        else if (d.state === DlgState.EARLY) c.connecting++;
        else if (d.state === DlgState.CONFIRMED_NA) c.answering++;
        else if (d.state === DlgState.CONFIRMED) c.ongoing++;
      }
      return c;
    },
    'dlg.profile_get_size': (params) => {
      const name = String(params[0] ?? '');
      if (!st.profiles.has(name)) throw new Error(`profile ${name} not found`);
      return st.profileStore.size(name, params[1] === undefined ? null : String(params[1]));
    },
  };
}

export default defineModule<DialogState>('dialog', exports, { key: DIALOG, init, close: (st) => st.close(), rpc });
