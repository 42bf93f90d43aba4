/** KSR.nathelper against parsed messages: nat_uac_test bits, Contact and R-URI rewrites as Kamailio makes them. */
import { beforeEach, describe, expect, it } from 'vitest';
import nathelper from '../../kemi/nathelper.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { ReceiveInfo } from '../../src/context/msg-context.js';
import { call, context, INVITE, loadModule, out, services, testEnv } from './helpers.js';

const NATTED: ReceiveInfo = { proto: 'udp', srcAddress: '203.0.113.50', srcPort: 40000, localAddress: '127.0.0.1', localPort: 5060, family: 4 };
const PRIVATE_INVITE = INVITE
  .replace('Via: SIP/2.0/UDP 192.0.2.10:5070', 'Via: SIP/2.0/UDP 10.0.0.5:5060')
  .replace('Contact: <sip:alice@192.0.2.10:5070>', 'Contact: <sip:alice@10.0.0.5:5060>');
const withContact = (c: string): string => PRIVATE_INVITE.replace('Contact: <sip:alice@10.0.0.5:5060>', `Contact: ${c}`);
const withSdp = (sdp: string, text = INVITE): string => text.replace('Content-Length: 5', `Content-Length: ${Buffer.byteLength(sdp)}`).replace(/v=0\r\n$/, sdp);

async function init(params: Record<string, string | number>): Promise<void> {
  await loadModule(nathelper, testEnv({ params, allParams: {}, state: new MemoryStore(), proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
}
// Every test starts from the defaults; a test may load other modparams over them.
beforeEach(() => init({}));

describe('KSR.nathelper nat_uac_test', () => {
  const t = (text: string, rcv: ReceiveInfo | undefined, f: number): unknown => call(nathelper, 'nat_uac_test', context(text, rcv).ctx, f);

  it('tests each bit as Kamailio', () => {
    // 1 Contact private, 2 Via host != source, 4 Via private, 16 Via port != source port.
    expect([1, 2, 4, 16, 19].map((f) => t(PRIVATE_INVITE, NATTED, f))).toEqual([1, 1, 1, 1, 1]);
    expect([1, 2, 4, 16, 19, 128].map((f) => t(INVITE, undefined, f))).toEqual([-1, -1, -1, -1, -1, -1]);
    // 32 source private; 64 WebSocket; 128 Contact port != source port.
    expect(t(INVITE, { ...NATTED, srcAddress: '192.168.1.9' }, 32)).toBe(1);
    expect(t(PRIVATE_INVITE, NATTED, 32)).toBe(-1);
    expect(t(INVITE, { ...NATTED, proto: 'ws' }, 64)).toBe(1);
    expect(t(INVITE, NATTED, 64)).toBe(-1);
    expect(t(PRIVATE_INVITE, NATTED, 128)).toBe(1);
    // A Via without port is 5060.
    expect(t(INVITE.replace('192.0.2.10:5070;branch', '192.0.2.10;branch'), { ...NATTED, srcAddress: '192.0.2.10', srcPort: 5060 }, 18)).toBe(-1);
  });

  it('tests the SDP: 8 private c= per stream, 256 c= != source', () => {
    const sdp = withSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\nc=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect([t(sdp, NATTED, 8), t(sdp, NATTED, 256)]).toEqual([1, 1]);
    const pub = withSdp('v=0\r\no=- 1 1 IN IP4 203.0.113.50\r\nc=IN IP4 203.0.113.50\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect([t(pub, NATTED, 8), t(pub, NATTED, 256)]).toEqual([-1, -1]);
    // Hold (0.0.0.0) stops the stream scan; a stream's own c= wins over the session's.
    expect(t(withSdp('v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 0\r\nc=IN IP4 10.0.0.5\r\n'), NATTED, 8)).toBe(-1);
    expect(t(withSdp('v=0\r\nc=IN IP4 203.0.113.50\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.5\r\n'), NATTED, 8)).toBe(1);
  });

  it('tests the destination (512): $du vs R-URI, ws targets', () => {
    const { ctx } = context();
    expect(call(nathelper, 'nat_uac_test', ctx, 512)).toBe(-1);
    ctx.dstUri = 'sip:203.0.113.1:5060';
    expect(call(nathelper, 'nat_uac_test', ctx, 512)).toBe(1);
    ctx.dstUri = 'sip:kemi.test:5060';
    expect(call(nathelper, 'nat_uac_test', ctx, 512)).toBe(-1);
    ctx.dstUri = 'sip:kemi.test;transport=ws';
    expect(call(nathelper, 'nat_uac_test', ctx, 512)).toBe(1);
  });

  it('is_rfc1918 uses Kamailio\'s IPv4 list (incl. 100.64/10 and 192.0.0.0/24 in nat_addr_mode 1)', async () => {
    const c = context().ctx;
    const r = (ip: string): unknown => call(nathelper, 'is_rfc1918', c, ip);
    expect(['10.1.2.3', '172.31.0.1', '192.168.1.1', '100.64.0.1', '192.0.0.9', '192.0.0.200'].map(r)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(['172.32.0.1', '8.8.8.8', '127.0.0.1', 'fd00::1', 'host'].map(r)).toEqual([-1, -1, -1, -1, -1]);
    expect(r('')).toBe(-2);
    await init({ nat_addr_mode: 0 });
    expect([r('192.0.0.200'), r('192.0.0.7')]).toEqual([-1, 1]);
  });
});

describe('KSR.nathelper rewrites', () => {
  it('fix_nated_contact puts the source address in the first Contact, once', () => {
    const a = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'fix_nated_contact', a)).toBe(1);
    expect(out(a)).toContain('Contact: <sip:alice@203.0.113.50:40000>\r\n');
    expect(call(nathelper, 'fix_nated_contact', a)).toBe(-1);
    const m = context(withContact('"A" <sip:alice@10.0.0.5;maddr=10.0.0.1;transport=udp>;expires=60'), NATTED).ctx;
    expect(call(nathelper, 'fix_nated_contact', m)).toBe(1);
    expect(out(m)).toContain('Contact: "A" <sip:alice@203.0.113.50:40000;transport=udp>;expires=60\r\n');
    expect(call(nathelper, 'fix_nated_contact', context(INVITE.replace(/Contact: [^\r]*\r\n/, '')).ctx)).toBe(-1);
  });

  it('set_contact_alias appends ;alias (adding <> when needed); _trim replaces an old one', () => {
    const b = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'set_contact_alias', b)).toBe(1);
    expect(out(b)).toContain('Contact: <sip:alice@10.0.0.5:5060;alias=203.0.113.50~40000~1>\r\n');
    const nb = context(withContact('sip:alice@10.0.0.5:5060'), { ...NATTED, proto: 'tcp' }).ctx;
    expect(call(nathelper, 'set_contact_alias', nb)).toBe(1);
    expect(out(nb)).toContain('Contact: <sip:alice@10.0.0.5:5060;alias=203.0.113.50~40000~2>\r\n');
    const tr = context(withContact('<sip:alice@10.0.0.5:5060;alias=198.51.100.1~5060~1>'), NATTED).ctx;
    expect(call(nathelper, 'set_contact_alias_trim', tr)).toBe(1);
    expect(out(tr)).toContain('Contact: <sip:alice@10.0.0.5:5060;alias=203.0.113.50~40000~1>\r\n');
  });

  it('add_contact_alias appends at the end of the URI (again on a second call, as Kamailio), 2 when not needed or no Contact', () => {
    const a = context(withContact('<sip:alice@10.0.0.5:5060;ob>;expires=30'), NATTED).ctx;
    expect(call(nathelper, 'add_contact_alias', a)).toBe(1);
    expect(out(a)).toContain('Contact: <sip:alice@10.0.0.5:5060;ob;alias=203.0.113.50~40000~1>;expires=30\r\n');
    // fix_nated_contact still rewrites host:port afterwards; then add_contact_alias refuses.
    expect(call(nathelper, 'fix_nated_contact', a)).toBe(1);
    expect(out(a)).toContain('Contact: <sip:alice@203.0.113.50:40000;ob;alias=203.0.113.50~40000~1>;expires=30\r\n');
    expect(call(nathelper, 'add_contact_alias', a)).toBe(-1);
    const bare = context(withContact('sip:alice@10.0.0.5'), NATTED).ctx;
    expect(call(nathelper, 'add_contact_alias', bare)).toBe(1);
    expect(out(bare)).toContain('Contact: <sip:alice@10.0.0.5;alias=203.0.113.50~40000~1>\r\n');
    const same = context(withContact('<sip:alice@203.0.113.50:40000;transport=udp>'), NATTED).ctx;
    expect(call(nathelper, 'add_contact_alias', same)).toBe(2);
    expect(call(nathelper, 'add_contact_alias', context(INVITE.replace(/Contact: [^\r]*\r\n/, '')).ctx)).toBe(2);
    expect(call(nathelper, 'add_contact_alias', context(withContact('*')).ctx)).toBe(2);
    const addr = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'add_contact_alias_addr', addr, '2001:db8::5', '5080', 'tls')).toBe(1);
    expect(out(addr)).toContain('Contact: <sip:alice@10.0.0.5:5060;alias=[2001:db8::5]~5080~3>\r\n');
    const bad = context(PRIVATE_INVITE, NATTED).ctx;
    expect([call(nathelper, 'add_contact_alias_addr', bad, 'x', '5060', 'udp'), call(nathelper, 'add_contact_alias_addr', bad, '1.2.3.4', '0', 'udp'), call(nathelper, 'add_contact_alias_addr', bad, '1.2.3.4', '5060', 'foo')]).toEqual([-1, -1, -1]);
  });

  it('handle_ruri_alias sets $du from the first alias and removes it; _mode(1) takes the last', () => {
    const ruri = (r: string): string => INVITE.replace('INVITE sip:bob@kemi.test:5060;transport=udp', `INVITE ${r}`);
    const c = context(ruri('sip:bob@10.0.0.5:5060;alias=203.0.113.50~40000~2;ob')).ctx;
    expect(call(nathelper, 'handle_ruri_alias', c)).toBe(1);
    expect([c.dstUri, c.msg.ruri]).toEqual(['sip:203.0.113.50:40000;transport=tcp', 'sip:bob@10.0.0.5:5060;ob']);
    const m = context(ruri('sip:bob@10.0.0.5;alias=198.51.100.1~5060~1;alias=2001:db8::9~5070~1')).ctx;
    expect(call(nathelper, 'handle_ruri_alias_mode', m, 1)).toBe(1);
    expect([m.dstUri, m.msg.ruri]).toEqual(['sip:[2001:db8::9]:5070', 'sip:bob@10.0.0.5;alias=198.51.100.1~5060~1']);
    expect(call(nathelper, 'handle_ruri_alias', context().ctx)).toBe(2);
    expect(call(nathelper, 'handle_ruri_alias', context(ruri('sip:bob@h')).ctx)).toBe(2);
    expect(call(nathelper, 'handle_ruri_alias', context(ruri('sip:bob@h;alias=1.2.3.4~5060')).ctx)).toBe(-1);
    expect(call(nathelper, 'handle_ruri_alias', context(ruri('sip:bob@h;alias=1.2.3.4~5060~9')).ctx)).toBe(-1);
  });

  it('add_rcv_param adds received to every contact (header or URI parameter)', () => {
    const two = withContact('<sip:alice@10.0.0.5:5060>;expires=60, sip:alice@10.0.0.6');
    const d = context(two, NATTED).ctx;
    expect(call(nathelper, 'add_rcv_param', d, 0)).toBe(1);
    expect(out(d)).toContain('Contact: <sip:alice@10.0.0.5:5060>;expires=60;received="sip:203.0.113.50:40000", sip:alice@10.0.0.6;received="sip:203.0.113.50:40000"\r\n');
    const u = context(PRIVATE_INVITE, NATTED).ctx;
    expect(call(nathelper, 'add_rcv_param', u, 1)).toBe(1);
    expect(out(u)).toContain('Contact: <sip:alice@10.0.0.5:5060;received=sip:203.0.113.50:40000>\r\n');
    expect(call(nathelper, 'add_rcv_param', context(PRIVATE_INVITE, { ...NATTED, proto: 'tcp' }).ctx, 1)).toBe(-1);
  });

  it('fix_nated_register leaves the source URI in received_avp (1 without the modparam)', async () => {
    expect(call(nathelper, 'fix_nated_register', context().ctx)).toBe(1);
    await init({ received_avp: '$avp(RECEIVED)' });
    const reg = context(INVITE.replace(/INVITE/g, 'REGISTER'), { ...NATTED, proto: 'tcp' }).ctx;
    expect(call(nathelper, 'fix_nated_register', reg)).toBe(1);
    expect(call(pv, 'get', reg, '$avp(RECEIVED)')).toBe('sip:203.0.113.50:40000;transport=tcp');
  });
});
