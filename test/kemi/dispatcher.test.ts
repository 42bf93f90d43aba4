/** KSR.dispatcher against parsed messages: sets from a list file and from the state, algorithms, failover, marks. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dispatcher from '../../kemi/dispatcher.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { KemiArg } from '../../kemi/types.js';
import type { MsgContext } from '../../src/core/context.js';
import { call as sync, context, INVITE, services } from './helpers.js';

const d = (ctx: MsgContext, n: string, ...a: KemiArg[]) => sync(dispatcher, n, ctx, ...a);
let state: MemoryStore;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-ds-unit-'));
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, '1 sip:192.0.2.1:5060 0 10\n1 sip:192.0.2.2:5060 0 20 weight=0\n1 sip:192.0.2.3:5070;transport=tcp 0 5\n# comment\n2 sip:198.51.100.9 0 0\n');
  state = new MemoryStore();
  await state.mapSet('ds', '3', 'sip:203.0.113.7:5080', JSON.stringify({ priority: 1 }));
  await dispatcher.init!({ params: { list_file: list }, allParams: {}, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined });
});

describe('KSR.dispatcher', () => {
  it('selects by priority (8) and fails over through $xavp(_dsdst_) with ds_next_dst', () => {
    const { ctx } = context();
    expect(d(ctx, 'ds_select_dst', 1, 8)).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.2:5060');
    expect(sync(pv, 'get', ctx, '$xavp(_dsdst_=>uri)')).toBe('sip:192.0.2.2:5060');
    expect(d(ctx, 'ds_next_dst')).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.1:5060');
    expect(d(ctx, 'ds_next_dst')).toBe(1);
    expect(ctx.dstUri).toBe('sip:192.0.2.3:5070;transport=tcp');
    expect(d(ctx, 'ds_next_dst')).toBe(-1);
    const lim = context().ctx;
    expect(d(lim, 'ds_select_dst_limit', 1, 8, 2)).toBe(1);
    expect(d(lim, 'ds_next_dst')).toBe(1);
    expect(d(lim, 'ds_next_dst')).toBe(-1);
  });

  it('round-robins (4), hashes the Call-ID (0) stably, and rewrites the R-URI host with ds_select_domain', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { ctx } = context();
      d(ctx, 'ds_select_dst', 1, 4);
      seen.add(ctx.dstUri!);
    }
    expect(seen.size).toBe(3);
    const a = context().ctx;
    const b = context().ctx;
    d(a, 'ds_select_dst', 1, 0);
    d(b, 'ds_select_dst', 1, 0);
    expect(a.dstUri).toBe(b.dstUri);
    const c = context().ctx;
    expect(d(c, 'ds_select_domain', 2, 8)).toBe(1);
    expect(c.msg.ruri).toBe('sip:bob@198.51.100.9;transport=udp');
    expect(d(c, 'ds_select_dst', 9, 0)).toBe(-1);
    expect(d(c, 'ds_select_dst', 1, 13)).toBe(-1);
  });

  it('reads sets from the state; marks destinations; answers list/active/from-list checks', () => {
    const { ctx } = context();
    expect([d(ctx, 'ds_list_exists', 3), d(ctx, 'ds_list_exists', 4), d(ctx, 'ds_is_active', 3)]).toEqual([1, -1, 1]);
    expect(d(ctx, 'ds_select_dst', 3, 0)).toBe(1);
    expect(ctx.dstUri).toBe('sip:203.0.113.7:5080');
    expect(d(ctx, 'ds_mark_dst_state', 'ip')).toBe(1);
    expect([d(ctx, 'ds_is_active', 3), d(ctx, 'ds_is_active_uri', 3, 'sip:203.0.113.7:5080')]).toEqual([-1, -1]);
    expect(d(context().ctx, 'ds_select_dst', 3, 0)).toBe(-1);
    const list = dispatcher.rpc!['dispatcher.list']!([]) as { RECORDS: { SET: { ID: number; TARGETS: { DEST: { FLAGS: string } }[] } }[] };
    expect(list.RECORDS.find((r) => r.SET.ID === 3)!.SET.TARGETS[0]!.DEST.FLAGS).toBe('IP');
    dispatcher.rpc!['dispatcher.set_state']!(['a', 3, 'sip:203.0.113.7:5080']);
    expect(d(ctx, 'ds_is_active', 3)).toBe(1);
    // The request in helpers comes from 192.0.2.10:5070.
    const from = context(INVITE, { proto: 'udp', srcAddress: '192.0.2.1', srcPort: 5060, localAddress: '127.0.0.1', localPort: 5060, family: 4 }).ctx;
    expect([d(from, 'ds_is_from_list', 1), d(from, 'ds_is_from_list', 2), d(from, 'ds_is_from_lists')]).toEqual([1, -1, 1]);
    const other = context(INVITE, { proto: 'udp', srcAddress: '192.0.2.1', srcPort: 6000, localAddress: '127.0.0.1', localPort: 5060, family: 4 }).ctx;
    expect([d(other, 'ds_is_from_list', 1), d(other, 'ds_is_from_list_mode', 1, 1)]).toEqual([-1, 1]);
    expect([d(other, 'ds_is_from_list_uri', 1, 0, 'sip:192.0.2.3:5070;transport=tcp'), d(other, 'ds_is_from_list_uri', 1, 0, 'sip:192.0.2.9')]).toEqual([1, -1]);
  });
});
