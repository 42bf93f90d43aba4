/** KSR.auth and KSR.auth_db on parsed messages with the embedded state: RFC 2617/7616/8760 digest, Kamailio's codes. */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import auth from '../../kemi/auth.js';
import authDb from '../../kemi/auth_db.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { NonceMaker } from '../../src/auth/digest.js';
import type { KemiArg, KemiModule } from '../../kemi/types.js';
import type { MsgContext } from '../../src/context/msg-context.js';
import type { AuthDbState } from '../../kemi/auth_db.js';
import { call as sync, context, loadModule, resetInstance, services, testEnv } from './helpers.js';

let state: MemoryStore;
let db: AuthDbState;
async function init<S>(m: KemiModule<S>, params: Record<string, string | number> = {}): Promise<S> {
  return loadModule(m, testEnv({ params, allParams: {}, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
}
/** auth then auth_db (auth_db binds to the auth loaded before it), as a config lists them. */
async function initBoth(authParams: Record<string, string | number> = {}, dbParams: Record<string, string | number> = {}): Promise<void> {
  await init(auth, authParams);
  db = await init(authDb, dbParams);
}
const REPLAY_ON = { nonce_count: 1, one_time_nonce: 1 };
async function call(m: KemiModule, name: string, ctx: MsgContext, ...args: KemiArg[]): Promise<unknown> {
  const e = m.exports.find((x) => x.name === name);
  if (!e) throw new Error(`${m.name}.${name} is not exported`);
  return e.fn(ctx, ...args);
}
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function register(extra: string[] = [], from = 'bob', to = 'bob'): string {
  return [
    'REGISTER sip:kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKreg', `From: <sip:${from}@kemi.test>;tag=r1`,
    `To: <sip:${to}@kemi.test>`, 'Call-ID: reg-1', 'CSeq: 1 REGISTER', 'Contact: <sip:bob@192.0.2.10:5070>', ...extra, 'Content-Length: 0', '', '',
  ].join('\r\n');
}
function invite(extra: string[] = [], from = 'alice', method = 'INVITE'): string {
  return [
    `${method} sip:bob@kemi.test SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.20:5080;branch=z9hG4bKinv', `From: <sip:${from}@kemi.test>;tag=a1`,
    'To: <sip:bob@kemi.test>', 'Call-ID: inv-1', `CSeq: 1 ${method}`, ...extra, 'Content-Length: 0', '', '',
  ].join('\r\n');
}

/** Credentials computed straight from RFC 2617 / RFC 7616, independent of src/auth. */
function digest(o: { user: string; realm?: string; password: string; nonce: string; method: string; uri: string; nc?: string; alg?: 'MD5' | 'SHA-256'; qop?: boolean }): string {
  const h = o.alg === 'SHA-256' ? sha256 : md5;
  const realm = o.realm ?? 'kemi.test';
  const ha1 = h(`${o.user}:${realm}:${o.password}`);
  const ha2 = h(`${o.method}:${o.uri}`);
  const nc = o.nc ?? '00000001';
  if (o.qop === false) {
    return `Digest username="${o.user}", realm="${realm}", nonce="${o.nonce}", uri="${o.uri}", response="${h(`${ha1}:${o.nonce}:${ha2}`)}"`;
  }
  const resp = h(`${ha1}:${o.nonce}:${nc}:c0ffee:auth:${ha2}`);
  return `Digest username="${o.user}", realm="${realm}", nonce="${o.nonce}", uri="${o.uri}", response="${resp}", algorithm=${o.alg ?? 'MD5'}, cnonce="c0ffee", qop=auth, nc=${nc}`;
}

async function challenge(text = register(), flags = 1): Promise<{ code: number; header: string; nonce: string }> {
  const c = context(text);
  expect(await call(auth, 'auth_challenge', c.ctx, 'kemi.test', flags)).toBe(1);
  const r = c.rec.replies[0]!;
  return { code: r.code, header: r.headers!, nonce: /nonce="([^"]+)"/.exec(r.headers!)![1]! };
}
const regAuth = (o: Partial<Parameters<typeof digest>[0]> & { nonce: string }, from = 'bob', to = 'bob') =>
  context(register([`Authorization: ${digest({ user: 'bob', password: 'pw', method: 'REGISTER', uri: 'sip:kemi.test', ...o })}`], from, to)).ctx;
const check = (ctx: MsgContext, flags = 1, realm = 'kemi.test', table = 'subscriber') => call(authDb, 'auth_check', ctx, realm, table, flags);

beforeEach(async () => {
  state = new MemoryStore();
  resetInstance();
  await initBoth();
  state.set('subscriber', 'bob@kemi.test', JSON.stringify({ password: 'pw' }));
  state.set('subscriber', 'carl', 'plainpw');
});

describe('KSR.auth challenges', () => {
  it('401 WWW-Authenticate for REGISTER, 407 Proxy-Authenticate otherwise; qop by flags; stale=true by flag 16', async () => {
    const r = await challenge();
    expect(r.code).toBe(401);
    expect(r.header).toMatch(/^WWW-Authenticate: Digest realm="kemi\.test", nonce="[0-9a-f]{56}", qop="auth"\r\n$/);
    const p = await challenge(invite(), 0);
    expect(p.code).toBe(407);
    expect(p.header).toMatch(/^Proxy-Authenticate: Digest realm="kemi\.test", nonce="[0-9a-f]{56}"\r\n$/);
    expect((await challenge(invite(), 2)).header).toContain('qop="auth-int"');
    expect((await challenge(invite(), 16)).header).toContain('stale=true');
  });

  it('adds stale=true by itself when the request carried one of our nonces that has expired', async () => {
    const secret = (await state.get('auth', 'secret'))!;
    const old = new NonceMaker(secret, -5).make();
    const r = await challenge(register([`Authorization: ${digest({ user: 'bob', password: 'pw', nonce: old, method: 'REGISTER', uri: 'sip:kemi.test' })}`]));
    expect(r.header).toContain(', stale=true');
    const forged = await challenge(register([`Authorization: ${digest({ user: 'bob', password: 'pw', nonce: new NonceMaker('x', -5).make(), method: 'REGISTER', uri: 'sip:kemi.test' })}`]));
    expect(forged.header).not.toContain('stale');
  });

  it('SHA-256 (RFC 8760) with modparam algorithm', async () => {
    await initBoth({ algorithm: 'SHA-256' });
    const r = await challenge();
    expect(r.header).toContain('algorithm=SHA-256');
    expect(await check(regAuth({ nonce: r.nonce, alg: 'SHA-256' }))).toBe(1);
    expect(await check(regAuth({ nonce: r.nonce, alg: 'SHA-256', nc: '00000002', password: 'bad' }))).toBe(-2);
  });
});

describe('KSR.auth_db.auth_check', () => {
  it('accepts the right password; by default (as Kamailio) a nonce is good again until it expires', async () => {
    const { nonce } = await challenge();
    expect(await check(regAuth({ nonce }))).toBe(1);
    expect(await check(regAuth({ nonce }))).toBe(1);
    const n2 = (await challenge(register(), 0)).nonce;
    expect(await check(regAuth({ nonce: n2, qop: false }))).toBe(1);
    expect(await check(regAuth({ nonce: n2, qop: false }))).toBe(1);
    expect(await state.get('auth:nc', nonce)).toBeNull();
  });

  it('with nonce_count/one_time_nonce: once per nonce count (replay -4, as Kamailio); $au/$ar/$ad; consume_credentials', async () => {
    await initBoth(REPLAY_ON);
    const { nonce } = await challenge();
    const ok = regAuth({ nonce });
    expect(await check(ok)).toBe(1);
    expect([sync(pv, 'get', ok, '$au'), sync(pv, 'get', ok, '$ar'), sync(pv, 'get', ok, '$ad')]).toEqual(['bob', 'kemi.test', '']);
    expect(await call(auth, 'has_credentials', ok, 'kemi.test')).toBe(1);
    expect(await call(auth, 'has_credentials', ok, 'other.test')).toBe(-1);
    expect(await call(auth, 'consume_credentials', ok)).toBe(1);
    expect(ok.msg.serialize().toString('latin1')).not.toContain('Authorization:');
    expect(await check(regAuth({ nonce }))).toBe(-4);
    expect(await check(regAuth({ nonce, nc: '00000002' }))).toBe(1);
    // The count is used up before the password is looked at (Kamailio's check_nonce comes first).
    expect(await check(regAuth({ nonce, nc: '00000003', password: 'bad' }))).toBe(-2);
    expect(await check(regAuth({ nonce, nc: '00000003' }))).toBe(-4);
    // nc must be 8 hex digits (-1); Kamailio keeps one byte per nonce: above 255 is stale.
    expect(await check(regAuth({ nonce, nc: '4' }))).toBe(-1);
    expect(await check(regAuth({ nonce, nc: '00000100' }))).toBe(-4);
    // Without qop (no nc) a nonce is good once (one_time_nonce).
    const n2 = (await challenge(register(), 0)).nonce;
    expect(await check(regAuth({ nonce: n2, qop: false }))).toBe(1);
    expect(await check(regAuth({ nonce: n2, qop: false }))).toBe(-6);
  });

  it('tells wrong password, unknown user, no credentials, stale and forged nonces apart', async () => {
    const { nonce } = await challenge();
    expect(await check(regAuth({ nonce, password: 'nope' }))).toBe(-2);
    expect(await check(regAuth({ nonce, user: 'zed' }, 'zed', 'zed'))).toBe(-3);
    expect(await check(context(register()).ctx)).toBe(-5);
    const secret = (await state.get('auth', 'secret'))!;
    expect(await check(regAuth({ nonce: new NonceMaker(secret, -5).make() }))).toBe(-4);
    expect(await check(regAuth({ nonce: new NonceMaker('other', 60).make() }))).toBe(-1);
    expect(await check(regAuth({ nonce }), 1, '')).toBe(-1);
    expect(await check(regAuth({ nonce }), 1, 'kemi.test', '')).toBe(-1);
    expect(await check(context(invite([], 'alice', 'ACK')).ctx)).toBe(1);
  });

  it('nonce_count alone leaves nonces without qop reusable; one_time_nonce alone makes every nonce good once (-6)', async () => {
    await initBoth({ nonce_count: 1 });
    const q = (await challenge()).nonce;
    expect(await check(regAuth({ nonce: q }))).toBe(1);
    expect(await check(regAuth({ nonce: q }))).toBe(-4);
    const plain = (await challenge(register(), 0)).nonce;
    expect(await check(regAuth({ nonce: plain, qop: false }))).toBe(1);
    expect(await check(regAuth({ nonce: plain, qop: false }))).toBe(1);
    await initBoth({ one_time_nonce: 1 });
    const q2 = (await challenge()).nonce;
    expect(await check(regAuth({ nonce: q2 }))).toBe(1);
    expect(await check(regAuth({ nonce: q2, nc: '00000002' }))).toBe(-6);
    const plain2 = (await challenge(register(), 0)).nonce;
    expect(await check(regAuth({ nonce: plain2, qop: false }))).toBe(1);
    expect(await check(regAuth({ nonce: plain2, qop: false }))).toBe(-6);
  });

  it('auth_db refuses to start without the auth module loaded before it', async () => {
    resetInstance();
    await expect(init(authDb)).rejects.toThrow(/auth module must be loaded before auth_db/);
  });

  it('identity checks (flag 1) after the password: auth user = To user, From = To for REGISTER; flag 2 skips INVITE', async () => {
    const { nonce } = await challenge();
    // carl authenticates fine but registers bob: -8; with flag 0 it passes.
    expect(await check(regAuth({ nonce, user: 'carl', password: 'plainpw' }))).toBe(-8);
    expect(await check(regAuth({ nonce, user: 'carl', password: 'plainpw', nc: '00000002' }), 0)).toBe(1);
    // Wrong password wins over the mismatch (Kamailio checks identity only on success).
    expect(await check(regAuth({ nonce, user: 'carl', password: 'bad', nc: '00000003' }))).toBe(-2);
    // From differs from To on a REGISTER.
    expect(await check(regAuth({ nonce, nc: '00000004' }, 'alice', 'bob'))).toBe(-8);
    const p = (await challenge(invite(), 1)).nonce;
    const inv = (nc: string, from: string) => context(invite([`Proxy-Authorization: ${digest({ user: 'carl', password: 'plainpw', nonce: p, method: 'INVITE', uri: 'sip:bob@kemi.test', nc })}`], from)).ctx;
    expect(await check(inv('00000001', 'alice'))).toBe(-8);
    expect(await check(inv('00000002', 'alice'), 3)).toBe(1);
    expect(await check(inv('00000003', 'carl'))).toBe(1);
  });

  it('calculate_ha1 0 uses the stored ha1 (ha1b for user@domain usernames); 1 the password; subscriber.add stores all three', async () => {
    expect(await authDb.rpc!(db)['subscriber.add']!(['dave@kemi.test', 'd4ve'])).toBe('ok');
    const stored = JSON.parse((await state.get('subscriber', 'dave@kemi.test'))!) as Record<string, string>;
    expect(stored).toEqual({ password: 'd4ve', ha1: md5('dave:kemi.test:d4ve'), ha1b: md5('dave@kemi.test:kemi.test:d4ve') });
    const { nonce } = await challenge();
    const dave = (nc: string, user = 'dave') => regAuth({ nonce, user, password: 'd4ve', nc }, 'dave', 'dave');
    expect(await check(dave('00000001'))).toBe(1);
    expect(await check(dave('00000002', 'dave@kemi.test'))).toBe(1);
    // Only a (wrong) ha1 stored: calculate_ha1 0 uses it; 1 has no password to use.
    state.set('subscriber', 'erin@kemi.test', JSON.stringify({ ha1: md5('erin:kemi.test:right') }));
    const erin = (nc: string, password: string) => regAuth({ nonce, user: 'erin', password, nc }, 'erin', 'erin');
    expect(await check(erin('00000003', 'right'))).toBe(1);
    expect(await check(erin('00000004', 'wrong'))).toBe(-2);
    db = await init(authDb, { calculate_ha1: 1 });
    expect(await check(erin('00000005', 'right'))).toBe(1); // falls back to ha1 when there is no password
    state.set('subscriber', 'erin@kemi.test', JSON.stringify({ password: 'pw2', ha1: md5('erin:kemi.test:right') }));
    expect(await check(erin('00000006', 'pw2'))).toBe(1);
    expect(await check(erin('00000007', 'right'))).toBe(-2);
    expect(await authDb.rpc!(db)['subscriber.rm']!(['dave@kemi.test'])).toBe('ok');
    expect(await call(authDb, 'is_subscriber', context(invite()).ctx, 'sip:dave@kemi.test', 'subscriber', 0)).toBe(-1);
    expect(await call(authDb, 'is_subscriber', context(invite()).ctx, 'sip:bob@kemi.test', 'subscriber', 0)).toBe(1);
    await expect(authDb.rpc!(db)['subscriber.add']!(['nodomain', 'x'])).rejects.toThrow(/usage/);
  });
});

describe('KSR.auth.pv_auth_check', () => {
  it('password or HA1 (flag 1) from the script; checks 1 compares the From user', async () => {
    const { nonce } = await challenge(invite());
    const inv = (nc: string, pw = 'apw') => context(invite([`Proxy-Authorization: ${digest({ user: 'alice', password: pw, nonce, method: 'INVITE', uri: 'sip:bob@kemi.test', nc })}`])).ctx;
    expect(await call(auth, 'pv_auth_check', inv('00000001'), 'kemi.test', 'apw', 0, 1)).toBe(1);
    expect(await call(auth, 'pv_auth_check', inv('00000002'), 'kemi.test', md5('alice:kemi.test:apw'), 1, 1)).toBe(1);
    expect(await call(auth, 'pv_auth_check', inv('00000003', 'bad'), 'kemi.test', 'apw', 0, 1)).toBe(-2);
    expect(await call(auth, 'pv_auth_check', context(invite()).ctx, 'kemi.test', 'apw', 0, 1)).toBe(-5);
    const other = context(invite([`Proxy-Authorization: ${digest({ user: 'alice', password: 'apw', nonce, method: 'INVITE', uri: 'sip:bob@kemi.test', nc: '00000004' })}`], 'mallory')).ctx;
    expect(await call(auth, 'pv_auth_check', other, 'kemi.test', 'apw', 0, 1)).toBe(-8);
  });
});
