/**
 * The core pseudo-variables by group (src/pv: message-pvs, context-pvs, core-pvs), read and
 * written through KSR.pv as a script does. Values and types are those test/e2e/pv-diff.test.ts
 * found on Kamailio 5.6 for the same headers.
 */
import { describe, expect, it } from 'vitest';
import pv from '../../kemi/pv.js';
import { call, context, newInstance, out, services } from '../kemi/helpers.js';
import { MsgContext } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { PvRegistry, PVS } from '../../src/pv/registry.js';
import { registerCorePvs, MODULE_PVS_NOT_PROVIDED, NOT_PROVIDED } from '../../src/pv/core-pvs.js';
import { strftime, timeParts } from '../../src/pv/strftime.js';

const REQ = [
  'INVITE sip:bob@kemi.test;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKunit1',
  'Via: SIP/2.0/TCP 192.0.2.20:5080;branch=z9hG4bKfar',
  'From: "Alice A" <sip:alice@kemi.test>;tag=ft1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: unit-pv@kemi.test',
  'CSeq: 7 INVITE',
  'Contact: <sip:alice@192.0.2.10:5070>;expires=60, <sip:alice@192.0.2.11>',
  'Expires: 300',
  'Diversion: <sip:carol@kemi.test>;reason=unconditional;privacy=full;counter=2',
  'Diversion: <sip:dave@kemi.test>;reason=busy',
  'Remote-Party-ID: "Rita" <sip:rita@kemi.test>;party=calling',
  'P-Preferred-Identity: "Pref" <sip:pref@kemi.test>, <tel:+15551234>',
  'P-Asserted-Identity: <sip:asserted@kemi.test>',
  'P-Asserted-Identity: <tel:+15550000>',
  'Refer-To: <sip:refer@kemi.test>',
  'Proxy-Authorization: Digest username="alice@auth.test", realm="kemi.test", nonce="n0nce", uri="sip:bob@kemi.test", response="abcd", algorithm=MD5, cnonce="cn0", opaque="op4", qop=auth, nc=00000001',
  'Content-Type: text/plain',
  'Content-Length: 5',
  '',
  'body!',
].join('\r\n');

const get = (ctx: MsgContext, s: string) => call(pv, 'get', ctx, s);
const sets = (ctx: MsgContext, s: string, v: string) => call(pv, 'sets', ctx, s, v);
const seti = (ctx: MsgContext, s: string, v: number) => call(pv, 'seti', ctx, s, v);

describe('message PVs', () => {
  it('Diversion, Remote-Party-ID, Refer-To: the first header, its params as strings', () => {
    const { ctx } = context(REQ);
    expect(['$di', '$dir', '$dip', '$dic', '$re', '$rt'].map((s) => get(ctx, s)))
      .toEqual(['sip:carol@kemi.test', 'unconditional', 'full', '2', 'sip:rita@kemi.test', 'sip:refer@kemi.test']);
    const bare = context().ctx;
    expect(['$di', '$dir', '$re', '$rt', '$pu', '$ai'].map((s) => get(bare, s))).toEqual([null, null, null, null, null, null]);
  });

  it('P-Preferred-Identity and P-Asserted-Identity, indexed across values and headers', () => {
    const { ctx } = context(REQ);
    expect(['$pu', '$pU', '$pd', '$pn', '$(pu[1])', '$(pU[1])', '$(pd[1])', '$(pn[1])', '$(pu[2])'].map((s) => get(ctx, s)))
      .toEqual(['sip:pref@kemi.test', 'pref', 'kemi.test', '"Pref"', 'tel:+15551234', '+15551234', null, null, null]);
    expect(['$ai', '$(ai[1])', '$(ai[2])'].map((s) => get(ctx, s))).toEqual(['sip:asserted@kemi.test', 'tel:+15550000', null]);
  });

  it('digest attributes of Proxy-Authorization; "" for a missing one; none for ACK', () => {
    const { ctx } = context(REQ);
    expect(['$adu', '$aa', '$adn', '$adc', '$adr', '$ado', '$au', '$ad', '$aU', '$ar'].map((s) => get(ctx, s)))
      .toEqual(['sip:bob@kemi.test', 'MD5', 'n0nce', 'cn0', 'abcd', 'op4', 'alice', 'auth.test', 'alice@auth.test', 'kemi.test']);
    const short = context(REQ.replace(/Proxy-Authorization: .*/, 'Authorization: Digest username="carol", realm="r", nonce="n", uri="sip:x", response="r"')).ctx;
    expect(['$aa', '$adc', '$ado', '$ad'].map((s) => get(short, s))).toEqual(['', '', '', '']);
    const ack = context(REQ.replace('INVITE sip', 'ACK sip').replace('7 INVITE', '7 ACK')).ctx;
    expect(get(ack, '$adn')).toBeNull();
  });

  it('URI attributes: ports and transports as strings, defaults 5060/udp, user lengths as ints', () => {
    const { ctx } = context(REQ);
    expect(['$rp', '$rP', '$rUl', '$op', '$oP', '$od', '$oUl', '$fUl', '$tUl', '$cs', '$csb'].map((s) => get(ctx, s)))
      .toEqual(['5060', 'udp', 3, '5060', 'udp', 'kemi.test', 3, 5, 3, '7', '7 INVITE']);
    expect(sets(ctx, '$du', 'sip:10.0.0.9:5099;transport=tcp')).toBe(true);
    expect(['$dd', '$dp', '$dP', '$duri'].map((s) => get(ctx, s))).toEqual(['10.0.0.9', '5099', 'tcp', 'sip:10.0.0.9:5099;transport=tcp']);
    expect(['$nh(u)', '$nh(d)', '$nh(p)', '$nh(P)', '$nh(U)'].map((s) => get(ctx, s))).toEqual(['sip:10.0.0.9:5099;transport=tcp', '10.0.0.9', '5099', 'tcp', null]);
    expect(sets(ctx, '$ruri', 'sips:zed@other.test')).toBe(true);
    expect(['$ru', '$ruri.user', '$ruri.domain', '$rp', '$ou'].map((s) => get(ctx, s))).toEqual(['sips:zed@other.test', 'zed', 'other.test', '5061', 'sip:bob@kemi.test;transport=udp']);
  });

  it('message shape: $mt, $mts, $rmid, $bs, $msg(...), $expires, $hfl, $viaZ', () => {
    const { ctx } = context(REQ);
    expect(['$mt', '$mts', '$rmid', '$bs', '$msg(body)', '$msg(body_len)', '$expires(min)', '$expires(max)'].map((s) => get(ctx, s)))
      .toEqual([1, 'rq', 1, 5, 'body!', 5, 60, 300]);
    expect(get(ctx, '$msg(fline)')).toBe('INVITE sip:bob@kemi.test;transport=udp SIP/2.0');
    expect(get(ctx, '$msg(len)')).toBe(Buffer.byteLength(REQ));
    expect(['$hflc(Via)', '$(hfl(Via)[1])', '$hflc(Contact)', '$(hfl(Contact)[1])', '$viaZ(host)', '$viaZ(proto)'].map((s) => get(ctx, s)))
      .toEqual([2, 'SIP/2.0/TCP 192.0.2.20:5080;branch=z9hG4bKfar', 2, '<sip:alice@192.0.2.11>', '192.0.2.20', 'tcp']);
    const rpl = context(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx', 'From: <sip:a@b>;tag=1', 'To: <sip:a@b>', 'Call-ID: c', 'CSeq: 3 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n')).ctx;
    expect(['$mt', '$mts', '$rmid', '$ru', '$rP'].map((s) => get(rpl, s))).toEqual([2, 'rp', 512, null, null]);
  });

  it('sockets and addresses: $Ras $Ru $Rut $RAi $RAp $sas $sut $siz $af $prid $conid', () => {
    const { ctx } = context(REQ);
    expect(['$Ras', '$Ru', '$Rut', '$RAi', '$RAp', '$sas', '$sut', '$siz', '$af(id)', '$af(name)', '$af', '$prid', '$conid'].map((s) => get(ctx, s)))
      .toEqual(['udp:127.0.0.1:5060', 'sip:127.0.0.1:5060', 'sip:127.0.0.1:5060;transport=udp', '127.0.0.1', 5060, 'udp:192.0.2.10:5070',
        'sip:192.0.2.10:5070;transport=udp', '192.0.2.10', 2, 'IPv4', null, 1, null]);
    const v6 = context(REQ, { proto: 'tcp', srcAddress: '2001:db8::1', srcPort: 5070, localAddress: '::1', localPort: 5060, family: 6, connId: 12 }).ctx;
    expect(['$siz', '$su', '$Ru', '$af(id)', '$prid', '$conid'].map((s) => get(v6, s)))
      .toEqual(['[2001:db8::1]', 'sip:[2001:db8::1]:5070;transport=tcp', 'sip:[::1]:5060;transport=tcp', 10, 2, 12]);
  });
});

describe('context PVs', () => {
  it('flags: the value, 8 hex digits, one bit; each writable', () => {
    const { ctx } = context(REQ);
    expect(seti(ctx, '$mf', 26)).toBe(true);
    expect([get(ctx, '$mF'), get(ctx, '$Mf(1)'), get(ctx, '$Mf(2)')]).toEqual(['0000001a', 1, 0]);
    expect(seti(ctx, '$Mf(2)', 1)).toBe(true);
    expect(seti(ctx, '$Mf(1)', 0)).toBe(true);
    expect(get(ctx, '$mf')).toBe(28);
    expect(seti(ctx, '$sf', 3)).toBe(true);
    expect([get(ctx, '$sF'), get(ctx, '$Sf(1)'), get(ctx, '$Sf(2)')]).toEqual(['00000003', 1, 0]);
    expect(seti(ctx, '$Bf(4)', 1)).toBe(true);
    expect([get(ctx, '$bf'), get(ctx, '$bF')]).toEqual([16, '00000010']);
  });

  it('branches: $br sets or appends, $bR and $ds list them, $branch(count) is null without one, $branch(...) writes', () => {
    const { ctx } = context(REQ);
    expect(['$br', '$bR', '$ds', '$branch(count)'].map((s) => get(ctx, s))).toEqual([null, null, null, null]);
    expect(sets(ctx, '$branch(uri)', 'sip:x@kemi.test')).toBe(false);
    expect(sets(ctx, '$br', 'sip:b1@kemi.test')).toBe(true);
    expect(seti(ctx, '$branch(q)', 500)).toBe(true);
    expect(['$br', '$bR', '$ds', '$branch(count)', '$branch(q)'].map((s) => get(ctx, s)))
      .toEqual(['sip:b1@kemi.test', 'sip:b1@kemi.test;q=0.5', '<sip:b1@kemi.test>;q=0.5', 1, 500]);
  });

  it('$sbranch is kept across messages of the instance; $var/$vz one store; $cnt counts', () => {
    const modules = newInstance();
    const mk = () => new MsgContext(SipMessage.parse(Buffer.from(REQ, 'latin1')), context().ctx.rcv, services({ replies: [], forwards: [], logs: [] }, modules));
    const a = mk();
    expect(get(a, '$sbranch(uri)')).toBeNull();
    expect(sets(a, '$sbranch(uri)', 'sip:sb@kemi.test')).toBe(true);
    expect(sets(a, '$vz(x)', 'v')).toBe(true);
    expect([get(mk(), '$sbranch(uri)'), get(mk(), '$var(x)')]).toEqual(['sip:sb@kemi.test', 'v']);
    expect(get(a, '$cnt($avp(c))')).toBe(0);
    sets(a, '$avp(c)', '1');
    sets(a, '$avp(c)', '2');
    sets(a, '$xavp(x=>f)', '1');
    sets(a, '$xavp(x=>f)', '2');
    sets(a, '$xavp(x[0]=>f)', '3');
    expect(['$cnt($avp(c))', '$cnt($xavp(x))', '$cnt($xavp(x=>f))', '$cnt($xavp(x[0]=>f))', '$cnt($xavp(x[5]))'].map((s) => get(a, s)))
      .toEqual([2, 2, 3, 2, 0]);
  });

  it('constants, environment and defines', () => {
    const pvs = new PvRegistry();
    registerCorePvs(pvs, { defines: new Map([['WITH_X', '12'], ['NAME', 'n']]) });
    const { ctx } = context(REQ);
    ctx.proxy.modules.set(PVS, pvs);
    process.env.KEMI_UNIT_PV = '-7x';
    expect(['$true', '$null', '$rc', '$retcode', '$?', '$sid', '$K(IPv6)', '$K(TLS)', '$env(KEMI_UNIT_PV)', '$envn(KEMI_UNIT_PV)', '$env(KEMI_UNIT_NONE)',
      '$def(NAME)', '$defn(WITH_X)', '$def(NONE)', '$defn(NONE)', '$version(num)', '$_s($rU@$rd)', '$pp'].map((s) => get(ctx, s)))
      .toEqual([1, null, 0, 0, 0, 0, 10, 3, '-7x', -7, null, 'n', 12, null, 0, '5.6.3', 'bob@kemi.test', process.pid]);
  });

  it('time: the message time is fixed at its first read; $TV, $time, $timef, ctime format', () => {
    const { ctx } = context(REQ);
    const ts = get(ctx, '$Ts') as number;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(2);
    expect(get(ctx, '$TV(s)')).toBe(ts);
    expect(get(ctx, '$Tf')).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    expect(get(ctx, '$time(year)')).toBe(new Date(ts * 1000).getFullYear());
    expect(get(ctx, '$utimef(%Y-%m-%d)')).toBe(new Date(ts * 1000).toISOString().slice(0, 10));
    expect(get(ctx, '$TV(Sn)')).toMatch(/^\d+\.\d{6}$/);
    expect(strftime('%a %b %e %H:%M:%S %Y|%j|%%|%F %T|%Q', timeParts(0, true))).toBe('Thu Jan  1 00:00:00 1970|001|%|1970-01-01 00:00:00|%Q');
  });

  it('a PV Kamailio has and kemi-proxy does not provide reads as null and says so once', () => {
    const rec = { replies: [], forwards: [], logs: [] as { level: string; text: string }[] };
    const ctx = new MsgContext(SipMessage.parse(Buffer.from(REQ, 'latin1')), context().ctx.rcv, services(rec as never, newInstance()));
    expect(NOT_PROVIDED).toContain('stat');
    expect([get(ctx, '$stat(rcv_requests)'), get(ctx, '$stat(rcv_requests)')]).toEqual([null, null]);
    const logs = rec.logs.filter((l) => l.text.includes('$stat(rcv_requests) is not provided in kemi-proxy'));
    expect(logs.length).toBe(1);
    for (const name of MODULE_PVS_NOT_PROVIDED) expect(get(ctx, `$${name}(x)`)).toBeNull();
    expect(rec.logs.filter((l) => l.text.includes('$rdir(x) is not provided in kemi-proxy')).length).toBe(1);
  });

  it('a refused write answers false with an error (read-only PV), as Kamailio', () => {
    const { ctx, rec } = context(REQ);
    expect(sets(ctx, '$ci', 'x')).toBe(false);
    expect(rec.logs.some((l) => l.level === 'err' && l.text.includes("'$ci' is read-only"))).toBe(true);
  });
});

describe('From/To writes', () => {
  const MSG = (from: string, to: string) => ['INVITE sip:bob@kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx', `From: ${from}`, `To: ${to}`,
    'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n');
  const line = (ctx: MsgContext, name: string) => out(ctx).split('\r\n').find((l) => l.startsWith(`${name}: `));

  it('replace the part on the wire, keep the rest byte for byte; later reads show the received value', () => {
    const { ctx } = context(MSG('"Alice A" <sip:alice@kemi.test;x=1>;tag=f1', 'Bob <sip:bob@kemi.test>'));
    expect([sets(ctx, '$fU', 'neo'), sets(ctx, '$fd', 'from.test'), sets(ctx, '$fn', '"Neo"'), sets(ctx, '$tu', 'sip:t@to.test')]).toEqual([true, true, true, true]);
    expect(line(ctx, 'From')).toBe('From: "Neo" <sip:neo@from.test;x=1>;tag=f1');
    expect(line(ctx, 'To')).toBe('To: Bob <sip:t@to.test>');
    expect([get(ctx, '$fu'), get(ctx, '$fn'), get(ctx, '$from.user')]).toEqual(['sip:alice@kemi.test;x=1', '"Alice A"', 'alice']);
  });

  it('add a user or a display name where there is none; $null removes them', () => {
    const a = context(MSG('<sip:kemi.test>;tag=f1', 'sip:bob@kemi.test')).ctx;
    expect([sets(a, '$from.user', 'u'), sets(a, '$tn', 'T')]).toEqual([true, true]);
    expect([line(a, 'From'), line(a, 'To')]).toEqual(['From: <sip:u@kemi.test>;tag=f1', 'To: T <sip:bob@kemi.test>']);
    const b = context(MSG('"A" <sip:alice@kemi.test>;tag=f1', '<sip:bob@kemi.test>')).ctx;
    expect([call(pv, 'unset', b, '$fU'), call(pv, 'unset', b, '$fn'), call(pv, 'unset', b, '$tu')]).toEqual([true, true, true]);
    expect([line(b, 'From'), line(b, 'To')]).toEqual(['From: <sip:kemi.test>;tag=f1', 'To: <sip:bob@kemi.test>']);
  });
});
