/** KSR.registrar over usrloc on the embedded state: save/lookup/unregister, RFC 3261 10.3, $ulc, ul.* RPC. */
import { beforeEach, describe, expect, it } from 'vitest';
import registrar from '../../kemi/registrar.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { KemiArg, KemiModule, ModuleEnv } from '../../kemi/types.js';
import type { MsgContext } from '../../src/context/msg-context.js';
import type { RegistrarState } from '../../kemi/registrar.js';
import { call as sync, context, loadModule, services, testEnv } from './helpers.js';

let state: MemoryStore;
let reg: RegistrarState;
async function init(params: Record<string, string | number> = {}, all: ModuleEnv['allParams'] = {}): Promise<void> {
  reg = await loadModule(registrar, testEnv({ params, allParams: all, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
}
async function call(m: KemiModule, name: string, ctx: MsgContext, ...args: KemiArg[]): Promise<unknown> {
  const e = m.exports.find((x) => x.name === name);
  if (!e) throw new Error(`${m.name}.${name} is not exported`);
  return e.fn(ctx, ...args);
}

function register(contacts: string[], extra: string[] = [], callId = 'reg-1', cseq = 1): string {
  return [
    'REGISTER sip:kemi.test SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKreg${cseq}`,
    'From: <sip:bob@kemi.test>;tag=r1',
    'To: <sip:bob@kemi.test>',
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    ...contacts.map((c) => `Contact: ${c}`),
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
const invite = (ruri = 'sip:bob@kemi.test') => [
  `INVITE ${ruri} SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.20:5080;branch=z9hG4bKinv', 'From: <sip:alice@kemi.test>;tag=a1',
  'To: <sip:bob@kemi.test>', 'Call-ID: inv-1', 'CSeq: 1 INVITE', 'Content-Length: 0', '', '',
].join('\r\n');

async function save(text: string, flags = 0): Promise<{ rc: unknown; replies: { code: number; reason: string; headers?: string }[] }> {
  const c = context(text);
  const rc = await call(registrar, 'save', c.ctx, 'location', flags);
  return { rc, replies: c.rec.replies };
}
const rpc = (name: string, ...p: unknown[]) => registrar.rpc!(reg)[name]!(p);

beforeEach(async () => {
  state = new MemoryStore();
  await init();
});

describe('KSR.registrar save', () => {
  it('stores several contacts with q and expires, answers 200 with one Contact header listing them, best first', async () => {
    const r = await save(register(['<sip:bob@192.0.2.10:5070>;q=0.5', '<sip:bob@192.0.2.11:5070>;q=1.0;expires=30'], ['Expires: 600']));
    expect(r.rc).toBe(1);
    expect(r.replies[0]).toMatchObject({ code: 200, reason: 'OK' });
    // expires=30 is raised to min_expires 60; the Expires header covers the contact without a param.
    expect(r.replies[0]!.headers).toBe('Contact: <sip:bob@192.0.2.11:5070>;q=1;expires=60, <sip:bob@192.0.2.10:5070>;q=0.5;expires=600\r\n');
    const stored = state.mapGetAll('ul:location', 'bob');
    expect(Object.keys(stored).sort()).toEqual(['sip:bob@192.0.2.10:5070', 'sip:bob@192.0.2.11:5070']);
    const v = JSON.parse(stored['sip:bob@192.0.2.10:5070']!) as Record<string, unknown>;
    expect(v).toMatchObject({ contact: 'sip:bob@192.0.2.10:5070', q: 0.5, callid: 'reg-1', cseq: 1, path: null, received: null, socket: 'udp:127.0.0.1:5060', instance: null, reg_id: 0, flags: 0 });
    expect(v.expires).toBeGreaterThan(Date.now() / 1000 + 590);
    // refresh: 2 (updated); a new contact: 1 (inserted); expires=0: 3 (deleted)
    expect((await save(register(['<sip:bob@192.0.2.10:5070>;q=0.5'], [], 'reg-1', 2))).rc).toBe(2);
    expect((await save(register(['<sip:bob@192.0.2.12:5070>'], [], 'reg-1', 3))).rc).toBe(1);
    const del = await save(register(['<sip:bob@192.0.2.12:5070>;expires=0'], [], 'reg-1', 4));
    expect(del.rc).toBe(3);
    expect(del.replies[0]!.headers!.match(/<sip:/g)!.length).toBe(2);
  });

  it('uses default_expires without any expires, caps at max_expires, and answers a query (4) with the bindings', async () => {
    await init({ default_expires: 1800, max_expires: 900 });
    const r = await save(register(['<sip:bob@192.0.2.10:5070>']));
    expect(r.replies[0]!.headers).toContain(';expires=900');
    const q = await save(register([], [], 'reg-1', 2));
    expect(q.rc).toBe(4);
    expect(q.replies[0]!.headers).toMatch(/^Contact: <sip:bob@192\.0\.2\.10:5070>;expires=(899|900)\r\n$/);
  });

  it('removes every binding with * and Expires: 0 (3); refuses * with another Expires or with contacts (400)', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.11:5070>']));
    const bad = await save(register(['*'], ['Expires: 60'], 'x', 1));
    expect(bad.rc).toBe(-1);
    expect(bad.replies[0]).toMatchObject({ code: 400, reason: 'Bad Request' });
    expect(bad.replies[0]!.headers).toContain('P-Registrar-Error: * used in contact and expires is not zero');
    const mixed = await save(register(['*', '<sip:bob@192.0.2.12:5070>'], ['Expires: 0'], 'x', 1));
    expect(mixed.replies[0]!.headers).toContain('P-Registrar-Error: * used in contact and more than 1 contact');
    const star = await save(register(['*'], ['Expires: 0'], 'x', 1));
    expect(star.rc).toBe(3);
    expect(star.replies[0]).toMatchObject({ code: 200 });
    expect(star.replies[0]!.headers).toBe('');
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(-1);
  });

  it('Call-ID/CSeq ordering: a lower CSeq on the same Call-ID is 400 Invalid CSeq; an equal one soon after is a retransmission', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>'], [], 'reg-1', 5));
    const old = await save(register(['<sip:bob@192.0.2.10:5070>;expires=0'], [], 'reg-1', 4));
    expect(old.rc).toBe(-1);
    expect(old.replies[0]).toMatchObject({ code: 400, reason: 'Bad Request' });
    expect(old.replies[0]!.headers).toContain('P-Registrar-Error: Invalid CSeq number');
    const retrans = await save(register(['<sip:bob@192.0.2.10:5070>;expires=0'], [], 'reg-1', 5));
    expect(retrans.rc).toBe(1);
    expect(retrans.replies[0]!.headers).toContain('<sip:bob@192.0.2.10:5070>'); // not removed
    // Another Call-ID may use any CSeq.
    expect((await save(register(['<sip:bob@192.0.2.10:5070>;expires=0'], [], 'other', 1))).rc).toBe(3);
  });

  it('max_contacts: 503 Too many registered contacts (-2) without changes; flag 0x04 keeps one contact per AOR', async () => {
    await init({ max_contacts: 2, retry_after: 30 });
    expect((await save(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.11:5070>', '<sip:bob@192.0.2.12:5070>']))).rc).toBe(-2);
    await save(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.11:5070>']));
    const more = await save(register(['<sip:bob@192.0.2.12:5070>'], [], 'reg-1', 2));
    expect(more.rc).toBe(-2);
    expect(more.replies[0]).toMatchObject({ code: 503, reason: 'Service Unavailable' });
    expect(more.replies[0]!.headers).toContain('P-Registrar-Error: Too many registered contacts\r\nRetry-After: 30\r\n');
    const one = await save(register(['<sip:bob@192.0.2.13:5070>'], [], 'reg-1', 3), 0x04);
    expect(one.rc).toBe(1);
    expect(one.replies[0]!.headers).toMatch(/^Contact: <sip:bob@192\.0\.2\.13:5070>;expires=3600\r\n$/);
  });

  it('flag 0x02 sends no reply; with 0x10 reg_send_reply() sends the prepared one; min_expires_mode 1 answers 423', async () => {
    const c = context(register(['<sip:bob@192.0.2.10:5070>']));
    expect(await call(registrar, 'save', c.ctx, 'location', 0x02 | 0x10)).toBe(1);
    expect(c.rec.replies).toEqual([]);
    expect(await call(registrar, 'reg_send_reply', c.ctx)).toBe(1);
    expect(c.rec.replies[0]!.code).toBe(200);
    await init({ min_expires_mode: 1, min_expires: 120 });
    const low = await save(register(['<sip:bob@192.0.2.10:5070>;expires=30']));
    expect(low.rc).toBe(-1);
    expect(low.replies[0]).toMatchObject({ code: 423, reason: 'Interval Too Brief' });
    expect(low.replies[0]!.headers).toContain('Min-Expires: 120\r\n');
  });

  it('matches +sip.instance/reg-id contacts by instance (RFC 5626): a new Contact URI replaces the old one', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>;+sip.instance="<urn:uuid:1>";reg-id=1']));
    const r = await save(register(['<sip:bob@192.0.2.99:5070>;+sip.instance="<urn:uuid:1>";reg-id=1'], [], 'reg-1', 2));
    expect(r.rc).toBe(2);
    expect(r.replies[0]!.headers).toBe('Contact: <sip:bob@192.0.2.99:5070>;expires=3600;+sip.instance="<urn:uuid:1>";reg-id=1\r\n');
    expect(Object.keys(state.mapGetAll('ul:location', 'bob'))).toEqual(['<urn:uuid:1>;reg-id=1']);
  });
});

describe('KSR.registrar lookup', () => {
  it('sets the R-URI to the best contact and appends the others as branches (parallel forking); -1 when none', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>;q=0.5', '<sip:bob@192.0.2.11:5070>;q=0.9', '<sip:bob@192.0.2.12:5070>']));
    const inv = context(invite()).ctx;
    expect(await call(registrar, 'lookup', inv, 'location')).toBe(1);
    expect(inv.msg.ruri).toBe('sip:bob@192.0.2.11:5070');
    expect(inv.dstUri).toBeNull();
    expect(inv.branches.map((b) => [b.uri, b.q])).toEqual([['sip:bob@192.0.2.10:5070', 0.5], ['sip:bob@192.0.2.12:5070', -1]]);
    expect(await call(registrar, 'lookup', context(invite('sip:carol@kemi.test')).ctx, 'location')).toBe(-1);
    expect(await call(registrar, 'lookup', context(invite()).ctx, 'other_table')).toBe(-1);
    const u = context(invite('sip:x@kemi.test')).ctx;
    expect(await call(registrar, 'lookup_uri', u, 'location', 'sip:bob@kemi.test')).toBe(1);
    expect(u.msg.ruri).toBe('sip:bob@192.0.2.11:5070');
    const d = context(invite()).ctx;
    expect(await call(registrar, 'lookup_to_dset', d, 'location', '')).toBe(1);
    expect(d.msg.ruri).toBe('sip:bob@kemi.test');
    expect(d.branches.length).toBe(3);
    await init({ append_branches: 0 });
    const single = context(invite()).ctx;
    expect(await call(registrar, 'lookup', single, 'location')).toBe(1);
    expect(single.branches).toEqual([]);
  });

  it('set_q_override sets the q of the contacts saved; add_sock_hdr names the receiving socket', async () => {
    const c = context(register(['<sip:bob@192.0.2.10:5070>;q=0.1']));
    expect(await call(registrar, 'set_q_override', c.ctx, '0.7')).toBe(1);
    expect(await call(registrar, 'set_q_override', c.ctx, '1.5')).toBe(-1);
    expect(await call(registrar, 'save', c.ctx, 'location', 0)).toBe(1);
    expect(c.rec.replies[0]!.headers).toContain('<sip:bob@192.0.2.10:5070>;q=0.7;');
    const a = context(register(['<sip:bob@192.0.2.11:5070>'], [], 'reg-sock'));
    expect(await call(registrar, 'add_sock_hdr', a.ctx, 'X-Sock')).toBe(1);
    expect(a.ctx.msg.serialize().toString('latin1')).toContain('X-Sock: udp:127.0.0.1:5060\r\n');
  });

  it('method_filtering 1: contacts whose Allow / methods= lacks the method are skipped; -2 when only such remain', async () => {
    await init({ method_filtering: 1 });
    await save(register(['<sip:bob@192.0.2.10:5070>;q=0.9'], ['Allow: INVITE, ACK, CANCEL, BYE'], 'reg-a'));
    await save(register(['<sip:bob@192.0.2.11:5070>;q=0.5;methods="INVITE,MESSAGE"'], [], 'reg-b'));
    const inv = context(invite()).ctx;
    expect(await call(registrar, 'lookup', inv, 'location')).toBe(1);
    expect([inv.msg.ruri, ...inv.branches.map((b) => b.uri)]).toEqual(['sip:bob@192.0.2.10:5070', 'sip:bob@192.0.2.11:5070']);
    const message = context(invite().replace(/INVITE/g, 'MESSAGE')).ctx;
    expect(await call(registrar, 'lookup', message, 'location')).toBe(1);
    expect([message.msg.ruri, ...message.branches.map((b) => b.uri)]).toEqual(['sip:bob@192.0.2.11:5070']);
    expect(await call(registrar, 'lookup', context(invite().replace(/INVITE/g, 'SUBSCRIBE')).ctx, 'location')).toBe(-2);
    // In-dialog (To tag) requests are not filtered; without method_filtering nothing is.
    const indialog = context(invite().replace(/INVITE/g, 'SUBSCRIBE').replace('To: <sip:bob@kemi.test>', 'To: <sip:bob@kemi.test>;tag=b1')).ctx;
    expect(await call(registrar, 'lookup', indialog, 'location')).toBe(1);
    const f = context(invite().replace(/INVITE/g, 'SUBSCRIBE')).ctx;
    expect(await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:bob@kemi.test', 'p')).toBe(1);
    await init({ method_filtering: 0 });
    expect(await call(registrar, 'lookup', context(invite().replace(/INVITE/g, 'SUBSCRIBE')).ctx, 'location')).toBe(1);
    const dumped = JSON.stringify(await rpc('ul.dump'));
    expect(dumped).toContain(`"Methods":${1 | 2 | 4 | 8}`);
    expect(dumped).toContain(`"Methods":${1 | 256}`);
  });

  it('stores received (received_avp) and Path (use_path); lookup routes via the first Path hop, else received', async () => {
    await init({ received_avp: '$avp(RECEIVED)', use_path: 1, path_mode: 1 });
    const r = context(register(['<sip:bob@10.0.0.5:5060>'], ['Path: <sip:edge.example.org;lr>', 'Supported: path']));
    sync(pv, 'sets', r.ctx, '$avp(RECEIVED)', 'sip:198.51.100.7:40000');
    expect(await call(registrar, 'save', r.ctx, 'location', 0)).toBe(1);
    expect(r.rec.replies[0]!.headers).toBe('Contact: <sip:bob@10.0.0.5:5060>;expires=3600;received="sip:198.51.100.7:40000"\r\nPath: <sip:edge.example.org;lr>\r\n');
    const inv = context(invite()).ctx;
    expect(await call(registrar, 'lookup', inv, 'location')).toBe(1);
    expect(inv.msg.ruri).toBe('sip:bob@10.0.0.5:5060');
    expect(inv.dstUri).toBe('sip:edge.example.org;lr');
    expect(inv.ruriPath).toBe('<sip:edge.example.org;lr>');
    // Without Path, received is the next hop.
    const n = context(register(['<sip:carl@10.0.0.6:5060>']).replace(/bob@/g, 'carl@'));
    sync(pv, 'sets', n.ctx, '$avp(RECEIVED)', 'sip:198.51.100.8:40001');
    await call(registrar, 'save', n.ctx, 'location', 0);
    const i2 = context(invite('sip:carl@kemi.test')).ctx;
    await call(registrar, 'lookup', i2, 'location');
    expect([i2.msg.ruri, i2.dstUri]).toEqual(['sip:carl@10.0.0.6:5060', 'sip:198.51.100.8:40001']);
  });

  it('path_mode 2 (strict) answers 420 with Unsupported: path when the UA does not support Path; use_path 0 ignores Path', async () => {
    await init({ use_path: 1 });
    const r = await save(register(['<sip:bob@10.0.0.5:5060>'], ['Path: <sip:edge.example.org;lr>']));
    expect(r.replies[0]).toMatchObject({ code: 420, reason: 'Bad Extension' });
    expect(r.replies[0]!.headers).toContain('Unsupported: path\r\nPath: <sip:edge.example.org;lr>\r\n');
    await init();
    state = new MemoryStore();
    await init();
    const p = await save(register(['<sip:bob@10.0.0.5:5060>'], ['Path: <sip:edge.example.org;lr>']));
    expect(p.replies[0]!.code).toBe(200);
    expect(p.replies[0]!.headers).not.toContain('Path:');
    const inv = context(invite()).ctx;
    await call(registrar, 'lookup', inv, 'location');
    expect([inv.dstUri, inv.ruriPath]).toEqual([null, null]);
  });

  it('expired contacts are neither returned nor kept; registered/unregister/unregister_ruid; use_domain keys', async () => {
    const gone = { contact: 'sip:bob@192.0.2.50:5060', expires: Math.floor(Date.now() / 1000) - 5, q: -1, callid: 'c', cseq: 1 };
    state.mapSet('ul:location', 'bob', gone.contact, JSON.stringify(gone));
    expect(await call(registrar, 'lookup', context(invite()).ctx, 'location')).toBe(-1);
    expect(state.mapGetAll('ul:location', 'bob')).toEqual({});
    await save(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.11:5070>']));
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(1);
    expect(await call(registrar, 'registered_uri', context(invite()).ctx, 'location', 'sip:carol@kemi.test')).toBe(-1);
    const f = context(invite()).ctx;
    await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:bob@kemi.test', 'p');
    const ruid = sync(pv, 'get', f, '$ulc(p=>ruid)') as string;
    expect(await call(registrar, 'unregister_ruid', f, 'location', 'sip:bob@kemi.test', ruid)).toBe(1);
    expect(await call(registrar, 'unregister_ruid', f, 'location', 'sip:bob@kemi.test', ruid)).toBe(-1);
    expect(Object.keys(state.mapGetAll('ul:location', 'bob')).length).toBe(1);
    expect(await call(registrar, 'unregister', f, 'location', 'sip:bob@kemi.test')).toBe(1);
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(-1);
    await init({}, { usrloc: { use_domain: 1 } });
    await save(register(['<sip:bob@192.0.2.10:5070>']));
    expect(Object.keys(state.mapGetAll('ul:location', 'bob@kemi.test')).length).toBe(1);
    expect(await call(registrar, 'lookup', context(invite('sip:bob@other.test')).ctx, 'location')).toBe(-1);
    expect(await call(registrar, 'lookup', context(invite()).ctx, 'location')).toBe(1);
  });

  it('$ulc after reg_fetch_contacts, and reg_free_contacts', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>;q=0.2', '<sip:bob@192.0.2.11:5070>;q=0.7'], ['User-Agent: phone/1']));
    const f = context(invite()).ctx;
    expect(await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:bob@kemi.test', 'p')).toBe(1);
    expect(sync(pv, 'get', f, '$ulc(p=>count)')).toBe(2);
    expect(sync(pv, 'get', f, '$ulc(p=>aor)')).toBe('bob');
    expect(sync(pv, 'get', f, '$(ulc(p=>addr)[1])')).toBe('sip:bob@192.0.2.10:5070');
    expect(sync(pv, 'get', f, '$ulc(p=>q)')).toBe(700);
    expect(sync(pv, 'get', f, '$ulc(p=>user_agent)')).toBe('phone/1');
    expect(await call(registrar, 'reg_free_contacts', f, 'p')).toBe(1);
    expect(sync(pv, 'get', f, '$ulc(p=>count)')).toBeNull();
    expect(await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:zed@kemi.test', 'z')).toBe(-1);
  });
});

describe('KSR.registrar with xavp_cfg', () => {
  it('registered_flags matches on $xavp(reg=>match_callid/match_contact); q and expires come from the xavp', async () => {
    await init({ xavp_cfg: 'reg' });
    const r = context(register(['<sip:bob@192.0.2.10:5070>;q=0.1']));
    sync(pv, 'seti', r.ctx, '$xavp(reg=>q)', 800);
    sync(pv, 'seti', r.ctx, '$xavp(reg[0]=>expires)', 120); // [0]: the same item (without it, a new one)
    await call(registrar, 'save', r.ctx, 'location', 0);
    expect(r.rec.replies[0]!.headers).toBe('Contact: <sip:bob@192.0.2.10:5070>;q=0.8;expires=120\r\n');
    const m = context(invite()).ctx;
    sync(pv, 'sets', m, '$xavp(reg=>match_callid)', 'reg-1');
    expect(await call(registrar, 'registered_flags', m, 'location', '', 1)).toBe(1);
    const n = context(invite()).ctx;
    sync(pv, 'sets', n, '$xavp(reg=>match_contact)', 'sip:bob@192.0.2.99:5070');
    expect(await call(registrar, 'registered_flags', n, 'location', '', 4)).toBe(-1);
    expect(await call(registrar, 'registered_flags', n, 'location', '', 1)).toBe(1); // no match_callid: not narrowed
    expect(await call(registrar, 'registered_action', m, 'location', 'sip:bob@kemi.test', 1, 0)).toBe(1);
  });
});

describe('ul.* RPC', () => {
  it('ul.dump, ul.lookup and ul.rm in Kamailio shapes', async () => {
    await save(register(['<sip:bob@192.0.2.10:5070>']));
    const d = (await rpc('ul.dump')) as { Domains: { Domain: { Domain: string; AoRs: { Info: { AoR: string; Contacts: { Contact: { Address: string; Expires: number } }[] } }[] } }[] };
    const dom = d.Domains[0]!.Domain;
    expect(dom.Domain).toBe('location');
    expect(dom.AoRs[0]!.Info.AoR).toBe('bob');
    expect(dom.AoRs[0]!.Info.Contacts[0]!.Contact.Address).toBe('sip:bob@192.0.2.10:5070');
    expect(dom.AoRs[0]!.Info.Contacts[0]!.Contact.Expires).toBeGreaterThan(3590);
    expect(await rpc('ul.lookup', 'location', 'bob')).toMatchObject({ AoR: 'bob', Contacts: [{ Contact: { Address: 'sip:bob@192.0.2.10:5070' } }] });
    expect(await rpc('ul.lookup', 'location', 'sip:bob@kemi.test')).toMatchObject({ AoR: 'bob' });
    expect(await rpc('ul.rm', 'location', 'bob')).toBe('ok');
    await expect(rpc('ul.lookup', 'location', 'bob')).rejects.toThrow(/not found/);
  });
});
