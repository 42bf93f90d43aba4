/** KSR.pv, hdr, sl, maxfwd, siputils, sanity, corex and rr against parsed messages. */
import { describe, expect, it } from 'vitest';
import pv from '../../kemi/pv.js';
import hdr from '../../kemi/hdr.js';
import sl from '../../kemi/sl.js';
import maxfwd from '../../kemi/maxfwd.js';
import siputils from '../../kemi/siputils.js';
import sanity from '../../kemi/sanity.js';
import corex from '../../kemi/corex.js';
import rr from '../../kemi/rr.js';
import { SipMessage } from '../../src/sip/index.js';
import { recordRouteLines } from '../../src/rr/record-route.js';
import { call, context, INVITE, out, REPLY } from './helpers.js';

describe('KSR.pv', () => {
  it('reads message pseudo-variables with Kamailio types', () => {
    const { ctx } = context();
    const g = (s: string) => call(pv, 'get', ctx, s);
    expect(g('$ru')).toBe('sip:bob@kemi.test:5060;transport=udp');
    expect([g('$rU'), g('$rd'), g('$rp'), g('$rz')]).toEqual(['bob', 'kemi.test', '5060', 'sip']); // $rp a string, as Kamailio (test/e2e/pv-diff)
    expect([g('$fu'), g('$fU'), g('$fd'), g('$fn'), g('$ft')]).toEqual(['sip:alice@example.org', 'alice', 'example.org', '"Alice"', 'ft1']); // $fn as written, quotes kept (Kamailio)
    expect([g('$tu'), g('$tU'), g('$td'), g('$tt')]).toEqual(['sip:bob@kemi.test', 'bob', 'kemi.test', null]);
    expect([g('$ci'), g('$cs'), g('$rm'), g('$si'), g('$sp'), g('$Ri'), g('$Rp'), g('$pr'), g('$proto')]).toEqual(['call-1@192.0.2.10', '7', 'INVITE', '192.0.2.10', 5070, '127.0.0.1', 5060, 'udp', 'udp']);
    expect([g('$ua'), g('$ct'), g('$cl'), g('$rb'), g('$hdr(X-Multi)'), g('$(hdr(X-Multi)[1])')]).toEqual(['test-ua', '<sip:alice@192.0.2.10:5070>', 5, 'v=0\r\n', 'a', 'b']);
    expect(typeof g('$mi')).toBe('number');
    expect(g('$ml')).toBe(Buffer.byteLength(INVITE, 'latin1'));
    expect(g('$du')).toBeNull();
    const r = context(REPLY).ctx;
    expect([call(pv, 'get', r, '$rs'), call(pv, 'get', r, '$rr'), call(pv, 'get', r, '$ru')]).toEqual([486, 'Busy Here', null]);
  });

  it('has get/gete/getw/getvn/getvs/geti null conventions and is_null', () => {
    const { ctx } = context();
    expect(call(pv, 'get', ctx, '$avp(none)')).toBeNull();
    expect(call(pv, 'gete', ctx, '$avp(none)')).toBe('');
    expect(call(pv, 'getw', ctx, '$avp(none)')).toBe('<null>');
    expect(call(pv, 'getvn', ctx, '$avp(none)', 9)).toBe(9);
    expect(call(pv, 'getvs', ctx, '$avp(none)', 'd')).toBe('d');
    expect(call(pv, 'geti', ctx, '$sp')).toBe(5070);
    expect(call(pv, 'is_null', ctx, '$avp(none)')).toBe(true);
    expect(call(pv, 'is_null', ctx, '$ru')).toBe(false);
  });

  it('reads a name that is no PV as null and refuses to set it, logging the name once (as Kamailio)', () => {
    const { ctx, rec } = context();
    expect(call(pv, 'get', ctx, '$nosuchpv')).toBeNull();
    expect(call(pv, 'gete', ctx, '$nosuchpv')).toBe('');
    expect(call(pv, 'sets', ctx, '$nosuchpv', 'x')).toBe(false);
    expect(call(pv, 'get', ctx, 'no dollar')).toBeNull();
    expect(rec.logs.filter((l) => l.text.includes('$nosuchpv'))).toHaveLength(1);
    expect(rec.logs.filter((l) => l.text.includes("invalid pseudo-variable 'no dollar'"))).toHaveLength(1);
  });

  it('writes $ru parts, $du, $var, $avp, $xavp, $shv; unset removes', () => {
    const { ctx } = context();
    expect(call(pv, 'sets', ctx, '$rU', 'carol')).toBe(true);
    expect(call(pv, 'sets', ctx, '$rd', '192.0.2.3')).toBe(true);
    expect(call(pv, 'seti', ctx, '$rp', 5080)).toBe(true);
    expect(ctx.msg.ruri).toBe('sip:carol@192.0.2.3:5080;transport=udp');
    expect(call(pv, 'sets', ctx, '$du', 'sip:192.0.2.4')).toBe(true);
    expect(ctx.dstUri).toBe('sip:192.0.2.4');
    call(pv, 'sets', ctx, '$var(x)', 'one');
    expect(call(pv, 'get', ctx, '$var(x)')).toBe('one');
    // $var is per process: another message sees it.
    expect(call(pv, 'get', context().ctx, '$var(x)')).toBe('one');
    call(pv, 'seti', ctx, '$avp(a)', 1);
    call(pv, 'seti', ctx, '$avp(a)', 2);
    expect([call(pv, 'get', ctx, '$avp(a)'), call(pv, 'get', ctx, '$(avp(a)[1])')]).toEqual([2, 1]);
    call(pv, 'sets', ctx, '$xavp(r=>f)', 'v');
    expect(call(pv, 'get', ctx, '$xavp(r=>f)')).toBe('v');
    call(pv, 'sets', ctx, '$shv(s)', 'shared');
    expect(call(pv, 'get', context().ctx, '$shv(s)')).toBe('shared');
    // As Kamailio: unset removes the newest value only; [*] removes them all.
    expect(call(pv, 'unset', ctx, '$avp(a)')).toBe(true);
    expect(call(pv, 'get', ctx, '$avp(a)')).toBe(1);
    call(pv, 'seti', ctx, '$avp(a)', 3);
    expect(call(pv, 'get', ctx, '$(avp(a)[*])')).toBe('3, 1');
    call(pv, 'unset', ctx, '$(avp(a)[*])');
    expect(call(pv, 'get', ctx, '$avp(a)')).toBeNull();
    // $xavp(r=>g) = v starts a new r item; $xavp(r[0]=>g) adds to the newest one.
    call(pv, 'sets', ctx, '$xavp(r=>g)', 'w');
    expect([call(pv, 'get', ctx, '$xavp(r=>g)'), call(pv, 'get', ctx, '$xavp(r=>f)'), call(pv, 'get', ctx, '$xavp(r[1]=>f)')]).toEqual(['w', null, 'v']);
    call(pv, 'sets', ctx, '$xavp(r[0]=>f)', 'x');
    expect(call(pv, 'get', ctx, '$xavp(r=>f)')).toBe('x');
    call(pv, 'unset', ctx, '$var(x)');
  });

  it('reads credentials: $au $ar $ad ("" when the username has no domain, as Kamailio)', () => {
    const { ctx } = context(INVITE.replace('User-Agent: test-ua', 'Proxy-Authorization: Digest username="alice", realm="kemi.test", nonce="n", uri="sip:x", response="r"'));
    expect([call(pv, 'get', ctx, '$au'), call(pv, 'get', ctx, '$ar'), call(pv, 'get', ctx, '$ad')]).toEqual(['alice', 'kemi.test', '']);
  });
});

describe('KSR.hdr', () => {
  it('adds, inserts and removes header lines in the outgoing copy', () => {
    const { ctx } = context();
    expect(call(hdr, 'append', ctx, 'X-A: 1\r\n')).toBe(1);
    expect(call(hdr, 'insert', ctx, 'X-First: 1\r\n')).toBe(1);
    expect(call(hdr, 'append_after', ctx, 'X-After-To: 1\r\n', 'To')).toBe(1);
    expect(call(hdr, 'insert_before', ctx, 'X-Before-From: 1\r\n', 'f')).toBe(1);
    expect(call(hdr, 'remove', ctx, 'User-Agent')).toBe(1);
    expect(call(hdr, 'rmappend', ctx, 'X-Multi', 'X-Multi: c\r\n')).toBe(1);
    expect(call(hdr, 'rminsert', ctx, 'Subject', 'Subject: s\r\n')).toBe(1);
    expect(call(hdr, 'append', ctx, '')).toBe(-1);
    const o = out(ctx);
    expect(o).toMatch(/^INVITE [^\r]+\r\nX-First: 1\r\nSubject: s\r\nVia:/);
    expect(o).toContain('X-Before-From: 1\r\nFrom:');
    expect(o).toContain('To: <sip:bob@kemi.test>\r\nX-After-To: 1\r\n');
    expect(o).not.toContain('User-Agent');
    expect(o).not.toContain('X-Multi: a');
    expect(o).toContain('X-A: 1\r\nX-Multi: c\r\n\r\nv=0');
    // Reads see the received message.
    expect(call(hdr, 'get', ctx, 'User-Agent')).toBe('test-ua');
  });

  it('tests and reads headers, with null conventions and indexes', () => {
    const { ctx } = context();
    expect(call(hdr, 'is_present', ctx, 'x-multi')).toBe(1);
    expect(call(hdr, 'is_present', ctx, 'X-None')).toBe(-1);
    expect([call(hdr, 'get', ctx, 'X-None'), call(hdr, 'gete', ctx, 'X-None'), call(hdr, 'getw', ctx, 'X-None')]).toEqual([null, '', '<null>']);
    expect([call(hdr, 'get_idx', ctx, 'X-Multi', 1), call(hdr, 'get_idx', ctx, 'X-Multi', -1), call(hdr, 'gete_idx', ctx, 'X-Multi', 5), call(hdr, 'getw_idx', ctx, 'X-Multi', 5)]).toEqual(['b', 'b', '', '<null>']);
    expect(call(hdr, 'match_content', ctx, 'X-Multi', 'eq', 'A', 'f')).toBe(true);
    expect(call(hdr, 'match_content', ctx, 'X-Multi', 'eq', 'a', 'a')).toBe(false);
    expect(call(hdr, 'match_content', ctx, 'X-Multi', 'in', 'b', 'o')).toBe(true);
  });

  it('append_to_reply adds to the next local reply', () => {
    const { ctx } = context();
    expect(call(hdr, 'append_to_reply', ctx, 'X-Why: test\r\n')).toBe(1);
    expect(ctx.replyHeaders).toBe('X-Why: test\r\n');
  });
});

describe('KSR.sl', () => {
  it('sl_forward_reply relays the reply with a new code in the same class and a new reason', () => {
    const { ctx, rec } = context(REPLY);
    expect(call(sl, 'sl_forward_reply', ctx, '', '')).toBe(1);
    expect(call(sl, 'sl_forward_reply', ctx, '480', 'Gone Away')).toBe(1);
    expect(call(sl, 'sl_forward_reply', ctx, '503', '')).toBe(-1); // 486 -> 5xx: the class cannot change
    expect(call(sl, 'sl_forward_reply', ctx, '48', '')).toBe(-1);
    expect(rec.forwards).toEqual(['reply 486 Busy Here', 'reply 480 Gone Away']);
    expect(call(sl, 'sl_forward_reply', context().ctx, '', '')).toBe(-1); // not a reply
  });

  it('sends stateless replies, refuses them for ACK', () => {
    const { ctx, rec } = context();
    expect(call(sl, 'sl_send_reply', ctx, 404, 'Not Found')).toBe(1);
    expect(call(sl, 'send_reply', ctx, 480, 'Later')).toBe(1);
    expect(call(sl, 'send_reply_mode', ctx, 481, 'X', 2)).toBe(1);
    expect(ctx.sendFlags.replyClose).toBe(true);
    expect(rec.replies.map((r) => r.code)).toEqual([404, 480, 481]);
    expect(call(sl, 'sl_reply_error', ctx)).toBe(-2);
    const fresh = context();
    expect(call(sl, 'sl_reply_error', fresh.ctx)).toBe(1);
    expect(fresh.rec.replies[0]).toMatchObject({ code: 500 });
    const ack = context(INVITE.replace(/INVITE/g, 'ACK'));
    expect(call(sl, 'sl_send_reply', ack.ctx, 200, 'OK')).toBe(-1);
  });
});

describe('KSR.maxfwd', () => {
  it('decrements, adds when absent, answers -1 at 0', () => {
    const { ctx } = context();
    expect(call(maxfwd, 'process_maxfwd', ctx, 10)).toBe(1);
    expect(out(ctx)).toContain('Max-Forwards: 69\r\n');
    const none = context(INVITE.replace('Max-Forwards: 70\r\n', ''));
    expect(call(maxfwd, 'process_maxfwd', none.ctx, 10)).toBe(2);
    expect(out(none.ctx)).toContain('Max-Forwards: 10\r\n');
    const zero = context(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    expect(call(maxfwd, 'process_maxfwd', zero.ctx, 10)).toBe(-1);
    const high = context(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 200'));
    expect(call(maxfwd, 'process_maxfwd', high.ctx, 10)).toBe(1);
    expect(out(high.ctx)).toContain('Max-Forwards: 69\r\n');
    expect(call(maxfwd, 'is_maxfwd_lt', context().ctx, 5)).toBe(-1);
    expect(call(maxfwd, 'is_maxfwd_lt', zero.ctx, 5)).toBe(1);
    expect(call(maxfwd, 'is_maxfwd_lt', none.ctx, 5)).toBe(-2);
  });
});

describe('KSR.siputils', () => {
  it('tests To-tag, request/reply and first hop', () => {
    expect(call(siputils, 'has_totag', context().ctx)).toBe(-1);
    expect(call(siputils, 'has_totag', context(REPLY).ctx)).toBe(1);
    expect(call(siputils, 'is_request', context().ctx)).toBe(1);
    expect(call(siputils, 'is_reply', context(REPLY).ctx)).toBe(1);
    expect(call(siputils, 'is_first_hop', context().ctx)).toBe(1);
  });

  it('checks strings and URIs', () => {
    const { ctx } = context();
    expect(call(siputils, 'is_uri', ctx, 'sip:a@b')).toBe(1);
    expect(call(siputils, 'is_uri', ctx, 'nope')).toBe(-1);
    // is_user looks at credentials that passed auth_check: none here (Kamailio: -1).
    expect(call(siputils, 'is_user', ctx, 'bob')).toBe(-1);
    expect(call(siputils, 'is_tel_number', ctx, '+4912345')).toBe(1);
    expect(call(siputils, 'is_tel_number', ctx, '+0123')).toBe(-2);
    expect(call(siputils, 'is_numeric', ctx, '12a')).toBe(-2);
    expect(call(siputils, 'is_alphanum', ctx, 'ab-1')).toBe(-3);
    expect(call(siputils, 'is_alphanum', ctx, 'abc123')).toBe(1);
    expect(call(siputils, 'is_alphanumex', ctx, 'a-b_c', '-_')).toBe(1);
    expect(call(siputils, 'is_gruu', ctx)).toBe(-1);
    expect(call(siputils, 'cmp_uri', ctx, 'sip:a@B.com', 'sip:a@b.com')).toBe(1);
    expect(call(siputils, 'cmp_aor', ctx, 'sip:a@b.com;x=y', 'sip:a@b.com:5060')).toBe(1);
    expect(call(siputils, 'cmp_hdr_name', ctx, 'f', 'From')).toBe(1);
  });

  it('hdr_date_check: fresh, outdated and missing Date headers', () => {
    const at = (secondsAgo: number): string => new Date(Date.now() - secondsAgo * 1000).toUTCString();
    const withDate = (d: string): string => INVITE.replace('User-Agent: test-ua', `Date: ${d}`);
    expect(call(siputils, 'hdr_date_check', context(withDate(at(5))).ctx, 60)).toBe(1);
    expect(call(siputils, 'hdr_date_check', context(withDate(at(120))).ctx, 60)).toBe(-4);
    expect(call(siputils, 'hdr_date_check', context().ctx, 60)).toBe(-1);
    expect(call(siputils, 'hdr_date_check', context(withDate('yesterday')).ctx, 60)).toBe(-1);
  });

  it('handles R-URI parameters', () => {
    const { ctx } = context();
    // uri_param(name) without a value matches a parameter that has none (Kamailio's checks.c).
    expect(call(siputils, 'uri_param', ctx, 'transport')).toBe(-1);
    expect(call(siputils, 'uri_param_value', ctx, 'transport', 'udp')).toBe(1);
    expect(call(siputils, 'uri_param_any', ctx, 'x,transport')).toBe(1);
    expect(call(siputils, 'add_uri_param', ctx, 'nat=yes')).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:bob@kemi.test:5060;transport=udp;nat=yes');
    expect(call(siputils, 'uri_param_rm', ctx, 'transport')).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:bob@kemi.test:5060;nat=yes');
    expect(call(siputils, 'add_uri_param', ctx, 'lr')).toBe(1);
    expect(call(siputils, 'uri_param', ctx, 'lr')).toBe(1);
  });

  it('answers OPTIONS to the proxy itself', () => {
    const { ctx, rec } = context(INVITE.replace(/INVITE/g, 'OPTIONS').replace('sip:bob@kemi.test:5060;transport=udp', 'sip:127.0.0.1:5060'));
    expect(call(siputils, 'options_reply', ctx)).toBe(1);
    expect(rec.replies[0]!.code).toBe(200);
    expect(call(siputils, 'options_reply', context().ctx)).toBe(-1);
  });
});

describe('KSR.sanity', () => {
  it('passes a good request and answers a bad one', () => {
    expect(call(sanity, 'sanity_check', context().ctx, 17895, 7)).toBe(1);
    expect(call(sanity, 'sanity_check_defaults', context().ctx)).toBe(1);
    const bad = context(INVITE.replace('CSeq: 7 INVITE', 'CSeq: 7 BYE'));
    expect(call(sanity, 'sanity_check', bad.ctx, 32, 0)).toBe(-1);
    expect(bad.rec.replies[0]!.code).toBe(400);
    const pr = context(INVITE.replace('User-Agent: test-ua', 'Proxy-Require: foo'));
    expect(call(sanity, 'sanity_check', pr.ctx, 512, 0)).toBe(-1);
    expect(pr.rec.replies[0]!.code).toBe(420);
    pr.ctx.replied = false;
    expect(call(sanity, 'sanity_reply', pr.ctx)).toBe(1);
  });
});

describe('KSR.corex', () => {
  it('appends branches and tests the message', () => {
    const { ctx } = context();
    expect(call(corex, 'append_branch', ctx)).toBe(1);
    expect(call(corex, 'append_branch_uri', ctx, 'sip:x@192.0.2.1')).toBe(1);
    expect(call(corex, 'append_branch_uri_q', ctx, 'sip:y@192.0.2.2', '0.5')).toBe(1);
    expect(ctx.branches.map((b) => [b.uri, b.q])).toEqual([['sip:bob@kemi.test:5060;transport=udp', -1], ['sip:x@192.0.2.1', -1], ['sip:y@192.0.2.2', 0.5]]);
    expect(call(corex, 'has_ruri_user', ctx)).toBe(1);
    expect(call(corex, 'has_user_agent', ctx)).toBe(1);
    expect(call(corex, 'is_faked_msg', ctx)).toBe(-1);
    expect(call(corex, 'set_send_socket', ctx, 'udp:127.0.0.1:5060')).toBe(1);
    expect(ctx.forcedSocket).toBe('udp:127.0.0.1:5060');
  });

  it('reads and writes files', () => {
    const { ctx } = context();
    const p = `/tmp/kemi-corex-${process.pid}.txt`;
    expect(call(corex, 'file_write', ctx, p, 'data')).toBe(1);
    expect(call(corex, 'file_read', ctx, p)).toBe('data');
    expect(call(corex, 'file_read', ctx, '/nonexistent/x')).toBeNull();
  });
});

describe('KSR.rr', () => {
  const sock = { proto: 'udp' as const, address: '127.0.0.1', port: 5060, family: 4 as const, id: 'udp:127.0.0.1:5060' };
  const tcp = { proto: 'tcp' as const, address: '127.0.0.1', port: 5060, family: 4 as const, id: 'tcp:127.0.0.1:5060' };

  it('record_route marks once; the header is written with lr, ftag and params, doubled across sockets', () => {
    const { ctx } = context();
    expect(call(rr, 'record_route', ctx)).toBe(1);
    expect(call(rr, 'record_route', ctx)).toBe(-1);
    expect(call(rr, 'add_rr_param', ctx, ';nat=yes')).toBe(1);
    expect(recordRouteLines(ctx, sock, sock)).toBe('Record-Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>\r\n');
    expect(recordRouteLines(ctx, sock, tcp)).toBe('Record-Route: <sip:127.0.0.1:5060;transport=tcp;r2=on;lr;ftag=ft1;nat=yes>\r\nRecord-Route: <sip:127.0.0.1:5060;r2=on;lr;ftag=ft1;nat=yes>\r\n');
    expect(call(rr, 'remove_record_route', ctx)).toBe(1);
    expect(recordRouteLines(ctx, sock, sock)).toBe('');
    const p = context();
    expect(call(rr, 'record_route_params', p.ctx, 'x=1')).toBe(1);
    expect(recordRouteLines(p.ctx, sock, sock)).toContain(';lr;ftag=ft1;x=1>');
    const pre = context();
    expect(call(rr, 'record_route_preset', pre.ctx, '192.0.2.100:5060', '')).toBe(1);
    expect(recordRouteLines(pre.ctx, sock, sock)).toBe('Record-Route: <sip:192.0.2.100:5060;lr;ftag=ft1>\r\n');
    const one = context();
    expect(call(rr, 'record_route_preset_one', one.ctx, 'sip:192.0.2.101')).toBe(1);
    const adv = context();
    expect(call(rr, 'record_route_advertised_address', adv.ctx, '192.0.2.102')).toBe(1);
  });

  it('loose_route consumes our Route, sets $du to the next loose hop, and reports params and direction', () => {
    // In dialog, the R-URI is the peer's contact (an R-URI that is ours means a strict router before us).
    const inDialog = INVITE.replace('To: <sip:bob@kemi.test>', 'To: <sip:bob@kemi.test>;tag=tt1')
      .replace('INVITE sip:bob@kemi.test:5060;transport=udp', 'INVITE sip:bob@192.0.2.99:5060;transport=udp')
      .replace('Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>', 'Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>, <sip:192.0.2.50;lr>');
    const { ctx } = context(inDialog);
    expect(call(rr, 'loose_route', ctx)).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.50;lr');
    expect(out(ctx)).toContain('Route: <sip:192.0.2.50;lr>\r\n');
    expect(out(ctx)).not.toContain('127.0.0.1:5060;lr;ftag');
    expect(call(rr, 'check_route_param', ctx, 'nat=yes')).toBe(1);
    expect(call(rr, 'check_route_param', ctx, 'nat=no')).toBe(-1);
    expect(call(rr, 'is_direction', ctx, 'downstream')).toBe(1);
    expect(call(rr, 'is_direction', ctx, 'upstream')).toBe(-1);
    expect(call(rr, 'is_direction', ctx, 'sideways')).toBe(-6);
    expect(call(rr, 'next_hop_route', ctx)).toBe(1);
    expect(call(rr, 'loose_route', context(INVITE.replace(/Route: [^\r]+\r\n/, '')).ctx)).toBe(-1);
    // An initial request whose preloaded Route only names us.
    expect(call(rr, 'loose_route', context().ctx)).toBe(-3);
    expect(call(rr, 'loose_route_preloaded', context().ctx)).toBe(1);
    expect(call(rr, 'loose_route_mode', context(INVITE.replace(/Route: [^\r]+\r\n/, '')).ctx, 1)).toBe(-1);
  });

  it('loose_route puts a strict next hop into the R-URI', () => {
    const strict = INVITE.replace('To: <sip:bob@kemi.test>', 'To: <sip:bob@kemi.test>;tag=tt1')
      .replace('INVITE sip:bob@kemi.test:5060;transport=udp', 'INVITE sip:bob@192.0.2.99:5060;transport=udp')
      .replace('Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>', 'Route: <sip:127.0.0.1:5060;lr>, <sip:192.0.2.60>');
    const { ctx } = context(strict);
    expect(call(rr, 'loose_route', ctx)).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:192.0.2.60');
    const m = SipMessage.parse(ctx.msg.serialize());
    expect(m.headerList('route')).toEqual(['<sip:bob@192.0.2.99:5060;transport=udp>']);
  });
});

describe('KSR.kx', () => {
  it('has nil / "" / "<null>" flavours and reads message and network data', async () => {
    const kx = (await import('../../kemi/kx.js')).default;
    const { ctx } = context();
    const g = (n: string) => call(kx, n, ctx);
    expect([g('get_ruri'), g('get_ruser'), g('get_rhost'), g('get_furi'), g('get_fuser'), g('get_thost')]).toEqual([
      'sip:bob@kemi.test:5060;transport=udp', 'bob', 'kemi.test', 'sip:alice@example.org', 'alice', 'kemi.test',
    ]);
    expect([g('get_duri'), g('gete_duri'), g('getw_duri')]).toEqual([null, '', '<null>']);
    expect([g('get_method'), g('get_callid'), g('get_ua'), g('get_proto'), g('get_body')]).toEqual(['INVITE', 'call-1@192.0.2.10', 'test-ua', 'udp', 'v=0\r\n']);
    expect([g('get_srcip'), g('get_srcport'), g('get_rcvip'), g('get_rcvport')]).toEqual(['192.0.2.10', 5070, '127.0.0.1', 5060]);
    expect(kx.exports.length).toBeGreaterThanOrEqual(60);
  });
});
