/** KSR.textops, KSR.textopsx and KSR.xlog against parsed messages (Kamailio 5.6 semantics). */
import { describe, expect, it } from 'vitest';
import textops, { parseSubst } from '../../kemi/textops.js';
import { PosixRegex } from '../../src/lib/posix-regex.js';
import textopsx, { globMatch } from '../../kemi/textopsx.js';
import xlog from '../../kemi/xlog.js';
import pv from '../../kemi/pv.js';
import { SipMessage } from '../../src/sip/index.js';
import { call, context, INVITE, out, REPLY } from './helpers.js';

const SDP_HOLD = INVITE.replace('Content-Length: 5', 'Content-Length: 40').replace(/v=0\r\n$/, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n');
const SDP_ZERO = INVITE.replace('Content-Length: 5', 'Content-Length: 47').replace(/v=0\r\n$/, 'v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n');
const MP_BODY = '--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n';
const MULTIPART = INVITE.replace('Content-Type: application/sdp', 'Content-Type: multipart/mixed;boundary="b1"')
  .replace('Content-Length: 5', `Content-Length: ${MP_BODY.length}`).replace(/v=0\r\n$/, MP_BODY);

describe('KSR.textops searches', () => {
  it('search / search_body / search_hf / is_present_hf(_re) / has_body(_type)', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect([t('search', 'user-agent: TEST-ua'), t('search', '^X-None'), t('search', '^INVITE sip:'), t('search', '')]).toEqual([1, -1, 1, 1]);
    // REG_NEWLINE: "\r" is an ordinary character, so `$` after the value does not match.
    expect([t('search', 'test-ua$'), t('search', 'test-ua\r$')]).toEqual([-1, 1]);
    expect([t('search_body', '^v=0'), t('search_body', 'm=video')]).toEqual([1, -1]);
    expect([t('search_hf', 'X-Multi', '^b$', 'l'), t('search_hf', 'X-Multi', '^b$', 'f'), t('search_hf', 'X-Multi', '^b$', 'a'), t('search_hf', 'X-Multi', '^b$', '')]).toEqual([1, -1, 1, 1]);
    expect([t('is_present_hf', 'user-agent'), t('is_present_hf', 'Subject'), t('is_present_hf', 'i'), t('is_present_hf_re', '^X-M'), t('is_present_hf_re', '^Y-')]).toEqual([1, -1, 1, 1, -1]);
    expect([t('has_body'), t('has_body_type', 'application/sdp'), t('has_body_type', 'text/plain')]).toEqual([1, 1, -1]);
    expect(call(textops, 'has_body', context(REPLY).ctx)).toBe(-1);
    expect([t('search_str', 'abc123', '[[:digit:]]+$'), t('search_str', 'abc', 'x'), t('search_str', 'abc', ''), t('search_str', '', 'a')]).toEqual([1, -1, 2, -2]);
  });

  it('matches against the received message, not the edited one', () => {
    const { ctx } = context();
    expect(call(textops, 'remove_hf', ctx, 'User-Agent')).toBe(1);
    expect(call(textops, 'search', ctx, '^User-Agent')).toBe(1);
    expect(call(textops, 'is_present_hf', ctx, 'User-Agent')).toBe(1);
    expect(call(textopsx, 'msg_apply_changes', ctx)).toBe(1);
    expect(call(textops, 'is_present_hf', ctx, 'User-Agent')).toBe(-1);
  });
});

describe('KSR.textops edits', () => {
  it('subst (header and body ranges), subst_hf, search_append, replace*', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('subst', '/^User-Agent: ([^\r]*)/User-Agent: \\1 via kemi/')).toBe(1);
    expect(t('replace_all', 'X-Multi', 'X-Many')).toBe(1);
    expect(t('search_append', '^Subject-none', 'x')).toBe(-1);
    expect(t('search_append', 'Call-ID: call-1', '-appended')).toBe(1);
    expect(t('subst_body', '/v=0/v=1/')).toBe(1);
    expect(t('subst_hf', 'From', '/Alice/Carol/', 'a')).toBe(1);
    expect(t('subst_hf', 'To', '/nomatch/x/', 'f')).toBe(-1);
    const o = out(ctx);
    expect(o).toContain('User-Agent: test-ua via kemi\r\n');
    expect(o).toContain('X-Many: a\r\nX-Many: b\r\n');
    expect(o).toContain('Call-ID: call-1-appended@192.0.2.10\r\n');
    expect(o).toContain('From: "Carol" <sip:alice@example.org>;tag=ft1\r\n');
    expect(o.endsWith('\r\n\r\nv=1\r\n')).toBe(true);
    expect(SipMessage.parse(Buffer.from(o, 'latin1')).contentLength).toBe(5);
    expect(o.startsWith('INVITE sip:bob@kemi.test:5060;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc;rport\r\nMax-Forwards: 70\r\n')).toBe(true);
  });

  it('subst runs from the headers into the body; replacement escapes, $pv and \\u', () => {
    const { ctx } = context();
    expect(call(textops, 'subst', ctx, '/v=0/v=9/')).toBe(1);
    expect(out(ctx).endsWith('\r\n\r\nv=9\r\n')).toBe(true);
    const c2 = context().ctx;
    expect(call(textops, 'subst', c2, '/^(X-Multi): (.)/\\1: $rm-\\2-\\u/g')).toBe(1);
    expect(out(c2)).toContain('X-Multi: INVITE-a-sip:bob@kemi.test:5060;transport=udp\r\nX-Multi: INVITE-b-sip:bob');
    expect(call(textops, 'subst', c2, '/x/y/q')).toBe(-1);
    expect(call(textops, 'subst', c2, '/only-two/')).toBe(-1);
  });

  it('replace / replace_body / replace_body_all / replace_body_atonce / replace_hdrs / *_str', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('replace', 'test-ua', 'ua2')).toBe(1);
    expect(t('replace_hdrs', 'ft1', 'ft9')).toBe(1);
    expect(t('replace_body', '=', ':')).toBe(1);
    expect(out(ctx)).toContain('User-Agent: ua2\r\n');
    expect(out(ctx)).toContain('From: "Alice" <sip:alice@example.org>;tag=ft9\r\n');
    expect(out(ctx)).toContain('ftag=ft1');
    expect(ctx.msg.body.toString()).toBe('v:0\r\n');
    const c2 = context().ctx;
    expect(call(textops, 'replace_str', c2, 'ft1', 'FT', 'a')).toBe(1);
    expect(out(c2)).toContain(';tag=FT\r\n');
    expect(out(c2)).toContain('ftag=FT;');
    const c3 = context().ctx;
    expect(call(textops, 'replace_hdrs_str', c3, 'ft1', 'FT', 'f')).toBe(1);
    expect((out(c3).match(/FT/g) ?? []).length).toBe(1);
    const body = INVITE.replace('Content-Length: 5', 'Content-Length: 10').replace(/v=0\r\n$/, 'a=1\r\na=2\r\n');
    const c4 = context(body).ctx;
    expect(call(textops, 'replace_body_all', c4, '^a', 'b')).toBe(1);
    expect(c4.msg.body.toString()).toBe('b=1\r\nb=2\r\n');
    const c5 = context(body).ctx;
    expect(call(textops, 'replace_body_atonce', c5, '^a', 'b')).toBe(1);
    // REG_NOTBOL after the first match, but REG_NEWLINE still lets ^ match after a newline.
    expect(c5.msg.body.toString()).toBe('b=1\r\nb=2\r\n');
    expect(call(textops, 'replace_body_atonce', context(body).ctx, '[0-9]', '#')).toBe(1);
    const c6 = context(body).ctx;
    expect(call(textops, 'replace_body_str', c6, 'a=', 'x=', 'a')).toBe(1);
    expect(c6.msg.body.toString()).toBe('x=1\r\nx=2\r\n');
    expect(call(textops, 'search_append_body', c6, '1', '1')).toBe(1);
    expect(c6.msg.body.toString()).toBe('x=11\r\nx=2\r\n');
    expect(call(textops, 'replace_body', context(REPLY).ctx, 'a', 'b')).toBe(-1);
  });

  it('subst_uri / subst_user rewrite the R-URI', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('subst_uri', '/kemi\\.test/example.org/')).toBe(1);
    expect(t('subst_user', '/^bob$/+15551234/')).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:+15551234@example.org:5060;transport=udp');
    expect(t('subst_uri', '/nomatch/x/')).toBe(-1);
    expect(t('subst_user', '/.*/x/i')).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:x@example.org:5060;transport=udp');
    expect(call(textops, 'subst_uri', context(REPLY).ctx, '/a/b/')).toBe(-1);
  });

  it('removes headers: remove_hf, remove_hf_re, remove_hf_exp, remove_hf_idx, remove_hf_match', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('remove_hf', 'X-None')).toBe(1); // ki_remove_hf is 1 whatever it removed
    expect(t('remove_hf_re', '^User-')).toBe(1);
    expect(t('remove_hf_re', '^Nope')).toBe(-1);
    expect(t('remove_hf_exp', '^(Contact|Route)$', '^Route$')).toBe(1);
    let o = out(ctx);
    expect(o).not.toContain('User-Agent');
    expect(o).not.toContain('Contact:');
    expect(o).toContain('Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>');
    const c2 = context().ctx;
    expect(call(textops, 'remove_hf_idx', c2, 'X-Multi', -1)).toBe(1);
    expect(call(textops, 'remove_hf_idx', c2, 'X-Multi', 5)).toBe(2);
    o = out(c2);
    expect(o).toContain('X-Multi: a\r\n');
    expect(o).not.toContain('X-Multi: b');
    const c3 = context().ctx;
    expect(call(textops, 'remove_hf_match', c3, 'X-Multi', 'eq', 'a')).toBe(1);
    expect(call(textops, 'remove_hf_match', c3, 'X-Multi', 'eq', 'zz')).toBe(-2);
    expect(call(textops, 'remove_hf_match', c3, 'X-Multi', 'xx', 'a')).toBe(-1);
    expect(call(textops, 'remove_hf_match', c3, 'User-Agent', 're', '^TEST')).toBe(1);
    o = out(c3);
    expect(o).not.toContain('X-Multi: a');
    expect(o).toContain('X-Multi: b');
    expect(o).not.toContain('User-Agent');
  });

  it('set_body / set_reply_body', () => {
    const { ctx } = context();
    expect(call(textops, 'set_body', ctx, 'hello', 'text/plain')).toBe(1);
    expect(out(ctx)).toMatch(/Content-Length: 5\r\nContent-Type: text\/plain\r\n\r\nhello$/);
    expect(out(ctx)).not.toContain('application/sdp');
    expect(call(textops, 'set_body', ctx, '', 'text/plain')).toBe(-1);
    const c2 = context().ctx;
    expect(call(textops, 'set_body', c2, 'v=1\r\n', 'application/sdp')).toBe(1);
    expect(out(c2)).toContain('Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=1\r\n');
    expect(call(textops, 'set_reply_body', ctx, '<x/>', 'application/xml')).toBe(1);
    expect(ctx.replyBody?.contentType).toBe('application/xml');
    expect(ctx.replyBody?.body.toString()).toBe('<x/>');
    expect(call(textops, 'set_reply_body', ctx, '', 'application/xml')).toBe(-1);
  });
});

describe('KSR.textops multipart bodies', () => {
  it('append_body_part(_cd, _hex, _hex_cd), remove_body_part, get_body_part(_raw), filter_body', () => {
    const { ctx } = context(MULTIPART);
    expect(call(textops, 'append_body_part', ctx, 'x', 'text/x')).toBe(1);
    expect(ctx.msg.body.toString().endsWith('--b1--\r\nContent-Type: text/x\r\n\r\nx\r\n--b1\r\n')).toBe(true);
    const c2 = context(MULTIPART).ctx;
    expect(call(textops, 'append_body_part_cd', c2, 'x', 'text/x', 'render')).toBe(1);
    expect(c2.msg.body.toString()).toContain('Content-Disposition: render\r\n');
    const c3 = context(MULTIPART).ctx;
    expect(call(textops, 'append_body_part_hex', c3, '41 42', 'text/x')).toBe(1);
    expect(c3.msg.body.toString()).toContain('\r\n\r\nAB\r\n--b1\r\n');
    expect(call(textops, 'append_body_part_hex', c3, '4G', 'text/x')).toBe(-1);
    expect(call(textops, 'append_body_part_hex_cd', c3, '43', 'text/x', 'session')).toBe(1);
    expect(call(textops, 'append_body_part', context().ctx, 'x', 'text/x')).toBe(-1);
    const c4 = context(MULTIPART).ctx;
    expect(call(textops, 'remove_body_part', c4, 'text/plain')).toBe(1);
    expect(c4.msg.body.toString()).toBe('--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\n');
    expect(call(textops, 'remove_body_part', c4, 'image/png')).toBe(-1);
    const c5 = context(MULTIPART).ctx;
    expect(call(textops, 'get_body_part', c5, 'application/sdp', '$var(p)')).toBe(1);
    expect(call(pv, 'get', c5, '$var(p)')).toBe('\r\nv=0\r\n');
    expect(call(textops, 'get_body_part_raw', c5, 'text/plain', '$var(p)')).toBe(1);
    expect(call(pv, 'get', c5, '$var(p)')).toBe('Content-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n');
    const c6 = context(MULTIPART).ctx;
    expect(call(textops, 'filter_body', c6, 'application/sdp')).toBe(1);
    expect(c6.msg.body.toString()).toBe('v=0');
    expect(call(textops, 'filter_body', context().ctx, 'application/sdp')).toBe(-1);
  });
});

describe('KSR.textops strings and SDP', () => {
  it('compares and searches strings; lists; privacy; audio on hold; regex_substring', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect([t('cmp_str', 'a', 'a'), t('cmp_str', 'b', 'a'), t('cmp_str', 'a', 'b'), t('cmp_str', 'ab', 'a'), t('cmp_istr', 'AbC', 'abc')]).toEqual([1, -1, -2, -1, 1]);
    expect([t('starts_with', 'kemi-proxy', 'kemi'), t('ends_with', 'kemi-proxy', 'proxy'), t('starts_with', 'x', 'y'), t('starts_with', 'y', 'x'), t('starts_with', 'x', 'xy')]).toEqual([1, 1, -2, -1, -1]);
    expect([t('str_find', 'abcabc', 'ca'), t('str_ifind', 'ABC', 'bc'), t('str_find', 'abc', 'z'), t('str_find', 'a', 'abc')]).toEqual([3, 2, -1, -1]);
    expect([t('in_list', 'b', 'a, b ,c', ','), t('in_list', 'd', 'a,b', ','), t('in_list', '', 'a', ','), t('in_list_prefix', 'bob@x', 'al,bo', ','), t('in_list_prefix', 'x', 'al,bo', ',')]).toEqual([1, -1, -1, 1, -1]);
    expect(t('is_privacy', 'id')).toBe(-1);
    expect(call(textops, 'is_privacy', context(INVITE.replace('X-Multi: a', 'Privacy: id; header')).ctx, 'header')).toBe(1);
    expect(call(textops, 'is_privacy', context(INVITE.replace('X-Multi: a', 'Privacy: id')).ctx, 'id')).toBe(1);
    expect(call(textops, 'is_privacy', context(INVITE.replace('X-Multi: a', 'Privacy: user')).ctx, 'id')).toBe(-1);
    expect(t('is_audio_on_hold')).toBe(-1);
    expect(call(textops, 'is_audio_on_hold', context(SDP_HOLD).ctx)).toBe(2);
    expect(call(textops, 'is_audio_on_hold', context(SDP_ZERO).ctx)).toBe(1);
    expect(t('regex_substring', 'abc123def', '([a-z]+)([0-9]+)', 2, 3, '$var(rs)')).toBe(1);
    expect(call(pv, 'get', ctx, '$var(rs)')).toBe('123');
    expect(t('regex_substring', 'abc', '[0-9]+', 0, 1, '$var(rs)')).toBe(-2);
    expect(t('regex_substring', 'abc', 'a', 3, 1, '$var(rs)')).toBe(-1);
  });

  it('translates POSIX EREs and parses sed-like expressions', () => {
    const s = parseSubst('#a/b#c#gi');
    expect([s.re.test('A/B'), s.global]).toEqual([true, true]);
    expect(() => parseSubst('/only-two/')).toThrow();
    expect(new PosixRegex('^[[:alpha:]]+$').test('abcXYZ')).toBe(true);
    expect(new PosixRegex('[\\.]').test('\\')).toBe(true); // backslash is literal in brackets
    expect(new PosixRegex('a.c').test('a\nc')).toBe(false);
    expect(new PosixRegex('a.c', { newline: false }).test('a\nc')).toBe(true);
    expect(new PosixRegex('^b').test('a\nb')).toBe(true);
    expect(new PosixRegex('\\d').test('d')).toBe(true); // glibc: \d is a literal d
    expect(new PosixRegex('a+?').exec('aaa')?.end).toBe(3); // stacked quantifiers stay greedy
  });
});

describe('KSR.textopsx', () => {
  it('msg_apply_changes, msg_set_buffer, remove_body', () => {
    const { ctx } = context();
    call(textops, 'remove_hf', ctx, 'User-Agent');
    expect(call(textopsx, 'msg_apply_changes', ctx)).toBe(1);
    expect(ctx.msg.hasHeader('User-Agent')).toBe(false);
    expect(call(textopsx, 'remove_body', ctx)).toBe(1);
    expect(out(ctx)).toMatch(/Content-Length: 0\r\n\r\n$/);
    expect(call(textopsx, 'remove_body', context(REPLY).ctx)).toBe(1);
    const f = context().ctx;
    f.route = 'failure';
    expect(call(textopsx, 'msg_apply_changes', f)).toBe(-1);
    const b = context().ctx;
    expect(call(textopsx, 'msg_set_buffer', b, REPLY)).toBe(1);
    expect(b.msg.status).toBe(486);
    expect(call(textopsx, 'msg_set_buffer', b, 'garbage')).toBe(0);
    expect(call(textopsx, 'msg_set_buffer', b, '')).toBe(-1);
  });

  it('change_reply_status(_code)', () => {
    const { ctx } = context(REPLY);
    expect(call(textopsx, 'change_reply_status', ctx, 200, 'OK')).toBe(-1);
    expect(call(textopsx, 'change_reply_status', ctx, 503, 'Try Later')).toBe(1);
    expect(ctx.msg.status).toBe(503);
    expect(out(ctx).startsWith('SIP/2.0 503 Try Later\r\nVia:')).toBe(true);
    expect(call(textopsx, 'change_reply_status_code', ctx, 500)).toBe(1);
    expect(out(ctx).startsWith('SIP/2.0 500 Try Later\r\n')).toBe(true);
    expect(call(textopsx, 'change_reply_status_code', ctx, 99)).toBe(-1);
    expect(call(textopsx, 'change_reply_status', ctx, 500, '')).toBe(-1);
    expect(call(textopsx, 'change_reply_status_code', context().ctx, 500)).toBe(-1);
  });

  it('keep_hf / keep_hf_re (-1 as in 5.6), fnmatch (0 on a match, as in 5.6)', () => {
    const k = context().ctx;
    expect(call(textopsx, 'keep_hf_re', k, '^X-Multi$')).toBe(-1);
    const o = out(k);
    expect(o).toContain('X-Multi: a');
    expect(o).not.toContain('User-Agent');
    expect(o).toContain('Call-ID: call-1@192.0.2.10');
    const k2 = context().ctx;
    expect(call(textopsx, 'keep_hf', k2)).toBe(-1);
    expect(out(k2)).not.toContain('X-Multi');
    expect(out(k2)).toContain('Route: <sip:127.0.0.1');
    expect([call(textopsx, 'fnmatch', k, 'sip:bob@x', 'sip:*@?'), call(textopsx, 'fnmatch', k, 'A', 'a'), call(textopsx, 'fnmatch_ex', k, 'A', 'a', 'i')]).toEqual([0, -1, 0]);
    expect([globMatch('file1.txt', 'file[0-9].txt'), globMatch('filex.txt', 'file[!0-9].txt'), globMatch('a*', 'a\\*'), globMatch('ab', 'a\\*')]).toEqual([true, true, true, false]);
  });

  it('include_hf_value / exclude_hf_value / hf_value_exists', () => {
    const msg = INVITE.replace('X-Multi: a\r\nX-Multi: b', 'Supported: path, timer,gruu');
    const { ctx } = context(msg);
    expect([call(textopsx, 'hf_value_exists', ctx, 'Supported', 'TIMER'), call(textopsx, 'hf_value_exists', ctx, 'Supported', '100rel')]).toEqual([1, -1]);
    expect(call(textopsx, 'hf_value_exists', ctx, 'Supported[0]', 'timer')).toBe(-1);
    expect(call(textopsx, 'include_hf_value', ctx, 'Supported', 'path')).toBe(1);
    expect(call(textopsx, 'include_hf_value', ctx, 'Supported', '100rel')).toBe(1);
    expect(out(ctx)).toContain('Supported: path, timer,gruu,100rel\r\n');
    const c2 = context(msg).ctx;
    expect(call(textopsx, 'exclude_hf_value', c2, 'Supported', 'gruu')).toBe(1);
    expect(out(c2)).toContain('Supported: path, timer\r\n');
    const c3 = context(msg).ctx;
    expect(call(textopsx, 'exclude_hf_value', c3, 'Supported', 'path')).toBe(1);
    expect(out(c3)).toContain('Supported:  timer,gruu\r\n'); // "path," goes, the spaces around stay
    const c4 = context().ctx;
    expect(call(textopsx, 'include_hf_value', c4, 'Require', 'timer')).toBe(1);
    expect(out(c4)).toContain('Require: timer\r\n');
  });

  it('header iterators', () => {
    const { ctx } = context();
    const x = (n: string, ...a: string[]) => call(textopsx, n, ctx, ...a);
    expect(x('hf_iterator_next', 'i')).toBe(-1);
    expect(x('hf_iterator_start', 'i')).toBe(1);
    expect(x('hf_iterator_hname', 'i')).toBeNull();
    expect(x('hf_iterator_next', 'i')).toBe(1);
    expect([x('hf_iterator_hname', 'i'), x('hf_iterator_hbody', 'i')]).toEqual(['Via', 'SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc;rport']);
    expect(x('hf_iterator_next', 'i')).toBe(1);
    expect(x('hf_iterator_hname', 'i')).toBe('Max-Forwards');
    expect(x('hf_iterator_prev', 'i')).toBe(1);
    expect(x('hf_iterator_hname', 'i')).toBe('Via');
    let n = 0;
    x('hf_iterator_start', 'i');
    while (x('hf_iterator_next', 'i') === 1) {
      n++;
      if (x('hf_iterator_hname', 'i') === 'User-Agent') x('hf_iterator_rm', 'i');
      if (x('hf_iterator_hname', 'i') === 'To') {
        x('hf_iterator_insert', 'i', 'X-Before-To: 1\r\n');
        x('hf_iterator_append', 'i', 'X-After-To: 1\r\n');
      }
    }
    expect(n).toBe(ctx.msg.headerFields.length);
    expect(x('hf_iterator_end', 'i')).toBe(1);
    expect(x('hf_iterator_end', 'nope')).toBe(-1);
    const o = out(ctx);
    expect(o).not.toContain('User-Agent');
    expect(o).toContain('X-Before-To: 1\r\nTo: <sip:bob@kemi.test>\r\nX-After-To: 1\r\n');
    for (const k of ['a', 'b', 'c']) expect(x('hf_iterator_start', k)).toBe(1);
    expect(x('hf_iterator_start', 'e')).toBe(-1); // four iterators at most
  });

  it('body line iterators', () => {
    const body = 'v=0\r\no=x\r\ns=-\r\n';
    const { ctx } = context(INVITE.replace('Content-Length: 5', `Content-Length: ${body.length}`).replace(/v=0\r\n$/, body));
    const x = (n: string, ...a: string[]) => call(textopsx, n, ctx, ...a);
    expect(x('bl_iterator_start', 'b')).toBe(1);
    expect(x('bl_iterator_value', 'b')).toBeNull();
    const lines: unknown[] = [];
    while (x('bl_iterator_next', 'b') === 1) {
      lines.push(x('bl_iterator_value', 'b'));
      if (x('bl_iterator_value', 'b') === 'o=x\r\n') x('bl_iterator_rm', 'b');
      if (x('bl_iterator_value', 'b') === 's=-\r\n') {
        x('bl_iterator_insert', 'b', 'c=IN IP4 192.0.2.1\r\n');
        x('bl_iterator_append', 'b', 't=0 0\r\n');
      }
    }
    expect(lines).toEqual(['v=0\r\n', 'o=x\r\n', 's=-\r\n']);
    expect(x('bl_iterator_next', 'b')).toBe(-1);
    expect(x('bl_iterator_end', 'b')).toBe(1);
    expect(ctx.msg.body.toString()).toBe('v=0\r\nc=IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n');
    expect(out(ctx)).toContain(`Content-Length: ${ctx.msg.body.length}\r\n`);
  });
});

describe('KSR.xlog', () => {
  it('logs with pseudo-variables expanded at the named level', () => {
    const { ctx, rec } = context();
    expect(call(xlog, 'xinfo', ctx, 'call $ci from $fu\n')).toBe(1);
    expect(call(xlog, 'xlog', ctx, 'L_WARN', 'method $rm')).toBe(1);
    expect(call(xlog, 'xerr', ctx, 'e')).toBe(1);
    expect(call(xlog, 'xdbg', ctx, 'd')).toBe(1);
    expect(call(xlog, 'xnotice', ctx, 'n')).toBe(1);
    expect(call(xlog, 'xcrit', ctx, 'c')).toBe(1);
    expect(call(xlog, 'xalert', ctx, 'a')).toBe(1);
    expect(call(xlog, 'xwarn', ctx, 'w')).toBe(1);
    expect(call(xlog, 'xlog', ctx, 'l_info', 'i')).toBe(1);
    // Without the L_ prefix the name is unknown: ki_xlog logs at L_ERR.
    expect(call(xlog, 'xlog', ctx, 'info', 'x')).toBe(1);
    expect(rec.logs).toEqual([
      { level: 'info', text: 'call call-1@192.0.2.10 from sip:alice@example.org' },
      { level: 'warn', text: 'method INVITE' },
      { level: 'err', text: 'e' },
      { level: 'dbg', text: 'd' },
      { level: 'notice', text: 'n' },
      { level: 'crit', text: 'c' },
      { level: 'alert', text: 'a' },
      { level: 'warn', text: 'w' },
      { level: 'info', text: 'i' },
      { level: 'err', text: 'x' },
    ]);
  });
});
