/**
 * KSR.dispatcher against parsed messages: Kamailio's list order and hash, algorithms, failover
 * through $xavp(_dsdst_), marks, from-list checks, sets from the shared state, probing states.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dispatcher, { DISPATCHER, dsHash } from '../../kemi/dispatcher.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { KemiArg, UacService } from '../../kemi/types.js';
import type { MsgContext, ProxyServices, ReceiveInfo } from '../../src/context/msg-context.js';
import { call as sync, context, INVITE, loadModule, services, testEnv } from './helpers.js';

const d = (ctx: MsgContext, n: string, ...a: KemiArg[]) => sync(dispatcher, n, ctx, ...a);
const xuri = (ctx: MsgContext): unknown => sync(pv, 'get', ctx, '$xavp(_dsdst_=>uri)');
type Listing = { NRSETS: number; RECORDS: { SET: { ID: number; TARGETS: { DEST: { URI: string; FLAGS: string; PRIORITY: number } }[] } }[] };
/** The state the last init() loaded; its RPC methods are that instance's. */
let loaded: typeof DISPATCHER.stateType | undefined;
const rpc = (name: string, params: unknown[] = []): unknown => dispatcher.rpc!(loaded!)[name]!(params);
const listing = (): Listing => rpc('dispatcher.list') as Listing;
const targets = (set: number): { URI: string; FLAGS: string }[] => listing().RECORDS.find((r) => r.SET.ID === set)!.SET.TARGETS.map((t) => t.DEST);
const flagsOf = (set: number, uri: string): string | undefined => targets(set).find((t) => t.URI === uri)?.FLAGS;

const LIST = [
  '# setid destination flags priority attrs',
  '1 sip:192.0.2.1:5060 0 10',
  '1 sip:192.0.2.2:5060 0 20 weight=0',
  '1 sip:192.0.2.3:5070;transport=tcp 0 5',
  '2 sip:198.51.100.9 0 0',
  '4 sip:203.0.113.1:5060 0 0',
  '4 sip:203.0.113.2:5060 0 0',
  '4 sip:203.0.113.3:5060 0 0',
  '',
].join('\n');

let state: MemoryStore;
let list: string;

async function init(params: Record<string, string | number>, uac?: UacService): Promise<void> {
  if (loaded) await dispatcher.close!(loaded);
  loaded = await loadModule(dispatcher, testEnv({ params: { list_file: list, ...params }, allParams: {}, state, uac, log: () => undefined }));
}

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-ds-unit-'));
  list = join(dir, 'dispatcher.list');
  writeFileSync(list, LIST);
  state = new MemoryStore();
  await state.mapSet('ds', '3', 'sip:203.0.113.7:5080', JSON.stringify({ priority: 1 }));
  await init({ flags: 2 });
});
afterEach(async () => {
  if (loaded) await dispatcher.close!(loaded);
  loaded = undefined;
  await state.close();
  vi.useRealTimers();
});

describe('KSR.dispatcher', () => {
  it('hashes as Kamailio ds_get_hash (values from the C function)', () => {
    expect(dsHash('call-1@192.0.2.10')).toBe(28165466);
    expect(dsHash('abc')).toBe(7167810);
    expect(dsHash('a84b4c76e66710@pc33.atlanta.com')).toBe(2175018094);
    expect(dsHash('\xe9t\xe9-caf\xe9\xff')).toBe(1131767443);
    expect(dsHash('')).toBe(1);
    expect(dsHash('alice', 'example.org:5070')).toBe(3956436524);
    expect(dsHash('', 'example.org')).toBe(3904916772);
  });

  it('orders sets as Kamailio: higher priority first, later-listed first among equals', () => {
    expect(targets(1).map((t) => t.URI)).toEqual(['sip:192.0.2.2:5060', 'sip:192.0.2.1:5060', 'sip:192.0.2.3:5070;transport=tcp']);
    expect(targets(4).map((t) => t.URI)).toEqual(['sip:203.0.113.3:5060', 'sip:203.0.113.2:5060', 'sip:203.0.113.1:5060']);
    expect(listing().NRSETS).toBe(4);
  });

  it('selects first (8) and fails over through $xavp(_dsdst_) with ds_next_dst; limit bounds the list', () => {
    const { ctx } = context();
    expect(d(ctx, 'ds_select_dst', 1, 8)).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.2:5060');
    expect(xuri(ctx)).toBe('sip:192.0.2.2:5060');
    expect(sync(pv, 'get', ctx, '$xavp(_dsdst_=>grp)')).toBe(1);
    expect(sync(pv, 'get', ctx, '$xavp(_dsctx_=>cnt)')).toBe(3);
    expect(d(ctx, 'ds_next_dst')).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.1:5060');
    expect(d(ctx, 'ds_next_dst')).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.3:5070;transport=tcp');
    expect(d(ctx, 'ds_next_dst')).toBe(-1);
    const lim = context().ctx;
    expect(d(lim, 'ds_select_dst_limit', 1, 8, 2)).toBe(1);
    expect(d(lim, 'ds_next_dst')).toBe(1);
    expect(d(lim, 'ds_next_dst')).toBe(-1);
    // ds_select fills the list only; ds_set_dst then uses its head.
    const only = context().ctx;
    expect(d(only, 'ds_select', 4, 8)).toBe(1);
    expect(only.dstUri).toBeNull();
    expect(d(only, 'ds_set_dst')).toBe(1);
    expect(only.dstUri).toBe('sip:203.0.113.3:5060');
  });

  it('hashes the Call-ID (0) modulo the whole set and skips an inactive pick to the next', () => {
    const { ctx } = context();
    const idx = dsHash('call-1@192.0.2.10') % 3;
    const order = targets(4).map((t) => t.URI);
    expect(d(ctx, 'ds_select_dst', 4, 0)).toBe(1);
    expect(ctx.dstUri).toBe(order[idx]);
    rpc('dispatcher.set_state', ['ip', 4, order[idx]]);
    const again = context().ctx;
    expect(d(again, 'ds_select_dst', 4, 0)).toBe(1);
    expect(again.dstUri).toBe(order[(idx + 1) % 3]);
    // The failover list leaves the inactive one out: after it, then before it.
    const rest = again.xavps.get('_dsdst_')!.map((i) => i.get('uri')![0]);
    expect(rest).toEqual([order[(idx + 1) % 3], order[(idx + 2) % 3]]);
    // From URI (1): user@host, port 5060 left out.
    const f = context().ctx;
    expect(d(f, 'ds_select_dst', 4, 1)).toBe(1);
    expect(f.dstUri).toBe(order[dsHash('alice', 'example.org') % 3 === idx ? (idx + 1) % 3 : dsHash('alice', 'example.org') % 3]);
  });

  it('round-robins (4) past inactive destinations', () => {
    const order = targets(4).map((t) => t.URI);
    const pick = (): string => {
      const { ctx } = context();
      expect(d(ctx, 'ds_select_dst', 4, 4)).toBe(1);
      return ctx.dstUri!;
    };
    expect([pick(), pick(), pick(), pick()]).toEqual([order[0], order[1], order[2], order[0]]);
    rpc('dispatcher.set_state', ['i', 4, order[1]]);
    expect([pick(), pick(), pick()]).toEqual([order[2], order[0], order[2]]);
  });

  it('rewrites the R-URI host part with ds_select_domain and refuses unknown sets and algorithms', () => {
    const { ctx, rec } = context();
    expect(d(ctx, 'ds_select_domain', 2, 8)).toBe(1);
    expect(ctx.msg.ruri).toBe('sip:bob@198.51.100.9');
    expect(ctx.dstUri).toBeNull();
    expect(d(ctx, 'ds_select_dst', 9, 0)).toBe(-1);
    expect(d(ctx, 'ds_select_dst', 1, 13)).toBe(-1);
    expect(rec.logs.some((l) => l.text.includes('algorithm 13'))).toBe(true);
  });

  it('keeps no failover list without flags & 2', async () => {
    await init({});
    const { ctx } = context();
    expect(d(ctx, 'ds_select_dst', 1, 8)).toBe(1);
    expect(ctx.xavps.has('_dsdst_')).toBe(false);
    expect(d(ctx, 'ds_next_dst')).toBe(-1);
    expect(d(ctx, 'ds_mark_dst')).toBe(-1);
  });

  it('marks the current destination; answers list/active checks; set_state over RPC', () => {
    const { ctx } = context();
    expect([d(ctx, 'ds_list_exists', 3), d(ctx, 'ds_list_exists', 5), d(ctx, 'ds_is_active', 3)]).toEqual([1, -1, 1]);
    expect(d(ctx, 'ds_select_dst', 3, 0)).toBe(1);
    expect(ctx.dstUri).toBe('sip:203.0.113.7:5080');
    expect(d(ctx, 'ds_mark_dst_state', 'ip')).toBe(1);
    expect(flagsOf(3, 'sip:203.0.113.7:5080')).toBe('IP');
    expect([d(ctx, 'ds_is_active', 3), d(ctx, 'ds_is_active_uri', 3, 'sip:203.0.113.7:5080')]).toEqual([-1, -1]);
    expect(d(context().ctx, 'ds_select_dst', 3, 0)).toBe(-1);
    expect(d(ctx, 'ds_mark_dst_state', 'x')).toBe(-1);
    rpc('dispatcher.set_state', ['a', 3, 'sip:203.0.113.7:5080']);
    expect(d(ctx, 'ds_is_active', 3)).toBe(1);
    expect(d(ctx, 'ds_mark_dst')).toBe(1);
    expect(flagsOf(3, 'sip:203.0.113.7:5080')).toBe('IX');
    rpc('dispatcher.set_state', ['d', 1, 'all']);
    expect(targets(1).map((t) => t.FLAGS)).toEqual(['DX', 'DX', 'DX']);
    expect(() => rpc('dispatcher.set_state', ['a', 1, 'sip:nowhere'])).toThrow();
  });

  it('matches sources with ds_is_from_list (port 0 = any, proto, active) and URIs', async () => {
    const rcv = (srcAddress: string, srcPort: number, proto: ReceiveInfo['proto'] = 'udp'): ReceiveInfo => ({ proto, srcAddress, srcPort, localAddress: '127.0.0.1', localPort: 5060, family: 4 });
    const from = context(INVITE, rcv('192.0.2.1', 5060)).ctx;
    expect([d(from, 'ds_is_from_list', 1), d(from, 'ds_is_from_list', 2), d(from, 'ds_is_from_lists')]).toEqual([1, -1, 1]);
    const other = context(INVITE, rcv('192.0.2.1', 6000)).ctx;
    expect([d(other, 'ds_is_from_list', 1), d(other, 'ds_is_from_list_mode', 1, 1)]).toEqual([-1, 1]);
    // No port in the list: any port; proto must match unless mode & 2.
    const anyPort = context(INVITE, rcv('198.51.100.9', 40000, 'tcp')).ctx;
    expect([d(anyPort, 'ds_is_from_list', 2), d(anyPort, 'ds_is_from_list_mode', 2, 0), d(anyPort, 'ds_is_from_list_mode', 2, 2)]).toEqual([1, -1, 1]);
    expect([d(other, 'ds_is_from_list_uri', 1, 0, 'sip:192.0.2.3:5070;transport=tcp'), d(other, 'ds_is_from_list_uri', 1, 0, 'sip:192.0.2.3:5070'), d(other, 'ds_is_from_list_uri', 1, 0, 'sip:192.0.2.9')]).toEqual([1, -1, -1]);
    rpc('dispatcher.set_state', ['i', 1, 'sip:192.0.2.1:5060']);
    expect([d(from, 'ds_is_from_list_mode', 1, 0), d(from, 'ds_is_from_list_mode', 1, 4)]).toEqual([1, -1]);
    // setid_pvname is set on a match over all groups.
    await init({ flags: 2, setid_pvname: '$avp(dsid)' });
    const s = context(INVITE, rcv('203.0.113.2', 5060)).ctx;
    expect(d(s, 'ds_is_from_lists')).toBe(1);
    expect(sync(pv, 'get', s, '$avp(dsid)')).toBe(4);
  });

  it('sees destinations added to the state without a reload; states survive the refresh', async () => {
    await init({ flags: 2, state_refresh_interval: 30 });
    rpc('dispatcher.set_state', ['ip', 1, 'sip:192.0.2.1:5060']);
    await state.mapSet('ds', '3', 'sip:203.0.113.8:5080', JSON.stringify({ priority: 9, attrs: 'weight=10' }));
    await state.mapSet('ds', '7', 'sip:203.0.113.9', '');
    const { ctx } = context();
    expect(d(ctx, 'ds_list_exists', 7)).toBe(-1);
    await new Promise((r) => setTimeout(r, 100));
    expect(d(ctx, 'ds_list_exists', 7)).toBe(1);
    expect(targets(3).map((t) => t.URI)).toEqual(['sip:203.0.113.8:5080', 'sip:203.0.113.7:5080']);
    expect(flagsOf(1, 'sip:192.0.2.1:5060')).toBe('IP');
    expect(d(ctx, 'ds_select_dst', 3, 8)).toBe(1);
    expect(sync(pv, 'get', ctx, '$xavp(_dsdst_=>attrs)')).toBe('weight=10');
    // A reload starts from the listed flags again.
    await rpc('dispatcher.reload');
    expect(flagsOf(1, 'sip:192.0.2.1:5060')).toBe('AX');
  });

  it('probes with OPTIONS and moves states as Kamailio (mode 1: all; thresholds)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const answers = new Map<string, number>([['sip:203.0.113.1:5060', 408]]);
    const sent: { method: string; uri: string; from: string; timeout?: number }[] = [];
    const uac: UacService = { request: async (method, uri, from, timeout) => (sent.push({ method, uri, from, timeout }), answers.get(uri) ?? 200) };
    await init({ flags: 2, ds_ping_interval: 5, ds_probing_mode: 1, ds_probing_threshold: 2, ds_ping_from: 'sip:ping@kemi.test' }, uac);
    const round = async (): Promise<void> => {
      vi.advanceTimersByTime(5000);
      await new Promise((r) => setImmediate(r));
    };
    await round();
    expect(sent.length).toBe(8);
    expect(sent[0]).toMatchObject({ method: 'OPTIONS', from: 'sip:ping@kemi.test', timeout: 5000 });
    expect(flagsOf(4, 'sip:203.0.113.1:5060')).toBe('TP');
    expect(flagsOf(4, 'sip:203.0.113.2:5060')).toBe('AP');
    await round();
    expect(flagsOf(4, 'sip:203.0.113.1:5060')).toBe('IP');
    const { ctx } = context();
    expect(d(ctx, 'ds_is_active_uri', 4, 'sip:203.0.113.1:5060')).toBe(-1);
    answers.set('sip:203.0.113.1:5060', 200);
    await round();
    expect(flagsOf(4, 'sip:203.0.113.1:5060')).toBe('AP');
    // Disabled destinations are not probed.
    rpc('dispatcher.set_state', ['d', 4, 'sip:203.0.113.3:5060']);
    sent.length = 0;
    await round();
    expect(sent.map((s) => s.uri)).not.toContain('sip:203.0.113.3:5060');
  });

  it('probes only flagged destinations in mode 0; ds_ping_reply_codes count as replies', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    writeFileSync(list, '1 sip:192.0.2.1:5060 8 0\n1 sip:192.0.2.2:5060 0 0\n');
    const sent: string[] = [];
    const uac: UacService = { request: async (_m, uri) => (sent.push(uri), 404) };
    await init({ flags: 2, ds_ping_interval: 1, ds_ping_reply_codes: 'code=404' }, uac);
    vi.advanceTimersByTime(1000);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual(['sip:192.0.2.1:5060']);
    // A good reply in mode 0 clears the probing flag: no more probes.
    expect(flagsOf(1, 'sip:192.0.2.1:5060')).toBe('AX');
  });
});
