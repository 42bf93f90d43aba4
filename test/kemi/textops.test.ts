/** KSR.textops, KSR.textopsx and KSR.xlog against parsed messages. */
import { describe, expect, it } from 'vitest';
import textops, { parseSubst, posixRegex } from '../../kemi/textops.js';
import textopsx, { globMatch } from '../../kemi/textopsx.js';
import xlog from '../../kemi/xlog.js';
import { SipMessage } from '../../src/sip/index.js';
import { call, context, INVITE, out } from './helpers.js';

const SDP_HOLD = INVITE.replace('Content-Length: 5', 'Content-Length: 40').replace(/v=0\r\n$/, 'v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n');

describe('KSR.textops', () => {
  it('searches the message, the body and named headers', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect([t('search', 'user-agent: TEST-ua'), t('search', '^X-None'), t('search_body', '^v=0'), t('search_body', 'm=video')]).toEqual([1, -1, 1, -1]);
    expect([t('search_hf', 'X-Multi', '^b$', 'l'), t('search_hf', 'X-Multi', '^b$', 'f'), t('search_hf', 'X-Multi', '^b$', 'a')]).toEqual([1, -1, 1]);
    expect([t('is_present_hf', 'user-agent'), t('is_present_hf', 'Subject'), t('is_present_hf_re', '^X-M'), t('is_present_hf_re', '^Y-')]).toEqual([1, -1, 1, -1]);
    expect([t('has_body'), t('has_body_type', 'application/sdp'), t('has_body_type', 'text/plain')]).toEqual([1, 1, -1]);
  });

  it('edits with subst, replace and search_append, keeping the other bytes', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('subst', '/^User-Agent: (.*)$/User-Agent: \\1 via kemi/')).toBe(1);
    expect(t('replace_all', 'X-Multi', 'X-Many')).toBe(1);
    expect(t('search_append', '^Subject-none', 'x')).toBe(-1);
    expect(t('search_append', 'Call-ID: call-1', '-appended')).toBe(1);
    expect(t('subst_body', '/v=0/v=1/')).toBe(1);
    expect(t('subst_hf', 'From', '/Alice/Carol/', 'a')).toBe(1);
    const o = out(ctx);
    expect(o).toContain('User-Agent: test-ua via kemi\r\n');
    expect(o).toContain('X-Many: a\r\nX-Many: b\r\n');
    expect(o).toContain('Call-ID: call-1-appended@192.0.2.10\r\n');
    expect(o).toContain('From: "Carol" <sip:alice@example.org>;tag=ft1\r\n');
    expect(o.endsWith('\r\n\r\nv=1\r\n')).toBe(true);
    expect(SipMessage.parse(Buffer.from(o, 'latin1')).contentLength).toBe(5);
    expect(o.startsWith('INVITE sip:bob@kemi.test:5060;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc;rport\r\nMax-Forwards: 70\r\n')).toBe(true);
  });

  it('rewrites the R-URI and its user; replaces in the body; sets bodies', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect(t('subst_uri', '/kemi\\.test/example.org/')).toBe(1);
    expect(t('subst_user', '/^bob$/+15551234/')).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:+15551234@example.org:5060;transport=udp');
    expect(t('subst_uri', '/nomatch/x/')).toBe(-1);
    expect(t('replace_body', 'v=0', 'v=2')).toBe(1);
    expect(ctx.msg.body.toString()).toBe('v=2\r\n');
    expect(t('set_body', 'hello', 'text/plain')).toBe(1);
    expect(out(ctx)).toMatch(/Content-Length: 5\r\nContent-Type: text\/plain\r\n\r\nhello$/);
    expect(out(ctx)).not.toContain('application/sdp');
    expect(t('set_reply_body', '<x/>', 'application/xml')).toBe(1);
    expect(ctx.replyBody?.contentType).toBe('application/xml');
    expect(t('remove_hf', 'X-Multi')).toBe(2);
    expect(t('remove_hf', 'X-Multi-None')).toBe(-1);
    expect(t('remove_hf_re', '^User-')).toBe(1);
    expect(t('remove_hf_exp', '^(Contact|Route)$', '^Route$')).toBe(1);
    const o = out(ctx);
    expect(o).not.toContain('X-Multi');
    expect(o).not.toContain('User-Agent');
    expect(o).not.toContain('Contact:');
    expect(o).toContain('Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>');
  });

  it('compares and searches strings; lists; privacy; audio on hold', () => {
    const { ctx } = context();
    const t = (n: string, ...a: (string | number)[]) => call(textops, n, ctx, ...a);
    expect([t('cmp_str', 'a', 'a'), t('cmp_str', 'b', 'a'), t('cmp_str', 'a', 'b'), t('cmp_istr', 'AbC', 'abc')]).toEqual([1, -1, -2, 1]);
    expect([t('starts_with', 'kemi-proxy', 'kemi'), t('ends_with', 'kemi-proxy', 'proxy'), t('starts_with', 'x', 'y')]).toEqual([1, 1, -1]);
    expect([t('str_find', 'abcabc', 'ca'), t('str_ifind', 'ABC', 'bc'), t('str_find', 'abc', 'z')]).toEqual([3, 2, -1]);
    expect([t('search_str', 'abc123', '[[:digit:]]+$'), t('in_list', 'b', 'a, b ,c', ','), t('in_list', 'd', 'a,b', ','), t('in_list_prefix', 'bob@x', 'al,bo', ',')]).toEqual([1, 1, -1, 1]);
    expect(t('is_privacy', 'id')).toBe(-1);
    expect(call(textops, 'is_privacy', context(INVITE.replace('X-Multi: a', 'Privacy: id; header')).ctx, 'id')).toBe(-1);
    expect(call(textops, 'is_privacy', context(INVITE.replace('X-Multi: a', 'Privacy: id')).ctx, 'id')).toBe(1);
    expect(t('is_audio_on_hold')).toBe(-1);
    expect(call(textops, 'is_audio_on_hold', context(SDP_HOLD).ctx)).toBe(1);
  });

  it('parses sed-like expressions and POSIX classes', () => {
    const s = parseSubst('#a/b#c#gi');
    expect([s.re.test('A/B'), s.repl, s.global]).toEqual([true, 'c', true]);
    expect(() => parseSubst('/only-two/')).toThrow(/bad expression/);
    expect(posixRegex('^[[:alpha:]]+$', '').test('abcXYZ')).toBe(true);
  });
});

describe('KSR.textopsx', () => {
  it('applies changes, removes the body, keeps headers, globs, checks values', () => {
    const { ctx } = context();
    call(textops, 'remove_hf', ctx, 'User-Agent');
    expect(call(textopsx, 'msg_apply_changes', ctx)).toBe(1);
    expect(call(textops, 'is_present_hf', ctx, 'User-Agent')).toBe(-1);
    expect(call(textopsx, 'remove_body', ctx)).toBe(1);
    expect(out(ctx)).toMatch(/Content-Length: 0\r\n\r\n$/);
    expect(out(ctx)).not.toContain('Content-Type');
    const k = context().ctx;
    expect(call(textopsx, 'keep_hf_re', k, '^X-Multi$')).toBe(1);
    const o = out(k);
    expect(o).toContain('X-Multi: a');
    expect(o).not.toContain('User-Agent');
    expect(o).toContain('Call-ID: call-1@192.0.2.10');
    expect(call(textopsx, 'keep_hf', context().ctx)).toBe(1);
    expect([call(textopsx, 'fnmatch', k, 'sip:bob@x', 'sip:*@?'), call(textopsx, 'fnmatch', k, 'A', 'a'), call(textopsx, 'fnmatch_ex', k, 'A', 'a', 'i')]).toEqual([1, -1, 1]);
    expect(globMatch('file1.txt', 'file[0-9].txt')).toBe(true);
    expect([call(textopsx, 'hf_value_exists', k, 'X-Multi', 'b'), call(textopsx, 'hf_value_exists', k, 'X-Multi', 'c')]).toEqual([1, -1]);
  });
});

describe('KSR.xlog', () => {
  it('logs with pseudo-variables expanded at the named level', () => {
    const { ctx, rec } = context();
    expect(call(xlog, 'xinfo', ctx, 'call $ci from $fu\n')).toBe(1);
    expect(call(xlog, 'xlog', ctx, 'L_WARN', 'method $rm')).toBe(1);
    expect(call(xlog, 'xerr', ctx, 'e')).toBe(1);
    expect(rec.logs).toEqual([
      { level: 'info', text: 'call call-1@192.0.2.10 from sip:alice@example.org' },
      { level: 'warn', text: 'method INVITE' },
      { level: 'err', text: 'e' },
    ]);
    expect(call(xlog, 'xlog', ctx, 'L_LOUD', 'x')).toBe(1);
    expect(rec.logs[3]).toEqual({ level: 'err', text: 'x' });
  });
});
