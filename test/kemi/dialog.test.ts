/**
 * KSR.dialog: the dialog table's hashing and matching, dlg_manage and the state machine driven by
 * tm's callbacks and rr's loose_route, profiles in a shared store (two instances on one store),
 * vars, flags, PVs, events, and the BYEs of a timeout. End to end with SIPp in
 * test/e2e/dialog.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dialog, { DIALOG, type DialogState } from '../../kemi/dialog.js';
import rr from '../../kemi/rr.js';
import type { ModuleEnv, WithinRequest } from '../../kemi/types.js';
import { MsgContext, type ProxyServices } from '../../src/context/msg-context.js';
import { coreHash, didFromRouteParams, parseReverseHex, reverseHex } from '../../src/dialog/dialog.js';
import { getPv, setPv } from '../../src/pv/registry.js';
import { rrState } from '../../src/rr/record-route.js';
import { SipMessage } from '../../src/sip/index.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/store.js';
import { TmCallbackList, type TmReplyEvent } from '../../src/tm/callbacks.js';
import type { ProxyTransaction } from '../../src/tm/proxy-transaction.js';
import type { TransactionLayer } from '../../src/tm/transaction-layer.js';
import { call, INVITE, loadModule, newInstance, RCV, services, testEnv, type Recorded } from './helpers.js';

interface Instance {
  st: DialogState;
  proxy: ProxyServices;
  rec: Recorded;
  tm: TmCallbackList;
  events: { ev: string; state: unknown; callid: unknown; v: unknown }[];
  byes: WithinRequest[];
}

const opened: DialogState[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

async function instance(params: ModuleEnv['params'], state: StateStore = new MemoryStore()): Promise<Instance> {
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const events: Instance['events'] = [];
  const byes: WithinRequest[] = [];
  const base = services(rec, newInstance());
  const proxy: ProxyServices = {
    ...base,
    runEvent: (fn, ev, ctx, setup) => {
      const ectx = ctx ?? new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), RCV, proxy);
      setup?.(ectx);
      events.push({ ev: `${fn}:${ev}`, state: getPv(ectx, '$dlg(state)'), callid: getPv(ectx, '$dlg(callid)'), v: getPv(ectx, '$dlg_var(who)') });
    },
  };
  const tm = new TmCallbackList();
  const env = testEnv({
    params: { profiles_no_value: 'calls', profiles_with_value: 'caller;trunk', event_callback: 'ksr_dialog_event', ...params },
    state,
    proxy,
    tm: { callbacks: tm } as unknown as TransactionLayer,
    uac: { request: () => Promise.resolve(200), within: (r) => (byes.push(r), Promise.resolve(200)) },
  });
  await loadModule(rr, { ...env, params: {} });
  const st = await loadModule(dialog, env);
  opened.push(st);
  return { st, proxy, rec, tm, events, byes };
}

function ctxOf(i: Instance, text: string): MsgContext {
  return new MsgContext(SipMessage.parse(Buffer.from(text, 'latin1')), RCV, i.proxy);
}

/** The transaction tm would create for ctx's request, as far as the callbacks look at it. */
function transaction(ctx: MsgContext): ProxyTransaction {
  const t = {
    isInvite: ctx.msg.method === 'INVITE',
    request: ctx.msg,
    moduleData: new Map<string, unknown>(),
    requestContext: () => new MsgContext(ctx.msg, ctx.rcv, ctx.proxy),
  };
  return t as unknown as ProxyTransaction;
}

function reply(code: number, reason: string, extra: string[] = []): SipMessage {
  return SipMessage.parse(Buffer.from([
    `SIP/2.0 ${code} ${reason}`,
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc',
    'From: "Alice" <sip:alice@example.org>;tag=ft1',
    'To: <sip:bob@kemi.test>;tag=tt1',
    'Call-ID: call-1@192.0.2.10',
    'CSeq: 7 INVITE',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'), 'latin1'));
}

function out(i: Instance, t: ProxyTransaction, r: SipMessage): void {
  const e = { t, code: r.status, reason: r.reason, reply: r, branch: { target: { local: 'udp:127.0.0.1:5060' } } } as unknown as TmReplyEvent;
  i.tm.responseOut(e);
}

/** An initial INVITE without a preloaded Route. */
const INV = INVITE.replace('Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>\r\n', 'Record-Route: <sip:edge.example.org;lr>\r\n');

function inDialog(method: string, cseq: number, did: string, upstream = false): string {
  const [from, to] = upstream
    ? ['<sip:bob@kemi.test>;tag=tt1', '"Alice" <sip:alice@example.org>;tag=ft1']
    : ['"Alice" <sip:alice@example.org>;tag=ft1', '<sip:bob@kemi.test>;tag=tt1'];
  return [
    `${method} sip:bob@192.0.2.20:5080 SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKin' + cseq,
    'Max-Forwards: 70',
    `From: ${from}`,
    `To: ${to}`,
    'Call-ID: call-1@192.0.2.10',
    `CSeq: ${cseq} ${method}`,
    `Route: <sip:127.0.0.1:5060;lr;ftag=ft1;did=${did}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function setUpCall(i: Instance): Promise<{ t: ProxyTransaction; did: string }> {
  const ctx = ctxOf(i, INV);
  expect(call(dialog, 'set_dlg_profile', ctx, 'caller', 'alice')).toBe(1); // before dlg_manage: pending
  expect(call(dialog, 'dlg_manage', ctx)).toBe(1);
  expect(call(dialog, 'set_dlg_profile_static', ctx, 'calls')).toBe(1);
  setPv(ctx, '$dlg_var(who)', 'alice');
  const t = transaction(ctx);
  i.tm.requestIn(t, ctx);
  const did = /did=([^;>]+)/.exec(rrState(ctx).params)![1]!;
  return { t, did };
}

describe('dialog table', () => {
  it('names dialogs as Kamailio: reversed hex h_entry.h_id, h_entry from core_hash of the Call-ID', () => {
    expect(reverseHex(0x1a3)).toBe('3a1');
    expect(reverseHex(0)).toBe('0');
    expect(parseReverseHex('3a1')).toBe(0x1a3);
    expect(didFromRouteParams(';lr;ftag=x;did=3a1.f2')).toEqual({ hEntry: 0x1a3, hId: 0x2f });
    expect(didFromRouteParams(';lr;did=zz.1')).toBeNull();
    // core_hash over "abcd": v = 0x61626364, h = v + (v >> 3) mixed, then folded and masked.
    const v = 0x61626364;
    let h = (v ^ (v >>> 3)) >>> 0;
    h = (h + 0) >>> 0; // the empty tail adds v=0
    h = (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
    expect(coreHash('abcd', 0)).toBe(h);
    expect(coreHash('abcd', 4096)).toBe(h & 4095);
  });
});

describe('KSR.dialog', () => {
  it('dlg_manage creates the dialog, adds did to Record-Route, and $dlg shows it', async () => {
    const i = await instance({});
    const ctx = ctxOf(i, INV);
    expect(call(dialog, 'is_known_dlg', ctx)).toBe(-1);
    expect(getPv(ctx, '$dlg(state)')).toBeNull();
    expect(call(dialog, 'dlg_manage', ctx)).toBe(1);
    expect(call(dialog, 'is_known_dlg', ctx)).toBe(1);
    expect(getPv(ctx, '$dlg(state)')).toBe(1);
    expect(getPv(ctx, '$dlg(callid)')).toBe('call-1@192.0.2.10');
    expect(getPv(ctx, '$dlg(from_tag)')).toBe('ft1');
    expect(getPv(ctx, '$dlg(to_tag)')).toBeNull();
    expect(getPv(ctx, '$dlg(from_uri)')).toBe('sip:alice@example.org');
    expect(getPv(ctx, '$dlg(to_uri)')).toBe('sip:bob@kemi.test');
    expect(getPv(ctx, '$dlg(from_contact)')).toBe('sip:alice@192.0.2.10:5070');
    expect(getPv(ctx, '$dlg(h_entry)')).toBe(coreHash('call-1@192.0.2.10', 4096));
    expect(getPv(ctx, '$dlg(lifetime)')).toBe(43200);
    const he = reverseHex(getPv(ctx, '$dlg(h_entry)') as number);
    const hi = reverseHex(getPv(ctx, '$dlg(h_id)') as number);
    expect(rrState(ctx).params).toBe(`;did=${he}.${hi}`);
    expect(() => getPv(ctx, '$dlg(nosuch)')).toThrow(/unknown PV name/);
    // A second dlg_manage on the same INVITE keeps the one dialog.
    expect(call(dialog, 'dlg_manage', ctx)).toBe(1);
    expect(i.st.table.count).toBe(1);
  });

  it('follows the call: 180 early, 200 confirmed (dialog:start), ACK confirmed, BYE ends it (dialog:end)', async () => {
    const i = await instance({});
    const { t, did } = await setUpCall(i);
    out(i, t, reply(180, 'Ringing'));
    const d = [...i.st.table.all()][0]!;
    expect(d.state).toBe(2);
    out(i, t, reply(200, 'OK', ['Contact: <sip:bob@192.0.2.20:5080>', 'Record-Route: <sip:core.example.org;lr>, <sip:127.0.0.1:5060;lr;ftag=ft1;did=' + did + '>, <sip:edge.example.org;lr>']));
    expect(d.state).toBe(3);
    expect(d.startTs).toBeGreaterThan(0);
    expect(d.callee.contact).toBe('sip:bob@192.0.2.20:5080');
    expect(d.callee.routeSet).toEqual(['<sip:core.example.org;lr>']);
    expect(d.caller.routeSet).toEqual(['<sip:edge.example.org;lr>']);
    // As Kamailio, the callback sees every state change; early has no event name of its own.
    expect(i.events).toEqual([
      { ev: 'ksr_dialog_event:unknown', state: 2, callid: 'call-1@192.0.2.10', v: 'alice' },
      { ev: 'ksr_dialog_event:dialog:start', state: 3, callid: 'call-1@192.0.2.10', v: 'alice' },
    ]);

    const ack = ctxOf(i, inDialog('ACK', 7, did));
    expect(call(rr, 'loose_route', ack)).toBe(1);
    expect(d.state).toBe(4);
    expect(i.events.at(-1)).toEqual({ ev: 'ksr_dialog_event:unknown', state: 4, callid: 'call-1@192.0.2.10', v: 'alice' });
    expect(getPv(ack, '$dlg(to_tag)')).toBe('tt1');
    expect(getPv(ack, '$dlg_var(who)')).toBe('alice');
    expect(getPv(ack, '$dlg_ctx(dir)')).toBe(1);

    const sizes = ctxOf(i, INV);
    expect(call(dialog, 'get_profile_size_static', sizes, 'calls', '$var(n)')).toBe(1);
    expect(getPv(sizes, '$var(n)')).toBe(1);
    expect(call(dialog, 'get_profile_size', sizes, 'caller', 'alice', '$var(n)')).toBe(1);
    expect(getPv(sizes, '$var(n)')).toBe(1);
    expect(call(dialog, 'get_profile_size', sizes, 'caller', 'bob', '$var(n)')).toBe(1);
    expect(getPv(sizes, '$var(n)')).toBe(0);

    // The callee hangs up: upstream, found by did.
    const bye = ctxOf(i, inDialog('BYE', 3, did, true));
    expect(call(rr, 'loose_route', bye)).toBe(1);
    expect(d.state).toBe(5);
    expect(getPv(bye, '$dlg(state)')).toBe(5);
    expect(getPv(bye, '$dlg_ctx(dir)')).toBe(2);
    expect(i.events.at(-1)).toEqual({ ev: 'ksr_dialog_event:dialog:end', state: 5, callid: 'call-1@192.0.2.10', v: 'alice' });
    expect(i.st.table.count).toBe(0);
    expect(call(dialog, 'get_profile_size_static', sizes, 'calls', '$var(n)')).toBe(1);
    expect(getPv(sizes, '$var(n)')).toBe(0);
    expect(call(dialog, 'is_known_dlg', ctxOf(i, inDialog('BYE', 4, did)))).toBe(-1);
  });

  it('a final negative reply ends the dialog as failed (dialog:failed) and frees its profiles', async () => {
    const i = await instance({});
    const { t } = await setUpCall(i);
    out(i, t, reply(486, 'Busy Here'));
    expect(i.events.map((e) => e.ev)).toEqual(['ksr_dialog_event:dialog:failed']);
    expect(i.st.table.count).toBe(0);
    const c = ctxOf(i, INV);
    call(dialog, 'get_profile_size', c, 'caller', 'alice', '$var(n)');
    expect(getPv(c, '$var(n)')).toBe(0);
  });

  it('a timed out dialog with send_bye gets BYE both ways, each as the other side would send it', async () => {
    const i = await instance({ send_bye: 1, default_timeout: 1 });
    const { t, did } = await setUpCall(i);
    out(i, t, reply(200, 'OK', ['Contact: <sip:bob@192.0.2.20:5080>', `Record-Route: <sip:127.0.0.1:5060;lr;ftag=ft1;did=${did}>, <sip:edge.example.org;lr>`]));
    const ack = ctxOf(i, inDialog('ACK', 7, did));
    call(rr, 'loose_route', ack);
    expect(call(dialog, 'dlg_set_timeout', ack, 1)).toBe(1);
    await new Promise((r) => setTimeout(r, 1200));
    expect(i.byes).toHaveLength(2);
    const [toCallee, toCaller] = i.byes;
    expect(toCallee).toMatchObject({ method: 'BYE', ruri: 'sip:bob@192.0.2.20:5080', routes: [], callId: 'call-1@192.0.2.10', cseq: 8, from: '<sip:alice@example.org>;tag=ft1', to: '<sip:bob@kemi.test>;tag=tt1' });
    expect(toCaller).toMatchObject({ method: 'BYE', ruri: 'sip:alice@192.0.2.10:5070', routes: ['<sip:edge.example.org;lr>'], cseq: 1, from: '<sip:bob@kemi.test>;tag=tt1', to: '<sip:alice@example.org>;tag=ft1' });
    await new Promise((r) => setTimeout(r, 10));
    expect(i.events.at(-1)!.ev).toBe('ksr_dialog_event:dialog:end');
    expect(i.st.table.count).toBe(0);
  });

  it('without send_bye a timeout only ends the dialog', async () => {
    const i = await instance({ default_timeout: 1 });
    const { t } = await setUpCall(i);
    out(i, t, reply(200, 'OK', ['Contact: <sip:bob@192.0.2.20:5080>']));
    await new Promise((r) => setTimeout(r, 1100));
    expect(i.byes).toHaveLength(0);
    expect(i.events.map((e) => e.ev)).toEqual(['ksr_dialog_event:dialog:start', 'ksr_dialog_event:dialog:end']);
  });

  it('profiles: unknown names and the wrong kind are refused; is_in_profile and unset work on the dialog', async () => {
    const i = await instance({});
    const ctx = ctxOf(i, INV);
    expect(call(dialog, 'set_dlg_profile_static', ctx, 'nosuch')).toBe(-1);
    expect(i.rec.logs.at(-1)!.text).toMatch(/profile <nosuch> not defined/);
    expect(call(dialog, 'set_dlg_profile_static', ctx, 'caller')).toBe(-1);
    expect(call(dialog, 'dlg_manage', ctx)).toBe(1);
    expect(call(dialog, 'set_dlg_profile', ctx, 'trunk', 't1')).toBe(1);
    expect(call(dialog, 'is_in_profile', ctx, 'trunk', 't1')).toBe(1);
    expect(call(dialog, 'is_in_profile', ctx, 'trunk', 't2')).toBe(-1);
    expect(call(dialog, 'is_in_profile_static', ctx, 'trunk')).toBe(1);
    expect(call(dialog, 'is_in_profile_static', ctx, 'calls')).toBe(-1);
    expect(call(dialog, 'unset_dlg_profile', ctx, 'trunk', 't2')).toBe(-1);
    expect(call(dialog, 'unset_dlg_profile', ctx, 'trunk', 't1')).toBe(1);
    expect(call(dialog, 'is_in_profile_static', ctx, 'trunk')).toBe(-1);
  });

  it('profile sizes count the dialogs of every instance sharing the store; dialogs stay per instance', async () => {
    const shared = new MemoryStore();
    const a = await instance({}, shared);
    const b = await instance({}, shared);
    const ca = ctxOf(a, INV);
    call(dialog, 'dlg_manage', ca);
    call(dialog, 'set_dlg_profile', ca, 'trunk', 'x');
    const cb = ctxOf(b, INV.replace('call-1@', 'call-2@'));
    call(dialog, 'dlg_manage', cb);
    call(dialog, 'set_dlg_profile', cb, 'trunk', 'x');
    call(dialog, 'set_dlg_profile', cb, 'trunk', 'y');
    call(dialog, 'get_profile_size', cb, 'trunk', 'x', '$var(n)');
    expect(getPv(cb, '$var(n)')).toBe(2);
    call(dialog, 'get_profile_size_static', ca, 'trunk', '$var(n)');
    expect(getPv(ca, '$var(n)')).toBe(3);
    expect(a.st.table.count).toBe(1);
    expect(b.st.table.count).toBe(1);
    expect(DIALOG.of(ca)).toBe(a.st);
    expect(DIALOG.of(cb)).toBe(b.st);
    // The other instance does not know the dialog.
    const foreign = new MsgContext(ca.msg, RCV, b.proxy);
    expect(call(dialog, 'is_known_dlg', foreign)).toBe(-1);
  });

  it('flags and vars before and after the dialog exists; loud failures for what is not provided', async () => {
    const i = await instance({});
    const ctx = ctxOf(i, INV);
    expect(call(dialog, 'dlg_setflag', ctx, 3)).toBe(1);
    expect(call(dialog, 'var_sets', ctx, 'a', '1')).toBe(1);
    call(dialog, 'dlg_manage', ctx);
    expect(call(dialog, 'dlg_isflagset', ctx, 3)).toBe(1);
    expect(call(dialog, 'dlg_isflagset', ctx, 4)).toBe(-1);
    expect(getPv(ctx, '$dlg(sflags)')).toBe(8);
    expect(call(dialog, 'dlg_resetflag', ctx, 3)).toBe(1);
    expect(call(dialog, 'dlg_isflagset', ctx, 3)).toBe(-1);
    expect(call(dialog, 'dlg_setflag', ctx, 40)).toBe(-1);
    expect(call(dialog, 'var_get', ctx, 'a')).toBe('1');
    expect(call(dialog, 'var_get', ctx, 'b')).toBeNull();
    expect(call(dialog, 'var_gete', ctx, 'b')).toBe('');
    expect(call(dialog, 'var_getw', ctx, 'b')).toBe('<null>');
    expect(call(dialog, 'var_is_null', ctx, 'b')).toBe(1);
    expect(call(dialog, 'var_rm', ctx, 'a')).toBe(1);
    expect(call(dialog, 'var_is_null', ctx, 'a')).toBe(1);
    expect(call(dialog, 'dlg_set_timeout', ctx, 60)).toBe(1);
    expect(getPv(ctx, '$dlg(lifetime)')).toBe(60);
    expect(call(dialog, 'dlg_bye', ctx, 'all')).toBe(-1); // not confirmed
    expect(call(dialog, 'dlg_bye', ctx, 'nobody')).toBe(-1);
    expect(() => call(dialog, 'dlg_set_property', ctx, 'ka-src')).toThrow(/keepalives are not implemented/);
    expect(call(dialog, 'dlg_set_property', ctx, 'timeout-noreset')).toBe(1);
    expect(dialog.exports.find((e) => e.name === 'dlg_db_load_callid')).toBeUndefined();
    await expect(instance({ db_url: 'mysql://x' })).rejects.toThrow(/db_url is not supported/);
  });
});
