/** KSR core exports against parsed messages. */
import { describe, expect, it } from 'vitest';
import core from '../../kemi/core.js';
import { call, context, out, REPLY } from './helpers.js';

const c = (name: string, ...args: (string | number | null)[]) => {
  const { ctx, rec } = context();
  return { r: call(core, name, ctx, ...args), ctx, rec };
};

describe('KSR core', () => {
  it('logs at each level, and log() by level name', () => {
    for (const lvl of ['dbg', 'err', 'info', 'warn', 'notice', 'crit'] as const) {
      const { r, rec } = c(lvl, `hello ${lvl}`);
      expect(r).toBeUndefined();
      expect(rec.logs).toEqual([{ level: lvl, text: `hello ${lvl}` }]);
    }
    expect(c('log', 'WARN', 'x').rec.logs[0]!.level).toBe('warn');
    expect(c('log', 'bogus', 'x').rec.logs[0]!.level).toBe('err');
  });

  it('set_drop marks only', () => {
    const { ctx } = c('set_drop');
    expect(ctx.drop).toBe(true);
  });

  it('is_myself and its variants', () => {
    expect(c('is_myself', 'sip:127.0.0.1:5060').r).toBe(true);
    expect(c('is_myself', '127.0.0.1').r).toBe(true);
    expect(c('is_myself', '192.0.2.1').r).toBe(false);
    expect(c('is_myself_ruri').r).toBe(true);
    expect(c('is_myself_furi').r).toBe(false);
    expect(c('is_myself_turi').r).toBe(true);
    expect(c('is_myself_srcip').r).toBe(false);
    expect(c('is_myself_suri').r).toBe(false);
    const { ctx } = context();
    expect(call(core, 'is_myself_duri', ctx)).toBe(false);
    ctx.dstUri = 'sip:127.0.0.1:5060';
    expect(call(core, 'is_myself_duri', ctx)).toBe(true);
    expect(call(core, 'is_myself_nhuri', ctx)).toBe(true);
  });

  it('message, branch, branch-index and script flags', () => {
    const { ctx } = context();
    expect(call(core, 'setflag', ctx, 3)).toBe(true);
    expect(call(core, 'isflagset', ctx, 3)).toBe(true);
    expect(call(core, 'resetflag', ctx, 3)).toBe(true);
    expect(call(core, 'isflagset', ctx, 3)).toBe(false);
    expect(call(core, 'setflag', ctx, 32)).toBe(false);
    expect(call(core, 'setbflag', ctx, 1)).toBe(true);
    expect(call(core, 'isbflagset', ctx, 1)).toBe(true);
    expect(call(core, 'resetbflag', ctx, 1)).toBe(true);
    expect(call(core, 'isbflagset', ctx, 1)).toBe(false);
    expect(call(core, 'setbiflag', ctx, 2, 0)).toBe(true);
    expect(call(core, 'isbiflagset', ctx, 2, 0)).toBe(true);
    expect(call(core, 'resetbiflag', ctx, 2, 0)).toBe(true);
    expect(call(core, 'isbiflagset', ctx, 2, 0)).toBe(false);
    expect(call(core, 'setbiflag', ctx, 2, 5)).toBe(false);
    expect(call(core, 'setsflag', ctx, 4)).toBe(true);
    expect(call(core, 'issflagset', ctx, 4)).toBe(true);
    expect(call(core, 'resetsflag', ctx, 4)).toBe(true);
    expect(call(core, 'issflagset', ctx, 4)).toBe(false);
  });

  it('rewrites the R-URI and $du', () => {
    const { ctx } = context();
    expect(call(core, 'seturi', ctx, 'sip:carol@192.0.2.5')).toBe(true);
    expect(out(ctx).startsWith('INVITE sip:carol@192.0.2.5 SIP/2.0\r\n')).toBe(true);
    expect(call(core, 'setuser', ctx, 'dave')).toBe(true);
    expect(call(core, 'sethost', ctx, 'example.net')).toBe(true);
    expect(ctx.msg.ruri).toBe('sip:dave@example.net');
    expect(call(core, 'isdsturiset', ctx)).toBe(false);
    expect(call(core, 'setdsturi', ctx, 'sip:192.0.2.9:5080')).toBe(true);
    expect(call(core, 'isdsturiset', ctx)).toBe(true);
    expect(ctx.dstUri).toBe('sip:192.0.2.9:5080');
    expect(call(core, 'resetdsturi', ctx)).toBe(true);
    expect(ctx.dstUri).toBeNull();
  });

  it('force_rport, add_local_rport, advertised address and port, send flags', () => {
    const { ctx } = context();
    expect(call(core, 'force_rport', ctx)).toBe(true);
    expect(call(core, 'add_local_rport', ctx)).toBe(true);
    expect([ctx.forceRport, ctx.addLocalRport]).toEqual([true, true]);
    expect(call(core, 'set_advertised_address', ctx, 'proxy.example.com')).toBe(1);
    expect(call(core, 'set_advertised_port', ctx, '5080')).toBe(1);
    expect(call(core, 'set_advertised_port', ctx, 'x')).toBe(0);
    expect([ctx.advertisedAddress, ctx.advertisedPort]).toEqual(['proxy.example.com', '5080']);
    for (const f of ['set_forward_close', 'set_forward_no_connect', 'set_reply_close', 'set_reply_no_connect']) expect(call(core, f, ctx)).toBe(true);
    expect(ctx.sendFlags).toEqual({ forwardClose: true, forwardNoConnect: true, replyClose: true, replyNoConnect: true });
  });

  it('method tests', () => {
    expect(c('is_method', 'INVITE').r).toBe(true);
    expect(c('is_method', 'BYE|INVITE').r).toBe(true);
    expect(c('is_method', 'BYE').r).toBe(false);
    expect(c('is_method_in', 'RI').r).toBe(true);
    expect(c('is_method_in', 'RB').r).toBe(false);
    const methods = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'SUBSCRIBE', 'PUBLISH', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'PRACK', 'MESSAGE', 'KDMQ', 'GET', 'POST', 'PUT', 'DELETE'];
    for (const m of methods) expect(c(`is_${m}`).r, m).toBe(m === 'INVITE');
    // For a reply, the CSeq method counts.
    const { ctx } = context(REPLY);
    expect(call(core, 'is_INVITE', ctx)).toBe(true);
  });

  it('transport and family tests of the received message and of the next hop', () => {
    for (const p of ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'WSX', 'SCTP']) expect(c(`is_${p}`).r, p).toBe(p === 'UDP');
    expect(c('is_proto', 'tu').r).toBe(true);
    expect(c('is_proto', 't').r).toBe(false);
    expect(c('is_IPv4').r).toBe(true);
    expect(c('is_IPv6').r).toBe(false);
    for (const p of ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS', 'WSX']) expect(c(`to_${p}`).r, p).toBe(p === 'UDP');
    const { ctx } = context();
    ctx.dstUri = 'sip:[2001:db8::1]:5060;transport=tcp';
    expect(call(core, 'to_TCP', ctx)).toBe(true);
    expect(call(core, 'to_IPv6', ctx)).toBe(true);
    expect(call(core, 'to_IPv4', ctx)).toBe(false);
    ctx.dstUri = 'sip:192.0.2.1';
    expect(call(core, 'to_IPv4', ctx)).toBe(true);
    expect(c('is_src_port', 5070).r).toBe(true);
    expect(c('is_dst_port', 5060).r).toBe(true);
    expect(c('is_dst_port', 5070).r).toBe(false);
  });

  it('forward and forward_uri go to the core', () => {
    expect(c('forward').rec.forwards).toEqual([undefined]);
    expect(c('forward_uri', 'sip:192.0.2.7').rec.forwards).toEqual(['sip:192.0.2.7']);
  });

  it('route() fails loudly: there are no native cfg routes', () => {
    expect(() => c('route', 'X')).toThrow(/KSR\.route/);
  });
});
