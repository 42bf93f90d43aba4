/** KSR.permissions: the address table from Kamailio's address file format and from the shared state. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import permissions, { PERMISSIONS } from '../../kemi/permissions.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { ReceiveInfo } from '../../src/context/msg-context.js';
import { call, context, INVITE, loadModule, services, testEnv } from './helpers.js';

const from = (srcAddress: string, srcPort: number): ReceiveInfo => ({ proto: 'udp', srcAddress, srcPort, localAddress: '127.0.0.1', localPort: 5060, family: srcAddress.includes(':') ? 6 : 4 });
let state: MemoryStore;
let file: string;
/** The state the last init() loaded (its RPC methods are that instance's). */
let loaded: typeof PERMISSIONS.stateType | undefined;

async function init(params: Record<string, string | number> = {}): Promise<void> {
  if (loaded) await permissions.close!(loaded);
  loaded = await loadModule(permissions, testEnv({ params: { address_file: file, peer_tag_avp: '$avp(tag)', ...params }, allParams: {}, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
}

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-perm-'));
  file = join(dir, 'address.list');
  writeFileSync(file, [
    '# grp ip_addr mask port tag',
    '1 192.0.2.0 24 0 lan',
    '2 203.0.113.50 32 40000',
    '2 203.0.113.0 24',
    '5 198.51.100.7',
    '6 gw.example.com 0 5060 named',
    '',
  ].join('\n'));
  state = new MemoryStore();
  await state.mapSet('address', '3', '[2001:db8::]/32:5060', JSON.stringify({ tag: 'v6' }));
  await init();
});
afterEach(async () => {
  if (loaded) await permissions.close!(loaded);
  loaded = undefined;
  await state.close();
});

describe('KSR.permissions', () => {
  it('allow_source_address: exact entries, subnets, ports (0 = any), tag to peer_tag_avp', () => {
    const { ctx } = context(); // from 192.0.2.10:5070
    expect([call(permissions, 'allow_source_address', ctx, 1), call(permissions, 'allow_source_address', ctx, 2)]).toEqual([1, -1]);
    expect(call(pv, 'get', ctx, '$avp(tag)')).toBe('lan');
    const n = context(INVITE, from('203.0.113.50', 40000)).ctx;
    expect(call(permissions, 'allow_source_address', n, 2)).toBe(1);
    const other = context(INVITE, from('203.0.113.51', 1234)).ctx;
    expect(call(permissions, 'allow_source_address', other, 2)).toBe(1); // the /24 subnet
    const wrongPort = context(INVITE, from('198.51.100.7', 1)).ctx;
    expect(call(permissions, 'allow_source_address', wrongPort, 5)).toBe(1);
    expect(call(permissions, 'allow_source_address', wrongPort, 1)).toBe(-1);
  });

  it('allow_address and the group lookups (first match, -1 when none)', () => {
    const { ctx } = context();
    expect([
      call(permissions, 'allow_address', ctx, 2, '203.0.113.50', 40000),
      call(permissions, 'allow_address', ctx, 2, '203.0.113.50', 40001), // still in 203.0.113.0/24
      call(permissions, 'allow_address', ctx, 2, '198.51.100.1', 0),
      call(permissions, 'allow_address', ctx, 3, '2001:db8::9', 5060),
      call(permissions, 'allow_address', ctx, 3, '2001:db8::9', 5061),
      call(permissions, 'allow_address', ctx, 6, 'gw.example.com', 5060),
      call(permissions, 'allow_address', ctx, 6, 'gw.example.com', 5070),
    ]).toEqual([1, 1, -1, 1, -1, 1, -1]);
    expect([
      call(permissions, 'allow_address_group', ctx, '203.0.113.50', 40000),
      call(permissions, 'allow_address_group', ctx, '2001:db8::9', 5060),
      call(permissions, 'allow_address_group', ctx, 'gw.example.com', 5060),
      call(permissions, 'allow_address_group', ctx, '8.8.8.8', 0),
    ]).toEqual([2, 3, 6, -1]);
    expect(call(permissions, 'allow_source_address_group', ctx)).toBe(1);
    expect(call(permissions, 'allow_source_address_group', context(INVITE, from('8.8.4.4', 53)).ctx)).toBe(-1);
  });

  it('subnet_match_mode 1 picks the longest mask', async () => {
    writeFileSync(file, '7 10.0.0.0 8 0 wide\n8 10.1.0.0 16 0 narrow\n');
    await init();
    const c = context(INVITE, from('10.1.2.3', 5060)).ctx;
    expect(call(permissions, 'allow_source_address_group', c)).toBe(7);
    await init({ subnet_match_mode: 1 });
    const d = context(INVITE, from('10.1.2.3', 5060)).ctx;
    expect(call(permissions, 'allow_source_address_group', d)).toBe(8);
    expect(call(pv, 'get', d, '$avp(tag)')).toBe('narrow');
  });

  it('sees entries added to the state within the refresh interval, without a reload', async () => {
    await init({ state_refresh_interval: 30 });
    const c = context(INVITE, from('192.0.2.200', 5060)).ctx;
    expect(call(permissions, 'allow_source_address', c, 9)).toBe(-1);
    await state.mapSet('address', '9', '192.0.2.200:5060', '');
    await state.mapSet('address', '9', 'bogus/99', '');
    await new Promise((r) => setTimeout(r, 100));
    expect(call(permissions, 'allow_source_address', c, 9)).toBe(1);
    const dump = permissions.rpc!(loaded!)['permissions.addressDump']!([]) as { GROUP: number; IP: string; PORT: number }[];
    expect(dump).toContainEqual(expect.objectContaining({ GROUP: 9, IP: '192.0.2.200', PORT: 5060 }));
    const subnets = permissions.rpc!(loaded!)['permissions.subnetDump']!([]) as { GROUP: number; MASK: number }[];
    expect(subnets.map((s) => s.GROUP)).toEqual([1, 2, 3]);
  });
});
