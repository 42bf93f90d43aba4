/** KSR.registrar, KSR.auth and KSR.auth_db against parsed messages on the embedded state. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import registrar from '../../kemi/registrar.js';
import auth from '../../kemi/auth.js';
import authDb from '../../kemi/auth_db.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { NonceMaker } from '../../src/auth/digest.js';
import type { KemiModule, ModuleEnv } from '../../kemi/types.js';
import type { MsgContext } from '../../src/core/context.js';
import type { KemiArg } from '../../kemi/types.js';
import { call as sync, context, services } from './helpers.js';

let state: MemoryStore;
async function init(m: KemiModule, params: Record<string, string | number> = {}, all: ModuleEnv['allParams'] = {}): Promise<void> {
  const rec = { replies: [], forwards: [], logs: [] };
  await m.init!({ params, allParams: all, state, proxy: services(rec), log: () => undefined });
}

/** KSR call that may suspend (memory store answers at once, but the type allows a Promise). */
async function call(m: KemiModule, name: string, ctx: MsgContext, ...args: KemiArg[]): Promise<unknown> {
  const e = m.exports.find((x) => x.name === name);
  if (!e) throw new Error(`${m.name}.${name} is not exported`);
  return e.fn(ctx, ...args);
}

function register(contacts: string[], extra = '', callId = 'reg-1', cseq = 1): string {
  return [
    'REGISTER sip:kemi.test SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKreg' + cseq,
    'From: <sip:bob@kemi.test>;tag=r1',
    'To: <sip:bob@kemi.test>',
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    ...contacts.map((c) => `Contact: ${c}`),
    extra,
    'Content-Length: 0',
    '',
    '',
  ].filter((l, i, a) => l !== '' || i >= a.length - 2).join('\r\n');
}

const invite = (ruri = 'sip:bob@kemi.test') => [
  `INVITE ${ruri} SIP/2.0`,
  'Via: SIP/2.0/UDP 192.0.2.20:5080;branch=z9hG4bKinv',
  'From: <sip:alice@kemi.test>;tag=a1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: inv-1',
  'CSeq: 1 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

beforeEach(async () => {
  state = new MemoryStore();
  await init(registrar);
  await init(auth);
  await init(authDb);
});

describe('KSR.registrar', () => {
  it('saves contacts with q and expires, answers 200 listing them, and lookup forks to them best first', async () => {
    const { ctx, rec } = context(register(['<sip:bob@192.0.2.10:5070>;q=0.5', '<sip:bob@192.0.2.11:5070>;q=1.0;expires=30'], 'Expires: 600'));
    expect(await call(registrar, 'save', ctx, 'location', 0)).toBe(1);
    expect(rec.replies[0]!.code).toBe(200);
    expect(rec.replies[0]!.headers).toMatch(/Contact: <sip:bob@192\.0\.2\.11:5070>;expires=60;q=1\r\n/); // 30 < min_expires 60
    expect(rec.replies[0]!.headers).toMatch(/Contact: <sip:bob@192\.0\.2\.10:5070>;expires=600;q=0\.5\r\n/);
    const inv = context(invite()).ctx;
    expect(await call(registrar, 'lookup', inv, 'location')).toBe(1);
    expect(inv.msg.ruri).toBe('sip:bob@192.0.2.11:5070');
    expect(inv.branches.map((b) => b.uri)).toEqual(['sip:bob@192.0.2.10:5070']);
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(1);
    expect(await call(registrar, 'lookup', context(invite('sip:carol@kemi.test')).ctx, 'location')).toBe(-1);
    expect(await call(registrar, 'registered_uri', inv, 'location', 'sip:carol@kemi.test')).toBe(-1);
    expect(await call(registrar, 'unregister', inv, 'location', 'sip:bob@kemi.test')).toBe(1);
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(-1);
  });

  it('removes with Expires 0 and *, answers a query, refuses an older CSeq, and keeps one contact with flag 4', async () => {
    await call(registrar, 'save', context(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.12:5070>'])).ctx, 'location', 0);
    const q = context(register([], '', 'reg-1', 2));
    expect(await call(registrar, 'save', q.ctx, 'location', 0)).toBe(4);
    expect(q.rec.replies[0]!.headers!.match(/Contact:/g)!.length).toBe(2);
    const old = context(register(['<sip:bob@192.0.2.10:5070>'], '', 'reg-1', 0));
    expect(await call(registrar, 'save', old.ctx, 'location', 0)).toBe(-1);
    expect(old.rec.replies[0]!.code).toBe(400);
    const one = context(register(['<sip:bob@192.0.2.10:5070>;expires=0'], '', 'reg-1', 3));
    expect(await call(registrar, 'save', one.ctx, 'location', 0)).toBe(1);
    expect(one.rec.replies[0]!.headers!.match(/Contact:/g)!.length).toBe(1);
    const star = context(register(['*'], 'Expires: 0', 'reg-1', 4));
    expect(await call(registrar, 'save', star.ctx, 'location', 0)).toBe(3);
    expect(await call(registrar, 'registered', context(invite()).ctx, 'location')).toBe(-1);
    const badStar = context(register(['*'], 'Expires: 60', 'reg-1', 5));
    expect(await call(registrar, 'save', badStar.ctx, 'location', 0)).toBe(-1);
    expect(badStar.rec.replies[0]!.code).toBe(400);
    await call(registrar, 'save', context(register(['<sip:bob@192.0.2.10:5070>', '<sip:bob@192.0.2.13:5070>'], '', 'reg-2', 1)).ctx, 'location', 4);
    const f = context(invite()).ctx;
    await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:bob@kemi.test', 'p');
    expect(sync(pv, 'get', f, '$ulc(p=>count)')).toBe(1);
    const silent = context(register(['<sip:bob@192.0.2.14:5070>'], '', 'reg-3', 1));
    await call(registrar, 'save', silent.ctx, 'location', 2);
    expect(silent.rec.replies).toEqual([]);
  });

  it('stores received (received_avp) and Path, and lookup sends there', async () => {
    await init(registrar, { received_avp: '$avp(RECEIVED)' });
    const r = context(register(['<sip:bob@10.0.0.5:5060>'], 'Path: <sip:edge.example.org;lr>\r\nSupported: path'));
    sync(pv, 'sets', r.ctx, '$avp(RECEIVED)', 'sip:198.51.100.7:40000');
    expect(await call(registrar, 'save', r.ctx, 'location', 0)).toBe(1);
    expect(r.rec.replies[0]!.headers).toContain('Path: <sip:edge.example.org;lr>');
    const inv = context(invite()).ctx;
    expect(await call(registrar, 'lookup', inv, 'location')).toBe(1);
    expect(inv.msg.ruri).toBe('sip:bob@10.0.0.5:5060');
    expect(inv.dstUri).toBe('sip:198.51.100.7:40000');
    expect(inv.ruriPath).toBe('<sip:edge.example.org;lr>');
    const f = context(invite()).ctx;
    expect(await call(registrar, 'reg_fetch_contacts', f, 'location', 'sip:bob@kemi.test', 'p')).toBe(1);
    expect([sync(pv, 'get', f, '$ulc(p=>aor)'), sync(pv, 'get', f, '$ulc(p=>count)'), sync(pv, 'get', f, '$ulc(p=>received)')]).toEqual(['bob', 1, 'sip:198.51.100.7:40000']);
    expect(await call(registrar, 'reg_free_contacts', f, 'p')).toBe(1);
    expect(sync(pv, 'get', f, '$ulc(p=>count)')).toBeNull();
  });
});

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function challengeNonce(hdrs: string | undefined): string {
  return /nonce="([^"]+)"/.exec(hdrs ?? '')![1]!;
}

/** Credentials computed straight from RFC 2617 / RFC 7616, independent of src/auth. */
function authorization(o: { user: string; realm: string; password: string; nonce: string; method: string; uri: string; nc?: string; alg?: 'MD5' | 'SHA-256' }): string {
  const h = o.alg === 'SHA-256' ? sha256 : md5;
  const ha1 = h(`${o.user}:${o.realm}:${o.password}`);
  const ha2 = h(`${o.method}:${o.uri}`);
  const nc = o.nc ?? '00000001';
  const resp = h(`${ha1}:${o.nonce}:${nc}:c0ffee:auth:${ha2}`);
  return `Digest username="${o.user}", realm="${o.realm}", nonce="${o.nonce}", uri="${o.uri}", response="${resp}", algorithm=${o.alg ?? 'MD5'}, cnonce="c0ffee", qop=auth, nc=${nc}`;
}

async function challenged(): Promise<string> {
  const c = context(register(['<sip:bob@192.0.2.10:5070>']));
  expect(await call(auth, 'auth_challenge', c.ctx, 'kemi.test', 1)).toBe(1);
  expect(c.rec.replies[0]!.code).toBe(401);
  expect(c.rec.replies[0]!.headers).toMatch(/^WWW-Authenticate: Digest realm="kemi\.test", nonce="[0-9a-f]{56}", qop="auth"\r\n$/);
  return challengeNonce(c.rec.replies[0]!.headers);
}

describe('KSR.auth and KSR.auth_db', () => {
  beforeEach(async () => {
    await state.set('subscriber', 'bob@kemi.test', JSON.stringify({ password: 'pw' }));
    await state.set('subscriber', 'carl', 'plainpw');
  });

  it('challenges 401 for REGISTER and 407 otherwise; checks digest against the subscriber table', async () => {
    const inv = context(invite());
    await call(auth, 'auth_challenge', inv.ctx, 'kemi.test', 0);
    expect(inv.rec.replies[0]!.code).toBe(407);
    expect(inv.rec.replies[0]!.headers).toMatch(/^Proxy-Authenticate: Digest realm="kemi\.test", nonce="[0-9a-f]{56}"\r\n$/);
    const nonce = await challenged();
    const good = context(register(['<sip:bob@192.0.2.10:5070>'], `Authorization: ${authorization({ user: 'bob', realm: 'kemi.test', password: 'pw', nonce, method: 'REGISTER', uri: 'sip:kemi.test' })}`));
    expect(await call(authDb, 'auth_check', good.ctx, 'kemi.test', 'subscriber', 1)).toBe(1);
    expect([sync(pv, 'get', good.ctx, '$au'), sync(pv, 'get', good.ctx, '$ar')]).toEqual(['bob', 'kemi.test']);
    expect(await call(auth, 'has_credentials', good.ctx, 'kemi.test')).toBe(1);
    expect(await call(auth, 'consume_credentials', good.ctx)).toBe(1);
    expect(good.ctx.msg.serialize().toString('latin1')).not.toContain('Authorization:');
    // The same nonce count again is a replay.
    const replay = context(register(['<sip:bob@192.0.2.10:5070>'], `Authorization: ${authorization({ user: 'bob', realm: 'kemi.test', password: 'pw', nonce, method: 'REGISTER', uri: 'sip:kemi.test' })}`));
    expect(await call(authDb, 'auth_check', replay.ctx, 'kemi.test', 'subscriber', 1)).toBe(-6);
    const next = context(register(['<sip:bob@192.0.2.10:5070>'], `Authorization: ${authorization({ user: 'bob', realm: 'kemi.test', password: 'pw', nonce, method: 'REGISTER', uri: 'sip:kemi.test', nc: '00000002' })}`));
    expect(await call(authDb, 'auth_check', next.ctx, 'kemi.test', 'subscriber', 1)).toBe(1);
  });

  it('tells wrong password, unknown user, no credentials, user mismatch, stale and forged nonces apart', async () => {
    const nonce = await challenged();
    const with_ = (user: string, password: string, n = nonce) => context(register(['<sip:bob@192.0.2.10:5070>'], `Authorization: ${authorization({ user, realm: 'kemi.test', password, nonce: n, method: 'REGISTER', uri: 'sip:kemi.test' })}`)).ctx;
    expect(await call(authDb, 'auth_check', with_('bob', 'nope'), 'kemi.test', 'subscriber', 1)).toBe(-2);
    expect(await call(authDb, 'auth_check', with_('zed', 'pw'), 'kemi.test', 'subscriber', 0)).toBe(-3);
    expect(await call(authDb, 'auth_check', with_('carl', 'plainpw'), 'kemi.test', 'subscriber', 1)).toBe(-8);
    expect(await call(authDb, 'auth_check', with_('carl', 'plainpw'), 'kemi.test', 'subscriber', 0)).toBe(1);
    expect(await call(authDb, 'auth_check', context(register(['<sip:bob@192.0.2.10:5070>'])).ctx, 'kemi.test', 'subscriber', 1)).toBe(-5);
    const secret = (await state.get('auth', 'secret'))!;
    expect(await call(authDb, 'auth_check', with_('bob', 'pw', new NonceMaker(secret, -5).make()), 'kemi.test', 'subscriber', 1)).toBe(-4);
    expect(await call(authDb, 'auth_check', with_('bob', 'pw', new NonceMaker('other', 60).make()), 'kemi.test', 'subscriber', 1)).toBe(-1);
    expect(await call(authDb, 'is_subscriber', context(invite()).ctx, 'sip:bob@kemi.test', 'subscriber', 0)).toBe(1);
    expect(await call(authDb, 'is_subscriber', context(invite()).ctx, 'sip:zed@kemi.test', 'subscriber', 0)).toBe(-1);
    expect(await call(authDb, 'auth_check', context(invite().replace('INVITE sip', 'ACK sip').replace('1 INVITE', '1 ACK')).ctx, 'kemi.test', 'subscriber', 1)).toBe(1);
  });

  it('SHA-256 (RFC 8760) and pv_auth_check with a password or HA1', async () => {
    await init(auth, { algorithm: 'SHA-256' });
    const c = context(invite());
    await call(auth, 'auth_challenge', c.ctx, 'kemi.test', 1);
    expect(c.rec.replies[0]!.headers).toContain('algorithm=SHA-256');
    const nonce = challengeNonce(c.rec.replies[0]!.headers);
    const cred = authorization({ user: 'alice', realm: 'kemi.test', password: 'apw', nonce, method: 'INVITE', uri: 'sip:bob@kemi.test', alg: 'SHA-256' });
    const inv = context(invite().replace('Content-Length', `Proxy-Authorization: ${cred}\r\nContent-Length`)).ctx;
    expect(await call(auth, 'pv_auth_check', inv, 'kemi.test', 'apw', 0, 1)).toBe(1);
    await init(auth);
    const n2 = await challenged();
    const cred2 = authorization({ user: 'alice', realm: 'kemi.test', password: 'apw', nonce: n2, method: 'INVITE', uri: 'sip:bob@kemi.test' });
    const inv2 = context(invite().replace('Content-Length', `Proxy-Authorization: ${cred2}\r\nContent-Length`)).ctx;
    expect(await call(auth, 'pv_auth_check', inv2, 'kemi.test', md5('alice:kemi.test:apw'), 1, 0)).toBe(1);
  });
});
