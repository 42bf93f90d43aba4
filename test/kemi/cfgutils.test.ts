/** KSR.cfgutils: probabilities, core_hash against Kamailio's values, the lock set, sleeps that only wait the caller. */
import { describe, expect, it } from 'vitest';
import cfgutils, { type CfgutilsState } from '../../kemi/cfgutils.js';
import { MsgContext } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { coreCaseHash, coreHash } from '../../src/lib/core-hash.js';
import { PVS } from '../../src/pv/registry.js';
import { call, INVITE, newInstance, RCV, services, testEnv, type Recorded } from './helpers.js';

/** A fresh instance with cfgutils initialised with `params`; contexts of that instance. */
async function instance(params: Record<string, string | number> = {}): Promise<{ state: CfgutilsState; ctx: () => MsgContext; rec: Recorded }> {
  const modules = newInstance();
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const proxy = services(rec, modules);
  const state = await cfgutils.init!(testEnv({ params, proxy }));
  modules.set(cfgutils.key!, state);
  return { state, rec, ctx: () => new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), RCV, proxy) };
}

describe('KSR.cfgutils', () => {
  it('keeps a probability per instance: set, get, reset, events at 0 and 100', async () => {
    const { ctx } = await instance({ initial_probability: 30 });
    const c = ctx();
    expect(call(cfgutils, 'rand_get_prob', c)).toBe(30);
    expect(call(cfgutils, 'rand_set_prob', c, 100)).toBe(1);
    expect(Array.from({ length: 20 }, () => call(cfgutils, 'rand_event', c))).toEqual(Array(20).fill(1));
    call(cfgutils, 'rand_set_prob', c, 0);
    expect(Array.from({ length: 20 }, () => call(cfgutils, 'rand_event', c))).toEqual(Array(20).fill(-1));
    expect(call(cfgutils, 'rand_get_prob', c)).toBe(0);
    call(cfgutils, 'rand_set_prob', c, 50);
    const hits = Array.from({ length: 2000 }, () => call(cfgutils, 'rand_event', c)).filter((r) => r === 1).length;
    expect(hits).toBeGreaterThan(850);
    expect(hits).toBeLessThan(1150);
    expect(call(cfgutils, 'rand_reset_prob', c)).toBe(1);
    expect(call(cfgutils, 'rand_get_prob', c)).toBe(30);
    await expect(instance({ initial_probability: 101 })).rejects.toThrow('invalid probability');
  });

  it('core_hash gives Kamailio 5.6.3 values (taken from KSR.cfgutils.core_hash on Kamailio)', async () => {
    const { ctx } = await instance();
    const c = ctx();
    // Printed by KSR.cfgutils.core_hash on Kamailio 5.6.3 for the same arguments (bytes > 0x7f included).
    expect(call(cfgutils, 'core_hash', c, 'alice', '', 4)).toBe(14);
    expect(call(cfgutils, 'core_hash', c, 'bob@example.org', 'x', 8)).toBe(231);
    expect(call(cfgutils, 'core_hash', c, '', '', 0)).toBe(1);
    expect(call(cfgutils, 'core_hash', c, '\xe9t\xe9', '', 10)).toBe(642);
    expect(call(cfgutils, 'core_hash', c, 'abcdefghijklmnopq\xc8\xff', 'Zz', 20)).toBe(740875);
    // Case folding only in core_case_hash.
    expect(coreCaseHash(Buffer.from('ABCdefG'), null, 0)).toBe(coreCaseHash(Buffer.from('abcdefg'), null, 0));
    expect(coreHash(Buffer.from('ABCdefG'), null, 0)).not.toBe(coreHash(Buffer.from('abcdefg'), null, 0));
  });

  it('without lock_set_size the lock functions fail and log, as in Kamailio', async () => {
    const { ctx, rec } = await instance();
    expect(call(cfgutils, 'lock', ctx(), 'k')).toBe(-1);
    expect(rec.logs[0]?.text).toContain('lock set not initialized');
  });

  it('lock waits for the holder to unlock, trylock does not wait, waiters get the slot in order', async () => {
    const { ctx } = await instance({ lock_set_size: 4 });
    const a = ctx();
    const b = ctx();
    const c = ctx();
    const lock = cfgutils.exports.find((e) => e.name === 'lock')!;
    expect(lock.fn(a, 'key1')).toBe(1);
    expect(call(cfgutils, 'trylock', b, 'key1')).toBe(-1);
    const order: string[] = [];
    const pb = lock.fn(b, 'key1') as Promise<number>;
    const pc = lock.fn(c, 'key1') as Promise<number>;
    expect(pb).toBeInstanceOf(Promise);
    void pb.then(() => order.push('b'));
    void pc.then(() => order.push('c'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    expect(call(cfgutils, 'unlock', a, 'key1')).toBe(1);
    await pb;
    expect(order).toEqual(['b']);
    call(cfgutils, 'unlock', b, 'key1');
    await pc;
    expect(order).toEqual(['b', 'c']);
    call(cfgutils, 'unlock', c, 'key1');
    expect(call(cfgutils, 'trylock', a, 'key1')).toBe(1);
    // The same message locking again would deadlock in Kamailio: here an error.
    expect(lock.fn(a, 'key1')).toBe(-1);
  });

  it('sleep and usleep return a Promise: only the caller waits', async () => {
    const { ctx } = await instance();
    const usleep = cfgutils.exports.find((e) => e.name === 'usleep')!;
    const t0 = Date.now();
    const p = usleep.fn(ctx(), 30_000);
    expect(p).toBeInstanceOf(Promise);
    expect(Date.now() - t0).toBeLessThan(10);
    expect(await p).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('$RANDOM is registered and in range; no native routes exist', async () => {
    const { ctx } = await instance();
    const c = ctx();
    const pvs = c.proxy.modules.get(PVS);
    const v = pvs.parse('$RANDOM').handler.get(c, '', null);
    expect(typeof v).toBe('number');
    expect(v as number).toBeGreaterThanOrEqual(0);
    expect(v as number).toBeLessThanOrEqual(0x7fffffff);
    expect(call(cfgutils, 'check_route_exists', c, 'x')).toBe(-1);
    expect(call(cfgutils, 'route_if_exists', c, 'x')).toBe(-1);
  });
});
