/**
 * Per-instance state of registrar, htable, auth/auth_db, acc and kx: two instances in one process,
 * each with its own modparams, share nothing (issue 11).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import registrar from '../../kemi/registrar.js';
import htable from '../../kemi/htable.js';
import auth from '../../kemi/auth.js';
import authDb from '../../kemi/auth_db.js';
import acc from '../../kemi/acc.js';
import kx from '../../kemi/kx.js';
import { MsgContext } from '../../src/context/msg-context.js';
import type { ModuleStates } from '../../src/context/module-state.js';
import { SipMessage } from '../../src/sip/index.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { StateStore } from '../../src/state/store.js';
import { TmCallbackList } from '../../src/tm/callbacks.js';
import type { TransactionLayer } from '../../src/tm/transaction-layer.js';
import type { KemiArg, KemiModule, ModuleEnv } from '../../kemi/types.js';
import { INVITE, loadModule, newInstance, RCV, services, testEnv, type Recorded } from './helpers.js';

/** One proxy instance as a test sees it: its module states, what it sent and logged. */
class Instance {
  readonly modules: ModuleStates = newInstance();
  readonly rec: Recorded = { replies: [], forwards: [], logs: [] };

  constructor(readonly state: StateStore = new MemoryStore()) {}

  env(part: Partial<ModuleEnv> = {}): ModuleEnv {
    return testEnv({ state: this.state, proxy: services(this.rec, this.modules), ...part });
  }

  load<S>(mod: KemiModule<S>, params: ModuleEnv['params'] = {}, part: Partial<ModuleEnv> = {}): Promise<S> {
    return loadModule(mod, this.env({ params, ...part }));
  }

  ctx(text = INVITE): MsgContext {
    return new MsgContext(SipMessage.parse(Buffer.from(text, 'latin1')), RCV, services(this.rec, this.modules));
  }

  async call(mod: KemiModule<unknown>, name: string, ctx: MsgContext, ...args: KemiArg[]): Promise<unknown> {
    const e = mod.exports.find((x) => x.name === name);
    if (!e) throw new Error(`${mod.name}.${name} is not exported`);
    return e.fn(ctx, ...args);
  }
}

const register = (contact: string, extra: string[] = []): string => [
  'REGISTER sip:kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKreg', 'From: <sip:bob@kemi.test>;tag=r1',
  'To: <sip:bob@kemi.test>', 'Call-ID: reg-i', 'CSeq: 1 REGISTER', `Contact: ${contact}`, ...extra, 'Content-Length: 0', '', '',
].join('\r\n');

describe('two instances share no module state', () => {
  it('htable: each instance knows only its own tables, in the pv, the KSR functions and the RPC', async () => {
    const shared = new MemoryStore();
    const a = new Instance(shared);
    const b = new Instance(shared);
    const ha = await a.load(htable, { htable: 'only_a=>autoexpire=0;' });
    const hb = await b.load(htable, { htable: 'only_b=>initval=5;' });
    const ca = a.ctx();
    const cb = b.ctx();
    expect(await a.call(htable, 'sht_sets', ca, 'only_a', 'k', 'va')).toBe(1);
    expect(await b.call(htable, 'sht_sets', cb, 'only_a', 'k', 'vb')).toBe(-1);
    expect(b.rec.logs.at(-1)?.text).toContain("no such table 'only_a'");
    expect(await b.call(htable, 'sht_get', cb, 'only_b', 'missing')).toBe(5);
    expect(await a.call(htable, 'sht_get', ca, 'only_b', 'missing')).toBeNull();
    expect(await a.call(htable, 'sht_is_null', ca, 'only_b', 'x')).toBe(2);
    expect(htable.rpc!(ha)['htable.listTables']!([])).toEqual([expect.objectContaining({ name: 'only_a' })]);
    expect(htable.rpc!(hb)['htable.listTables']!([])).toEqual([expect.objectContaining({ name: 'only_b' })]);
    await expect(Promise.resolve(htable.rpc!(hb)['htable.get']!(['only_a', 'k']))).rejects.toThrow(/No such htable/);
    // An iterator started in one instance's message is not seen by the other's.
    expect(await a.call(htable, 'sht_iterator_start', ca, 'it', 'only_a')).toBe(1);
    expect(await b.call(htable, 'sht_iterator_next', cb, 'it')).toBe(-1);
    expect(await a.call(htable, 'sht_iterator_next', ca, 'it')).toBe(1);
  });

  it('registrar: each instance saves with its own modparams and dumps its own tables', async () => {
    const a = new Instance();
    const b = new Instance();
    const ra = await a.load(registrar, { default_expires: 600 });
    const rb = await b.load(registrar, { default_expires: 1200, max_expires: 900 });
    expect(await a.call(registrar, 'save', a.ctx(register('<sip:bob@192.0.2.10:5070>')), 'location', 0)).toBe(1);
    expect(await b.call(registrar, 'save', b.ctx(register('<sip:bob@192.0.2.11:5070>')), 'other', 0)).toBe(1);
    expect(a.rec.replies[0]!.headers).toMatch(/;expires=(599|600)\r\n$/);
    expect(b.rec.replies[0]!.headers).toMatch(/;expires=(899|900)\r\n$/);
    const tablesOf = async (rpc: ReturnType<NonNullable<typeof registrar.rpc>>) =>
      ((await rpc['ul.dump']!([])) as { Domains: { Domain: { Domain: string } }[] }).Domains.map((d) => d.Domain.Domain);
    expect(await tablesOf(registrar.rpc!(ra))).toEqual(['location']);
    expect(await tablesOf(registrar.rpc!(rb))).toEqual(['other']);
    // Each instance's store: a's lookup finds its contact, b's the other.
    const inv = (i: Instance) => i.ctx(INVITE.replace('INVITE sip:bob@kemi.test:5060;transport=udp', 'INVITE sip:bob@kemi.test'));
    const la = inv(a);
    expect(await a.call(registrar, 'lookup', la, 'location')).toBe(1);
    expect(la.msg.ruri).toBe('sip:bob@192.0.2.10:5070');
    expect(await b.call(registrar, 'lookup', inv(b), 'location')).toBe(-1);
    const lb = inv(b);
    expect(await b.call(registrar, 'lookup', lb, 'other')).toBe(1);
    expect(lb.msg.ruri).toBe('sip:bob@192.0.2.11:5070');
  });

  it('auth / auth_db: different secrets do not accept each other\'s nonces; replay protection is per instance', async () => {
    const a = new Instance();
    const b = new Instance();
    await a.load(auth, { secret: 'secret-a', nonce_count: 1 });
    await a.load(authDb);
    await b.load(auth, { secret: 'secret-b' });
    await b.load(authDb);
    for (const i of [a, b]) await i.state.set('subscriber', 'bob@kemi.test', JSON.stringify({ password: 'pw' }));
    const challenge = async (i: Instance): Promise<string> => {
      const c = i.ctx(register('<sip:bob@192.0.2.10:5070>'));
      expect(await i.call(auth, 'auth_challenge', c, 'kemi.test', 1)).toBe(1);
      return /nonce="([^"]+)"/.exec(i.rec.replies.at(-1)!.headers!)![1]!;
    };
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const answered = (i: Instance, nonce: string) => {
      const ha1 = md5('bob:kemi.test:pw');
      const resp = md5(`${ha1}:${nonce}:00000001:c0:auth:${md5('REGISTER:sip:kemi.test')}`);
      return i.ctx(register('<sip:bob@192.0.2.10:5070>', [
        `Authorization: Digest username="bob", realm="kemi.test", nonce="${nonce}", uri="sip:kemi.test", response="${resp}", cnonce="c0", qop=auth, nc=00000001`,
      ]));
    };
    const check = (i: Instance, ctx: MsgContext) => i.call(authDb, 'auth_check', ctx, 'kemi.test', 'subscriber', 1);
    const na = await challenge(a);
    const nb = await challenge(b);
    expect(await check(b, answered(b, na))).toBe(-1); // a's nonce fails b's HMAC
    expect(await check(a, answered(a, nb))).toBe(-1);
    // a counts nonces (nonce_count=1): the same nc again is a replay; b (Kamailio's default) accepts it.
    expect(await check(a, answered(a, na))).toBe(1);
    expect(await check(a, answered(a, na))).toBe(-4);
    expect(await check(b, answered(b, nb))).toBe(1);
    expect(await check(b, answered(b, nb))).toBe(1);
  });

  it('acc: each instance logs with its own log_level; closing one leaves the other accounting', async () => {
    const tm = () => ({ callbacks: new TmCallbackList() }) as unknown as TransactionLayer;
    const a = new Instance();
    const b = new Instance();
    const la = a.env({ tm: tm(), params: { log_level: 2 } });
    const lb = b.env({ tm: tm(), params: { log_level: 3 } });
    const sa = await loadModule(acc, la);
    await loadModule(acc, lb);
    expect(la.tm!.callbacks.active && lb.tm!.callbacks.active).toBe(true);
    expect(await a.call(acc, 'acc_log_request', a.ctx(), '200 OK')).toBe(1);
    expect(await b.call(acc, 'acc_log_request', b.ctx(), '200 OK')).toBe(1);
    expect([a.rec.logs.at(-1)!.level, b.rec.logs.at(-1)!.level]).toEqual(['info', 'dbg']);
    await acc.close!(sa);
    expect([la.tm!.callbacks.active, lb.tm!.callbacks.active]).toEqual([false, true]);
  });

  it('kx: each instance reads its own defines', async () => {
    const a = new Instance();
    const b = new Instance();
    await a.load(kx, {}, { defines: new Map([['WITH_AUTH', '1']]) });
    await b.load(kx, {}, { defines: new Map([['PORT', '5080']]) });
    const [ca, cb] = [a.ctx(), b.ctx()];
    expect([await a.call(kx, 'ifdef', ca, 'WITH_AUTH'), await b.call(kx, 'ifdef', cb, 'WITH_AUTH')]).toEqual([true, false]);
    expect([await a.call(kx, 'get_defn', ca, 'PORT'), await b.call(kx, 'get_defn', cb, 'PORT')]).toEqual([0, 5080]);
  });

  it('a module not loaded in an instance fails naming itself', async () => {
    const a = new Instance();
    await expect(a.call(kx, 'get_def', a.ctx(), 'X')).rejects.toThrow(/module kx is not loaded/);
  });
});
