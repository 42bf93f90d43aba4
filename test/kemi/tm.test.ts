/**
 * KSR.tm and KSR.tmx over a real TransactionLayer whose core sends into arrays and whose script
 * callbacks are JS functions: relaying, reply selection, failure route, CANCEL, ACK, checks.
 */
import { describe, expect, it } from 'vitest';
import tm from '../../kemi/tm.js';
import tmx from '../../kemi/tmx.js';
import pv from '../../kemi/pv.js';
import rr from '../../kemi/rr.js';
import corex from '../../kemi/corex.js';
import sl from '../../kemi/sl.js';
import { rrState } from '../../src/rr/record-route.js';
import { MsgContext, type ProxyServices } from '../../src/context/msg-context.js';
import { TM, TransactionLayer } from '../../src/tm/transaction-layer.js';
import { registerTmPvs } from '../../src/tm/pvs.js';
import { PVS } from '../../src/pv/registry.js';
import { tmConfig } from '../../src/tm/config.js';
import type { TmCore } from '../../src/tm/tm-core.js';
import type { LuaScript, RunOutcome } from '../../src/engine/lua-script.js';
import { SipMessage, buildReply } from '../../src/sip/index.js';
import { Logger } from '../../src/lib/log.js';
import { call, INVITE, RCV, services, type Recorded, newInstance } from './helpers.js';

type Callback = (ctx: MsgContext) => void;

interface World {
  layer: TransactionLayer;
  sent: { target: string; data: string }[];
  upstream: string[];
  callbacks: Map<string, Callback>;
  svc: ProxyServices;
  rec: Recorded;
}

function world(cfg: Record<string, number> = {}): World {
  const sent: World['sent'] = [];
  const upstream: string[] = [];
  const callbacks = new Map<string, Callback>();
  const fakeScript = {} as LuaScript;
  const core: TmCore = {
    logger: new Logger('crit'),
    serverHeader: 'test',
    resolveUri: (uri) => {
      const hostport = uri.replace(/^sips?:/, '').replace(/^[^@;]*@/, '');
      const m = /^([\d.]+)(?::(\d+))?/.exec(hostport);
      return [{ proto: 'udp', address: m?.[1] ?? '192.0.2.99', port: Number(m?.[2] ?? 5060) }];
    },
    socketFor: () => ({ proto: 'udp', address: '127.0.0.1', port: 5060, family: 4, id: 'udp:127.0.0.1:5060' }),
    prepareOutgoing: (_o, _b, out, _s, branch) => {
      out.prependVia(`SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}`);
      return out.serialize();
    },
    send: (t, d) => (sent.push({ target: `${t.address}:${t.port}`, data: d.toString('latin1') }), true),
    onSend: () => true,
    sendReplyTo: (_req, _rcv, reply) => (upstream.push(reply.toString('latin1')), true),
    replyTarget: (_req, rcv) => ({ proto: 'udp', address: rcv.srcAddress, port: rcv.srcPort }),
    runCallback: (_s, fn, ctx): RunOutcome => {
      const cb = callbacks.get(fn);
      if (!cb) return { status: 'missing' };
      cb(ctx);
      return { status: 'ok' };
    },
    acquireScript: () => fakeScript,
    releaseScript: () => undefined,
    callbackFailed: () => undefined,
    tagFor: () => 'proxytag',
  };
  const layer = new TransactionLayer(core, tmConfig({ fr_timer: 200, fr_inv_timer: 300, ...cfg }));
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const modules = newInstance();
  modules.set(TM, layer);
  registerTmPvs(modules.get(PVS));
  const svc = services(rec, modules);
  return { layer, sent, upstream, callbacks, svc, rec };
}

const request = (w: World, text = INVITE): MsgContext => new MsgContext(SipMessage.parse(Buffer.from(text, 'latin1')), RCV, w.svc);

/** A reply to the branch request `sent` with `code`, as the downstream UAS would send it. */
function replyTo(w: World, sentText: string, code: number, reason: string): MsgContext {
  const req = SipMessage.parse(Buffer.from(sentText, 'latin1'));
  const r = SipMessage.parse(buildReply(req, code, reason, { toTag: 'uas1' }));
  return new MsgContext(r, { ...RCV, srcAddress: '192.0.2.20', srcPort: 5080 }, w.svc);
}

const statusOf = (s: string): number => Number(/^SIP\/2\.0 (\d+)/.exec(s)?.[1]);

describe('KSR.tm', () => {
  it('t_relay creates the transaction, sends 100 Trying and the branch; retransmissions are absorbed', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    expect(call(tm, 't_relay', ctx)).toBe(1);
    expect(w.upstream.map(statusOf)).toEqual([100]);
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]!.target).toBe('192.0.2.20:5080');
    const retr = request(w);
    expect(call(tm, 't_check_trans', retr)).toBe(0);
    expect(w.upstream.map(statusOf)).toEqual([100, 100]);
    expect(call(tm, 't_lookup_request', request(w))).toBe(1);
    expect(call(tm, 't_newtran', request(w))).toBe(0);
    w.layer.close();
  });

  it('matches a request to a transaction by branch, sent-by and Via transport (tm via_matching)', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    expect(call(tm, 't_relay', ctx)).toBe(1);
    expect(call(tm, 't_check_trans', request(w))).toBe(0);
    // The same branch and sent-by from another transport, or another port, is another transaction.
    expect(call(tm, 't_check_trans', request(w, INVITE.replace('SIP/2.0/UDP 192.0.2.10:5070', 'SIP/2.0/TCP 192.0.2.10:5070')))).toBe(-1);
    expect(call(tm, 't_check_trans', request(w, INVITE.replace('SIP/2.0/UDP 192.0.2.10:5070', 'SIP/2.0/UDP 192.0.2.10:5071')))).toBe(-1);
    expect(w.upstream.map(statusOf)).toEqual([100, 100]);
    w.layer.close();
  });

  it('relays 180 and 200 upstream without our Via; 2xx ends it', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx);
    const branchReq = w.sent[0]!.data;
    expect(w.layer.onReply(replyTo(w, branchReq, 180, 'Ringing'))).toBe(true);
    expect(w.layer.onReply(replyTo(w, branchReq, 200, 'OK'))).toBe(true);
    expect(w.upstream.map(statusOf)).toEqual([100, 180, 200]);
    expect(w.upstream[2]).not.toContain('branch=z9hG4bK' + 'x'.repeat(0) + '\r\nVia: SIP/2.0/UDP 127.0.0.1:5060');
    expect(SipMessage.parse(Buffer.from(w.upstream[2]!, 'latin1')).vias().map((v) => v.host)).toEqual(['192.0.2.10']);
    w.layer.close();
  });

  it('failure route after a 486: $T_reply_code, t_check_status, serial fork, and hop-by-hop ACK', () => {
    const w = world();
    const seen: unknown[] = [];
    w.callbacks.set('on_fail', (fctx) => {
      seen.push(call(pv, 'get', fctx, '$T_reply_code'), call(tm, 't_check_status', fctx, '48[0-9]'), call(tm, 't_branch_timeout', fctx), call(tm, 't_branch_replied', fctx), call(tmx, 't_is_failure_route', fctx), call(tm, 't_is_canceled', fctx));
      // As in Kamailio, a consumed R-URI with only KSR.setdsturi is no new branch; $du by PV is.
      fctx.dstUri = 'sip:192.0.2.30:5090';
      expect(call(tm, 't_relay', fctx)).toBe(-1);
      expect(call(pv, 'sets', fctx, '$du', 'sip:192.0.2.30:5090')).toBe(true);
      expect(call(tm, 't_relay', fctx)).toBe(1);
    });
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    expect(call(tm, 't_on_failure', ctx, 'on_fail')).toBe(1);
    expect(call(tm, 't_is_set', ctx, 'failure_route')).toBe(1);
    expect(call(tm, 't_is_set', ctx, 'branch_route')).toBe(-1);
    call(tm, 't_relay', ctx);
    w.layer.onReply(replyTo(w, w.sent[0]!.data, 486, 'Busy Here'));
    // The 486 was ACKed downstream at once, and a second branch went to the next destination.
    expect(w.sent.map((s) => s.data.split(' ')[0])).toEqual(['INVITE', 'ACK', 'INVITE']);
    expect(w.sent[2]!.target).toBe('192.0.2.30:5090');
    expect(seen).toEqual([486, 1, -1, 1, 1, -1]);
    w.layer.onReply(replyTo(w, w.sent[2]!.data, 200, 'OK'));
    expect(w.upstream.map(statusOf)).toEqual([100, 200]);
    w.layer.close();
  });

  it('a settled transaction is replaced by its record, which answers retransmissions and CANCEL and then expires', async () => {
    const w = world({ wait_timer: 40, retr_timer4: 40 });
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx);
    w.layer.onReply(replyTo(w, w.sent[0]!.data, 200, 'OK'));
    await Promise.resolve(); // settling runs once the reply's handling is over
    // The whole transaction is gone; its record is in the table.
    expect(w.layer.lookup(request(w).msg)).toBeUndefined();
    expect(call(tm, 't_lookup_request', request(w))).toBe(1);
    expect(w.layer.active).toBe(1);
    // A retransmitted INVITE gets the 200 again, sent where the first one went.
    expect(call(tm, 't_check_trans', request(w))).toBe(0);
    expect(call(tm, 't_newtran', request(w))).toBe(0);
    const again = w.sent.slice(1);
    expect(again.map((x) => [x.target, statusOf(x.data)])).toEqual([['192.0.2.10:5070', 200], ['192.0.2.10:5070', 200]]);
    expect(again[0]!.data).toBe(w.upstream[1]);
    // Readers on the retransmission's route see its last status; no second final reply goes.
    expect(call(tm, 't_get_status_code', request(w))).toBe(200);
    expect(call(pv, 'get', request(w), '$T_reply_code')).toBe(200);
    const before = [w.upstream.length, w.rec.replies.length, w.sent.length];
    expect(call(sl, 'send_reply', request(w), 404, 'Not Here')).toBe(-1);
    expect(call(sl, 'sl_reply_error', request(w))).toBe(-2);
    expect([w.upstream.length, w.rec.replies.length, w.sent.length]).toEqual(before);
    // A CANCEL now: 200 'cancel done', nothing sent downstream.
    const cancel = request(w, INVITE.replace('CSeq: 7 INVITE', 'CSeq: 7 CANCEL').replace('INVITE sip:', 'CANCEL sip:'));
    expect(call(tm, 't_relay', cancel)).toBe(1);
    expect(w.upstream.at(-1)).toMatch(/^SIP\/2\.0 200 cancel done/);
    expect(w.sent).toHaveLength(3);
    // t_lookup_callid finds it; a reply on it is refused, as for any transaction with its final reply sent.
    expect(call(tmx, 't_cancel_callid', ctx, 'call-1@192.0.2.10', '7', 0)).toBe(1);
    expect(call(tmx, 't_reply_callid', ctx, 'call-1@192.0.2.10', '7', 500, 'No')).toBe(-1);
    const done = w.layer.stats.completed;
    await new Promise((r) => setTimeout(r, 120));
    expect(call(tm, 't_lookup_request', request(w))).toBe(-1);
    // Its record and the CANCEL's own transaction both ended.
    expect(w.layer.stats.completed).toBe(done + 2);
    expect(w.layer.active).toBe(0);
    w.layer.close();
  });

  it('a settled BYE\'s record absorbs its branch\'s retransmitted 200; a 486 to an INVITE keeps the transaction whole for the ACKs', async () => {
    const w = world({ wait_timer: 40, retr_timer4: 40 });
    const bye = request(w, INVITE.replace('INVITE sip:', 'BYE sip:').replace('CSeq: 7 INVITE', 'CSeq: 8 BYE'));
    bye.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', bye);
    expect(w.layer.onReply(replyTo(w, w.sent[0]!.data, 200, 'OK'))).toBe(true);
    await Promise.resolve();
    expect(w.upstream.map(statusOf)).toEqual([200]);
    expect(w.layer.lookup(bye.msg)).toBeUndefined();
    // The UAS sends its 200 again: absorbed (tm took it), not relayed.
    expect(w.layer.onReply(replyTo(w, w.sent[0]!.data, 200, 'OK'))).toBe(true);
    expect(w.upstream.map(statusOf)).toEqual([200]);
    await new Promise((r) => setTimeout(r, 120));
    // Its timer K is over: a late 200 is no transaction's any more (the core relays it by Via).
    expect(w.layer.onReply(replyTo(w, w.sent[0]!.data, 200, 'OK'))).toBe(false);
    w.layer.close();

    const w2 = world();
    const ctx2 = request(w2);
    ctx2.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx2);
    w2.layer.onReply(replyTo(w2, w2.sent[0]!.data, 486, 'Busy Here'));
    await Promise.resolve();
    const b2 = w2.layer.lookup(request(w2).msg)!.branches[0]!;
    expect(b2.txn?.state).toBe('completed');
    expect(b2.out.length).toBeGreaterThan(0);
    expect(w2.layer.onReply(replyTo(w2, w2.sent[0]!.data, 486, 'Busy Here'))).toBe(true);
    expect(w2.sent.map((x) => x.data.split(' ')[0])).toEqual(['INVITE', 'ACK', 'ACK']);
    w2.layer.close();
  });

  it('picks the best final reply: 503 goes up as 500; no failure route', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    ctx.branches.push({ uri: 'sip:b@192.0.2.21:5081', dstUri: null, path: null, q: -1, flags: 0, socket: null, instance: null, ruid: null, location_ua: null });
    call(tm, 't_relay', ctx);
    expect(w.sent).toHaveLength(2);
    w.layer.onReply(replyTo(w, w.sent[0]!.data, 503, 'Service Unavailable'));
    expect(w.upstream.map(statusOf)).toEqual([100]);
    w.layer.onReply(replyTo(w, w.sent[1]!.data, 603, 'Decline'));
    expect(w.upstream.map(statusOf)).toEqual([100, 603]);
    w.layer.close();
    const w2 = world();
    const c2 = request(w2);
    c2.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', c2);
    w2.layer.onReply(replyTo(w2, w2.sent[0]!.data, 503, 'Service Unavailable'));
    expect(w2.upstream.map(statusOf)).toEqual([100, 500]);
    w2.layer.close();
  });

  it('a 6xx cancels the other ringing branches unless t_set_disable_6xx(1)', () => {
    for (const disable of [0, 1]) {
      const w = world();
      const ctx = request(w);
      ctx.dstUri = 'sip:192.0.2.20:5080';
      ctx.branches.push({ uri: 'sip:b@192.0.2.21:5081', dstUri: null, path: null, q: -1, flags: 0, socket: null, instance: null, ruid: null, location_ua: null });
      expect(call(tm, 't_set_disable_6xx', ctx, disable)).toBe(1);
      call(tm, 't_relay', ctx);
      w.layer.onReply(replyTo(w, w.sent[1]!.data, 180, 'Ringing'));
      w.layer.onReply(replyTo(w, w.sent[0]!.data, 603, 'Decline'));
      const cancels = w.sent.filter((x) => x.data.startsWith('CANCEL')).length;
      expect(cancels).toBe(disable ? 0 : 1);
      w.layer.close();
    }
  });

  it('CANCEL: 200 to the CANCEL, hop-by-hop CANCEL to a ringing branch, 487 relayed', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx);
    const inv = w.sent[0]!.data;
    w.layer.onReply(replyTo(w, inv, 180, 'Ringing'));
    const cancel = request(w, INVITE.replace('INVITE sip:', 'CANCEL sip:').replace('CSeq: 7 INVITE', 'CSeq: 7 CANCEL').replace(/Content-Type[^\r]+\r\nContent-Length: 5\r\n\r\nv=0\r\n/, 'Content-Length: 0\r\n\r\n'));
    expect(call(tm, 't_check_trans', cancel)).toBe(1);
    expect(call(tm, 't_lookup_cancel', cancel)).toBe(1);
    expect(call(tm, 't_relay', cancel)).toBe(1);
    expect(w.upstream.map(statusOf)).toEqual([100, 180, 200]);
    const down = w.sent.map((s) => s.data.split(' ')[0]);
    expect(down).toEqual(['INVITE', 'CANCEL']);
    expect(w.sent[1]!.data).toContain(SipMessage.parse(Buffer.from(inv, 'latin1')).topVia.branch!);
    const invCtx = request(w);
    expect(call(tm, 't_is_canceled', invCtx)).toBe(1);
    w.layer.onReply(replyTo(w, inv, 487, 'Request Terminated'));
    expect(w.upstream.map(statusOf)).toEqual([100, 180, 200, 487]);
    // The ACK for our 487 is absorbed by the transaction.
    const ack = request(w, INVITE.replace('INVITE sip:', 'ACK sip:').replace('CSeq: 7 INVITE', 'CSeq: 7 ACK'));
    expect(call(tm, 't_check_trans', ack)).toBe(0);
    w.layer.close();
  });

  it('fr_timer fires a 408 and the failure route sees t_branch_timeout', async () => {
    const w = world();
    const seen: unknown[] = [];
    w.callbacks.set('f', (fctx) => seen.push(call(tm, 't_branch_timeout', fctx), call(tm, 't_any_timeout', fctx), call(tm, 't_get_status_code', fctx)));
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_on_failure', ctx, 'f');
    expect(call(tm, 't_set_fr', ctx, 300, 150)).toBe(1);
    call(tm, 't_relay', ctx);
    await new Promise((r) => setTimeout(r, 450));
    expect(seen).toEqual([1, 1, 408]);
    expect(w.upstream.map(statusOf)).toEqual([100, 408]);
    // UDP retransmissions happened meanwhile (T1 = 500 ms is longer, so none yet) and stopped.
    expect(w.layer.stats.timedOut).toBe(1);
    w.layer.close();
  });

  it('t_set_retr shortens the retransmission interval; t_set_max_lifetime ends the transaction early', async () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    expect(call(tm, 't_set_retr', ctx, 50, 100)).toBe(1);
    expect(call(tm, 't_set_max_lifetime', ctx, 200, 300)).toBe(1);
    call(tm, 't_relay', ctx);
    await new Promise((r) => setTimeout(r, 300));
    // INVITE at 0, then timer A from T1 = 50 ms: 50, 150 (doubling); with the default T1 only one copy by now.
    const invites = (): number => w.sent.filter((x) => x.data.startsWith('INVITE')).length;
    expect(invites()).toBe(3);
    // The 200 ms lifetime ended it before the copy due at 350 ms.
    await new Promise((r) => setTimeout(r, 300));
    expect(invites()).toBe(3);
    expect(call(tm, 't_set_retr', ctx, -1, 0)).toBe(-1);
    w.layer.close();
  });

  it('tmx t_reply_callid / t_cancel_callid find the INVITE transaction by Call-ID and CSeq number', () => {
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx);
    // A ringing branch, so that a CANCEL can go out.
    w.layer.onReply(replyTo(w, w.sent[0]!.data, 180, 'Ringing'));
    const other = request(w, INVITE.replace('Call-ID: call-1@192.0.2.10', 'Call-ID: other@x'));
    expect(call(tmx, 't_reply_callid', other, 'nope@x', '7', 480, 'Gone')).toBe(-1);
    expect(call(tmx, 't_reply_callid', other, 'call-1@192.0.2.10', '8', 480, 'Gone')).toBe(-1);
    expect(call(tmx, 't_cancel_callid', other, 'call-1@192.0.2.10', '7', 0)).toBe(1);
    expect(w.sent.map((x) => x.data.split(' ')[0])).toContain('CANCEL');
    expect(call(tmx, 't_reply_callid', other, 'call-1@192.0.2.10', '7', 480, 'Gone')).toBe(1);
    expect(w.upstream.map(statusOf)).toContain(480);
    w.layer.close();
  });

  it('t_reply and t_send_reply answer within the transaction; t_release drops it', () => {
    const w = world();
    const ctx = request(w);
    expect(call(tm, 't_reply', ctx, 404, 'Not Found')).toBe(-1);
    expect(call(tm, 't_send_reply', ctx, 404, 'Not Found')).toBe(1);
    expect(w.upstream.map(statusOf)).toEqual([404]);
    expect(call(tm, 't_retransmit_reply', ctx)).toBe(1);
    expect(w.upstream).toHaveLength(2);
    const other = request(w, INVITE.replace('Call-ID: call-1', 'Call-ID: call-2').replace('z9hG4bKabc', 'z9hG4bKdef'));
    expect(call(tm, 't_newtran', other)).toBe(1);
    expect(call(tm, 't_newtran', other)).toBe(-10);
    expect(call(tm, 't_release', other)).toBe(1);
    expect(call(tm, 't_lookup_request', request(w, INVITE.replace('Call-ID: call-1', 'Call-ID: call-2').replace('z9hG4bKabc', 'z9hG4bKdef')))).toBe(-1);
    w.layer.close();
  });

  it('a request looked up again after the table changed sees the change (the last lookup is kept)', () => {
    const w = world();
    const ctx = request(w);
    expect(w.layer.lookup(ctx.msg)).toBeUndefined();
    expect(call(tm, 't_newtran', ctx)).toBe(1);
    const t = w.layer.lookup(ctx.msg);
    expect(t).toBeDefined();
    const other = request(w, INVITE.replace('Call-ID: call-1', 'Call-ID: call-2').replace('z9hG4bKabc', 'z9hG4bKdef'));
    expect(w.layer.lookup(other.msg)).toBeUndefined();
    // A retransmission (another message object, same key) finds it as well.
    expect(w.layer.lookup(request(w).msg)).toBe(t);
    expect(w.layer.lookup(ctx.msg)).toBe(t);
    expect(call(tm, 't_release', ctx)).toBe(1);
    expect(w.layer.lookup(ctx.msg)).toBeUndefined();
    w.layer.close();
  });

  it('arms and reads the per-transaction switches and callbacks', () => {
    const w = world();
    const ctx = request(w);
    for (const n of ['t_on_branch', 't_on_reply', 't_on_branch_failure']) expect(call(tm, n, ctx, 'cb')).toBe(1);
    expect(call(tm, 't_is_set', ctx, 'onreply_route')).toBe(1);
    expect(call(tm, 't_is_set', ctx, 'branch_route')).toBe(1);
    for (const n of ['t_set_auto_inv_100', 't_set_disable_6xx', 't_set_disable_internal_reply', 't_set_no_e2e_cancel_reason', 't_set_disable_failover']) expect(call(tm, n, ctx, 1)).toBe(1);
    expect(call(tm, 't_set_fr_inv', ctx, 5000)).toBe(1);
    expect(call(tm, 't_set_fr', ctx, 5, 0)).toBe(-1);
    expect(call(tm, 't_reset_fr', ctx)).toBe(1);
    expect(call(tm, 't_get_branch_index', ctx)).toBe(0);
    expect(call(tm, 't_is_expired', ctx)).toBe(-1);
    expect(call(tm, 't_grep_status', ctx, 200)).toBe(-1);
    expect(call(tm, 't_any_replied', ctx)).toBe(-1);
    expect(call(tm, 't_drop_replies', ctx, 'a')).toBe(-1);
    expect(call(tm, 't_drop_replies_all', ctx)).toBe(-1);
    expect(call(tm, 't_clean', ctx)).toBe(1);
    expect(call(tm, 't_lookup_cancel_flags', ctx, 1)).toBe(-1);
    w.layer.close();
  });

  it('t_relay_to_* variants force the destination or the transport', () => {
    for (const [name, args, target] of [
      ['t_relay_to_proxy', ['udp:192.0.2.40:5070'], '192.0.2.40:5070'],
      ['t_relay_to_proto_addr', ['udp', '192.0.2.41', 5071], '192.0.2.41:5071'],
      ['t_relay_to_proxy_flags', ['192.0.2.42:5072', 1], '192.0.2.42:5072'],
    ] as const) {
      const w = world();
      const ctx = request(w);
      expect(call(tm, name, ctx, ...args), name).toBe(1);
      expect(w.sent[0]!.target).toBe(target);
      w.layer.close();
    }
    const w = world();
    const ctx = request(w);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    expect(call(tm, 't_relay_to_flags', ctx, 1)).toBe(1);
    expect(w.upstream).toHaveLength(0); // flag 1: no automatic 100
    expect(call(tm, 't_relay_to_proto', request(w), 'bogus')).toBe(-1);
    w.layer.close();
  });
});

describe('KSR.tmx', () => {
  it('tests the route type, cancels branches, flushes flags, drops', () => {
    const w = world();
    const ctx = request(w);
    expect(call(tmx, 't_is_request_route', ctx)).toBe(1);
    expect(call(tmx, 't_is_branch_route', ctx)).toBe(-1);
    expect(call(tmx, 't_is_reply_route', ctx)).toBe(-1);
    expect(call(tmx, 't_precheck_trans', ctx)).toBe(-1);
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(tm, 't_relay', ctx);
    expect(call(tmx, 't_precheck_trans', request(w))).toBe(1);
    ctx.flags = 8;
    expect(call(tmx, 't_flush_flags', ctx)).toBe(1);
    w.layer.onReply(replyTo(w, w.sent[0]!.data, 180, 'Ringing'));
    expect(call(tmx, 't_cancel_branches', ctx, 'all')).toBe(1);
    expect(w.sent.map((s) => s.data.split(' ')[0])).toEqual(['INVITE', 'CANCEL']);
    expect(call(tmx, 't_cancel_branches', ctx, 'bogus')).toBe(-1);
    const other = request(w, INVITE.replace('Call-ID: call-1', 'Call-ID: call-3').replace('z9hG4bKabc', 'z9hG4bKxyz'));
    call(tm, 't_newtran', other);
    expect(call(tmx, 't_drop', other)).toBe(0);
    expect(call(tmx, 't_drop_rcode', request(w), 500)).toBe(0);
    w.layer.close();
  });
});

describe('contexts tm derives for its routes', () => {
  it('a branch route gets its own copy of the request\'s module state and the forced socket', () => {
    const w = world();
    const seen: { added: boolean; params: string; socket: string | null }[] = [];
    w.callbacks.set('br', (bctx) => {
      const st = rrState(bctx);
      seen.push({ added: st.added, params: st.params, socket: bctx.forcedSocket });
      // Only the first branch record-routes, with a parameter of its own.
      if (bctx.branchIndex === 0) {
        expect(call(rr, 'record_route_params', bctx, 'first=1')).toBe(1);
      }
    });
    const ctx = request(w);
    ctx.forcedSocket = 'udp:127.0.0.1:5060';
    call(rr, 'add_rr_param', ctx, ';req=1');
    ctx.dstUri = 'sip:192.0.2.20:5080';
    call(corex, 'append_branch', ctx, 'sip:bob@192.0.2.21:5080');
    call(tm, 't_on_branch', ctx, 'br');
    expect(call(tm, 't_relay', ctx)).toBe(1);
    expect(seen).toEqual([
      { added: false, params: ';req=1', socket: 'udp:127.0.0.1:5060' },
      // The second branch must not see what the first branch route did.
      { added: false, params: ';req=1', socket: 'udp:127.0.0.1:5060' },
    ]);
    // Nor the request's own state afterwards.
    expect(rrState(ctx)).toMatchObject({ added: false, params: ';req=1' });
    w.layer.close();
  });
});
