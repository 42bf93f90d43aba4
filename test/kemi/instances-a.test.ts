/**
 * Two proxy instances in one process share no module state: dispatcher, permissions, pike,
 * nathelper and ndb_redis loaded twice with different modparams answer each from its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dispatcher from '../../kemi/dispatcher.js';
import permissions from '../../kemi/permissions.js';
import pike from '../../kemi/pike.js';
import nathelper from '../../kemi/nathelper.js';
import ndb from '../../kemi/ndb_redis.js';
import pv from '../../kemi/pv.js';
import type { KemiModule, ModuleEnv } from '../../kemi/types.js';
import { MsgContext, type ReceiveInfo } from '../../src/context/msg-context.js';
import type { ModuleStates } from '../../src/context/module-state.js';
import { SipMessage } from '../../src/sip/index.js';
import { call, INVITE, loadModule, newInstance, RCV, services, testEnv, type Recorded } from './helpers.js';

interface Instance {
  modules: ModuleStates;
  rec: Recorded;
  /** A message received by this instance. */
  ctx(rcv?: ReceiveInfo): MsgContext;
  env(params: Record<string, string | number>): ModuleEnv;
}

function instance(): Instance {
  const modules = newInstance();
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const svc = services(rec, modules);
  return {
    modules,
    rec,
    ctx: (rcv = RCV) => new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), rcv, svc),
    env: (params) => testEnv({ params, proxy: svc }),
  };
}

/** Closes every state loaded by a test (timers, connections). */
const closers: (() => unknown)[] = [];
async function load<S>(mod: KemiModule<S>, inst: Instance, params: Record<string, string | number>): Promise<S> {
  const st = await loadModule(mod, inst.env(params));
  closers.push(() => mod.close?.(st));
  return st;
}
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const tmpFile = (name: string, text: string): string => {
  const f = join(mkdtempSync(join(tmpdir(), 'kemi-inst-')), name);
  writeFileSync(f, text);
  return f;
};
const from = (srcAddress: string): ReceiveInfo => ({ ...RCV, srcAddress, srcPort: 5060 });

describe('module state per proxy instance', () => {
  it('dispatcher: each instance selects from its own list; states and round-robin stay apart', async () => {
    const a = instance();
    const b = instance();
    const sa = await load(dispatcher, a, { list_file: tmpFile('a.list', '1 sip:192.0.2.1:5060\n1 sip:192.0.2.2:5060\n') });
    await load(dispatcher, b, { list_file: tmpFile('b.list', '1 sip:198.51.100.1:5060\n1 sip:198.51.100.2:5060\n2 sip:198.51.100.9\n') });
    const pick = (i: Instance, alg: number): string | null => {
      const ctx = i.ctx();
      expect(call(dispatcher, 'ds_select_dst', ctx, 1, alg)).toBe(1);
      return ctx.dstUri;
    };
    // Later-listed first among equal priorities.
    expect([pick(a, 8), pick(b, 8)]).toEqual(['sip:192.0.2.2:5060', 'sip:198.51.100.2:5060']);
    expect([call(dispatcher, 'ds_list_exists', a.ctx(), 2), call(dispatcher, 'ds_list_exists', b.ctx(), 2)]).toEqual([-1, 1]);
    // Round-robin advances per instance.
    expect([pick(a, 4), pick(a, 4), pick(b, 4)]).toEqual(['sip:192.0.2.2:5060', 'sip:192.0.2.1:5060', 'sip:198.51.100.2:5060']);
    // A state set through A's RPC leaves B alone.
    dispatcher.rpc!(sa)['dispatcher.set_state']!(['i', 1, 'all']);
    expect([call(dispatcher, 'ds_is_active', a.ctx(), 1), call(dispatcher, 'ds_is_active', b.ctx(), 1)]).toEqual([-1, 1]);
  });

  it('dispatcher: an instance that did not load it fails naming the module', () => {
    expect(() => call(dispatcher, 'ds_select_dst', instance().ctx(), 1, 8)).toThrow('module dispatcher is not loaded');
  });

  it('permissions: each instance matches against its own address file and tag AVP', async () => {
    const a = instance();
    const b = instance();
    await load(permissions, a, { address_file: tmpFile('a.addr', '1 192.0.2.0 24 0 lan\n'), peer_tag_avp: '$avp(tag)' });
    await load(permissions, b, { address_file: tmpFile('b.addr', '1 203.0.113.0 24 0 wan\n') });
    const ca = a.ctx(from('192.0.2.7'));
    const cb = b.ctx(from('192.0.2.7'));
    expect([call(permissions, 'allow_source_address', ca, 1), call(permissions, 'allow_source_address', cb, 1)]).toEqual([1, -1]);
    expect(call(pv, 'get', ca, '$avp(tag)')).toBe('lan');
    const wb = b.ctx(from('203.0.113.9'));
    expect([call(permissions, 'allow_source_address_group', a.ctx(from('203.0.113.9'))), call(permissions, 'allow_source_address_group', wb)]).toEqual([-1, 1]);
    // B has no peer_tag_avp: its match sets nothing.
    expect(call(pv, 'get', wb, '$avp(tag)')).toBeNull();
  });

  it('pike: a flood blocked in one instance is not counted in the other', async () => {
    const a = instance();
    const b = instance();
    await load(pike, a, { reqs_density_per_unit: 4 });
    await load(pike, b, { reqs_density_per_unit: 4 });
    const ra = Array.from({ length: 12 }, () => call(pike, 'pike_check_req', a.ctx()));
    expect(ra).toContain(-2);
    expect(ra[ra.length - 1]).toBe(-1);
    expect(call(pike, 'pike_check_req', b.ctx())).toBe(1);
  });

  it('nathelper: nat_addr_mode and received_avp are per instance', async () => {
    const a = instance();
    const b = instance();
    await load(nathelper, a, { nat_addr_mode: 0, received_avp: '$avp(RECEIVED)' });
    await load(nathelper, b, {});
    const r = (i: Instance): unknown => call(nathelper, 'is_rfc1918', i.ctx(), '192.0.0.200');
    expect([r(a), r(b)]).toEqual([-1, 1]);
    const ca = a.ctx(from('203.0.113.50'));
    const cb = b.ctx(from('203.0.113.50'));
    expect([call(nathelper, 'fix_nated_register', ca), call(nathelper, 'fix_nated_register', cb)]).toEqual([1, 1]);
    expect(call(pv, 'get', ca, '$avp(RECEIVED)')).toBe('sip:203.0.113.50:5060');
    expect(call(pv, 'get', cb, '$avp(RECEIVED)')).toBeNull();
  });

  it('ndb_redis: each instance knows only its own servers', async () => {
    const a = instance();
    const b = instance();
    // Nothing listens on port 1: commands to a declared server fail at once, offline.
    await load(ndb, a, { server: 'name=first;addr=127.0.0.1;port=1' });
    await load(ndb, b, { server: 'name=second;addr=127.0.0.1;port=1' });
    const run = async (i: Instance, srv: string): Promise<unknown> => ndb.exports.find((e) => e.name === 'redis_cmd')!.fn(i.ctx(), srv, 'PING', 'r');
    expect(await run(a, 'second')).toBe(-1);
    expect(a.rec.logs.map((l) => l.text)).toContain("ndb_redis: no server 'second'");
    expect(await run(a, 'first')).toBe(-1);
    expect(a.rec.logs.at(-1)!.text).toMatch(/^ndb_redis first: /);
    expect(await run(b, 'first')).toBe(-1);
    expect(b.rec.logs.map((l) => l.text)).toEqual(["ndb_redis: no server 'first'"]);
  });
});
