/** KSR.nathelper and KSR.permissions against parsed messages; the IP helpers behind them. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nathelper from '../../kemi/nathelper.js';
import permissions from '../../kemi/permissions.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { inCidr, isPrivateIp } from '../../src/net/ip.js';
import type { ReceiveInfo } from '../../src/core/context.js';
import { call, context, INVITE, out, services } from './helpers.js';

const NATTED: ReceiveInfo = { proto: 'udp', srcAddress: '203.0.113.50', srcPort: 40000, localAddress: '127.0.0.1', localPort: 5060, family: 4 };
const PRIVATE_INVITE = INVITE
  .replace('Via: SIP/2.0/UDP 192.0.2.10:5070', 'Via: SIP/2.0/UDP 10.0.0.5:5060')
  .replace('Contact: <sip:alice@192.0.2.10:5070>', 'Contact: <sip:alice@10.0.0.5:5060>');

describe('IP helpers', () => {
  it('knows private ranges and CIDR membership for IPv4 and IPv6', () => {
    expect(['10.1.2.3', '172.31.0.1', '192.168.1.1', '100.64.0.1', 'fd00::1'].map(isPrivateIp)).toEqual([true, true, true, true, true]);
    expect(['172.32.0.1', '8.8.8.8', '127.0.0.1', '2001:db8::1'].map(isPrivateIp)).toEqual([false, false, false, false]);
    expect([inCidr('192.0.2.77', '192.0.2.0', 24), inCidr('192.0.3.1', '192.0.2.0', 24), inCidr('2001:db8::5', '2001:db8::', 32), inCidr('::ffff:1.2.3.4', '::ffff:1.2.3.0', 120)]).toEqual([true, false, true, true]);
  });
});

describe('KSR.nathelper', () => {
  it('detects NAT with the nat_uac_test bits', () => {
    const natted = context(PRIVATE_INVITE, NATTED).ctx;
    const direct = context().ctx;
    const t = (c: typeof natted, f: number) => call(nathelper, 'nat_uac_test', c, f);
    expect([t(natted, 1), t(natted, 2), t(natted, 4), t(natted, 16), t(natted, 19), t(natted, 32), t(natted, 128)]).toEqual([1, 1, 1, 1, 1, -1, 1]);
    expect([t(direct, 19), t(direct, 1), t(direct, 8)]).toEqual([-1, -1, -1]);
    expect([call(nathelper, 'is_rfc1918', direct, '192.168.0.1'), call(nathelper, 'is_rfc1918', direct, '192.0.2.1')]).toEqual([1, -1]);
  });

  it('rewrites the Contact, adds an alias and handles it back on the R-URI', async () => {
    const a = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'fix_nated_contact', a)).toBe(1);
    expect(out(a)).toContain('Contact: <sip:alice@203.0.113.50:40000>\r\n');
    const b = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'set_contact_alias', b)).toBe(1);
    expect(out(b)).toContain('Contact: <sip:alice@10.0.0.5:5060;alias=203.0.113.50~40000~1>\r\n');
    const c = context(INVITE.replace('INVITE sip:bob@kemi.test:5060;transport=udp', 'INVITE sip:bob@10.0.0.5:5060;alias=203.0.113.50~40000~2')).ctx;
    expect(call(nathelper, 'handle_ruri_alias', c)).toBe(1);
    expect([c.dstUri, c.msg.ruri]).toEqual(['sip:203.0.113.50:40000;transport=tcp', 'sip:bob@10.0.0.5:5060']);
    expect(call(nathelper, 'handle_ruri_alias', context().ctx)).toBe(2);
    const d = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'add_rcv_param', d, 0)).toBe(1);
    expect(out(d)).toContain('Contact: <sip:alice@10.0.0.5:5060>;received="sip:203.0.113.50:40000"\r\n');
    const sdp = INVITE.replace('Content-Length: 5', 'Content-Length: 60').replace(/v=0\r\n$/, 'v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\nc=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 0\r\n');
    const e = context(sdp, NATTED).ctx;
    expect(call(nathelper, 'nat_uac_test', e, 8)).toBe(1);
    expect(call(nathelper, 'fix_nated_sdp', e, 10)).toBe(1);
    expect(e.msg.body.toString()).toContain('c=IN IP4 203.0.113.50\r\n');
    expect(e.msg.body.toString()).toContain('o=- 1 1 IN IP4 203.0.113.50\r\n');
  });

  it('fix_nated_register leaves the source in received_avp', async () => {
    await nathelper.init!({ params: { received_avp: '$avp(RECEIVED)' }, allParams: {}, state: new MemoryStore(), proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined });
    const reg = context(INVITE.replace(/INVITE/g, 'REGISTER'), NATTED).ctx;
    expect(call(nathelper, 'fix_nated_register', reg)).toBe(1);
    expect(call(pv, 'get', reg, '$avp(RECEIVED)')).toBe('sip:203.0.113.50:40000');
    expect(call(nathelper, 'fix_nated_register', context().ctx)).toBe(-1);
  });
});

describe('KSR.permissions', () => {
  it('matches the source against address groups from a file and from the state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kemi-perm-'));
    writeFileSync(join(dir, 'address'), '# grp ip[/mask] port tag\n1 192.0.2.0/24 0 lan\n2 203.0.113.50 40000\n');
    const state = new MemoryStore();
    await state.mapSet('address', '3', '[2001:db8::]/32:5060', 'v6');
    await permissions.init!({ params: { address_file: join(dir, 'address') }, allParams: {}, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined });
    const { ctx } = context();
    expect([call(permissions, 'allow_source_address', ctx, 1), call(permissions, 'allow_source_address', ctx, 2), call(permissions, 'allow_source_address_group', ctx)]).toEqual([1, -1, 1]);
    const n = context(INVITE, NATTED).ctx;
    expect([call(permissions, 'allow_source_address', n, 2), call(permissions, 'allow_source_address_group', n)]).toEqual([1, 2]);
    expect([call(permissions, 'allow_address', n, 2, '203.0.113.50', 40001), call(permissions, 'allow_address', n, 3, '2001:db8::9', 5060), call(permissions, 'allow_address_group', n, '2001:db8::9', 5060), call(permissions, 'allow_address_group', n, '198.51.100.1', 0)]).toEqual([-1, 1, 3, -1]);
    await permissions.close!();
  });
});
