/**
 * KSR.permissions (src/modules/permissions): the address table - groups of IP addresses or
 * subnets, each with an optional port (0: any) and tag.
 *
 * Entries come from modparam permissions "address_file" (one per line:
 * `group ip[/mask] [port [tag]]`, like the columns of Kamailio's address table) and from the
 * shared state, namespace `address`: one map key per group, field = `ip[/mask][:port]` (IPv6 in
 * brackets), value = the tag (may be empty). With Redis:
 * `HSET kemi:address:1 192.0.2.0/24 ""` allows a subnet, seen within 1 s without a reload.
 * Not provided (fails naming itself): allow_trusted (the trusted table).
 */
import { readFileSync } from 'node:fs';
import type { MsgContext } from '../src/core/context.js';
import { inCidr, ipBits } from '../src/net/ip.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

interface Entry {
  group: number;
  net: string;
  mask: number | undefined;
  port: number;
  tag: string;
}

let entries: Entry[] = [];
let fileEntries: Entry[] = [];
let env: ModuleEnv | null = null;
let timer: NodeJS.Timeout | null = null;

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

function parseAddr(group: number, spec: string, port: number, tag: string): Entry | null {
  const m = /^\[?([^\]/]+)\]?(?:\/(\d+))?$/.exec(spec.trim());
  if (!m || !ipBits(m[1]!)) return null;
  return { group, net: m[1]!, mask: m[2] !== undefined ? Number(m[2]) : undefined, port, tag };
}

function loadFile(path: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [g, addr, port, ...tag] = line.split(/\s+/);
    const e = parseAddr(Number(g), addr ?? '', Number(port ?? 0) || 0, tag.join(' '));
    if (e && /^\d+$/.test(g ?? '')) out.push(e);
    else env?.log('warn', `address_file: bad line '${line}'`);
  }
  return out;
}

async function refresh(): Promise<void> {
  const st = env?.state;
  const fromStore: Entry[] = [];
  if (st) {
    for (const key of await st.mapKeys('address')) {
      if (!/^\d+$/.test(key)) continue;
      for (const [field, tag] of Object.entries(await st.mapGetAll('address', key))) {
        const m = /^(\[[^\]]+\](?:\/\d+)?|[^:]+(?:\/\d+)?)(?::(\d+))?$/.exec(field);
        const e = m ? parseAddr(Number(key), m[1]!, Number(m[2] ?? 0), tag) : null;
        if (e) fromStore.push(e);
      }
    }
  }
  entries = [...fileEntries, ...fromStore];
}

/** The first group whose entries match ip (and port), or -1. */
function groupOf(ip: string, port: number, group?: number): number {
  for (const e of entries) {
    if (group !== undefined && e.group !== group) continue;
    if (e.port !== 0 && e.port !== port) continue;
    if (inCidr(ip, e.net, e.mask)) return e.group;
  }
  return -1;
}

const allow = (ctx: MsgContext, group: number, ip: string, port: number): number => (groupOf(ip, port, group) >= 0 ? 1 : -1);

export default defineModule('permissions', [
  { name: 'allow_source_address', params: ['int'], ret: 'int', fn: (ctx, g) => allow(ctx, Number(g), ctx.rcv.srcAddress, ctx.rcv.srcPort) },
  { name: 'allow_address', params: ['int', 'str', 'int'], ret: 'int', fn: (ctx, g, ip, port) => allow(ctx, Number(g), str(ip), Number(port) || 0) },
  { name: 'allow_source_address_group', params: [], ret: 'int', fn: (ctx) => groupOf(ctx.rcv.srcAddress, ctx.rcv.srcPort) },
  { name: 'allow_address_group', params: ['str', 'int'], ret: 'int', fn: (_c, ip, port) => groupOf(str(ip), Number(port) || 0) },
], {
  init: async (e) => {
    env = e;
    fileEntries = e.params.address_file ? loadFile(String(e.params.address_file)) : [];
    await refresh();
    if (timer) clearInterval(timer);
    timer = setInterval(() => void refresh().catch((err: unknown) => e.log('err', `address refresh: ${String(err)}`)), 1000);
    timer.unref();
  },
  close: () => {
    if (timer) clearInterval(timer);
    timer = null;
  },
  rpc: {
    'permissions.addressDump': () => entries.map((e) => ({ GROUP: e.group, IP: e.net, MASK: e.mask ?? (e.net.includes(':') ? 128 : 32), PORT: e.port, TAG: e.tag })),
    'permissions.addressReload': async () => {
      if (env?.params.address_file) fileEntries = loadFile(String(env.params.address_file));
      await refresh();
      return 'ok';
    },
  },
});
