/**
 * KSR.permissions (src/modules/permissions, address.c / hash.c): the address table - groups of IP
 * addresses, subnets or domain names, each with a port (0: any) and an optional tag.
 *
 * Entries come from:
 * - modparam permissions "address_file": Kamailio's file format, one entry per line,
 *   `grp ip_addr [mask [port [tag]]]` ('#' starts a comment; mask 0 or absent = the whole address);
 * - the shared state, namespace `address`: one map key per group id, field `ip[/mask][:port]`
 *   (IPv6 in brackets when a port follows: `[2001:db8::]/32:5060`; a domain name works too),
 *   value JSON `{"tag":"..."}` (or empty, or a bare tag string). With Redis:
 *   `HSET kemi:address:1 192.0.2.0/24 '{}'` allows a subnet. The store is re-read on a timer
 *   (modparam state_refresh_interval, ms, default 1000), never per call.
 *
 * As Kamailio: a full-width mask goes to the address table, anything shorter to the subnet table,
 * a name that is no IP to the domain table. allow_source_address(grp) / allow_address(grp, ip,
 * port) try the address table, then the subnets (allow_address with a name: the domain table);
 * allow_source_address_group() / allow_address_group(ip, port) return the group of the first
 * match or -1. On a match the entry's tag goes to modparam peer_tag_avp (e.g. "$avp(tag)") when
 * set. subnet_match_mode 0 (default) takes the first matching subnet, 1 the longest mask.
 * RPC: permissions.addressDump, permissions.subnetDump, permissions.domainDump,
 * permissions.addressReload.
 * Not provided (fails naming itself): allow_trusted (the trusted table).
 */
import { readFileSync } from 'node:fs';
import type { MsgContext } from '../src/context/msg-context.js';
import { setPv } from '../src/pv/registry.js';
import { ipBytes } from '../src/lib/ip.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';
import { str } from './args.js';

interface Entry {
  group: number;
  /** Address bytes for IP entries, null for domain names. */
  bytes: Uint8Array | null;
  text: string;
  mask: number;
  port: number;
  tag: string | null;
}

interface Tables {
  /** Full-width addresses, newest first (Kamailio's hash buckets prepend). */
  addrs: Entry[];
  /** Subnets sorted by group (stable), as Kamailio's subnet table. */
  subnets: Entry[];
  /** Domain names, newest first. */
  domains: Entry[];
}

/** One proxy instance's address table: its modparams, entries and refresh timer. */
class PermissionsState {
  fileEntries: Entry[] = [];
  tables: Tables = { addrs: [], subnets: [], domains: [] };
  timer: NodeJS.Timeout | null = null;
  readonly tagAvp: string;
  readonly subnetMatchMode: number;

  constructor(readonly env: ModuleEnv) {
    this.tagAvp = String(env.params.peer_tag_avp ?? '');
    this.subnetMatchMode = Number(env.params.subnet_match_mode ?? 0) || 0;
  }
}

export const PERMISSIONS = new ModuleKey<PermissionsState>('permissions');

/** reload_address_insert(): null when the mask does not fit the family. */
function makeEntry(group: number, ip: string, mask: number, port: number, tag: string | null): Entry | null {
  const a = ip.replace(/^\[|\]$/g, '');
  const bytes = ipBytes(a);
  if (bytes) {
    const width = bytes.length * 8;
    if (mask < 0 || mask > width) return null;
    return { group, bytes, text: a, mask: mask === 0 ? width : mask, port, tag };
  }
  return { group, bytes: null, text: ip, mask: 0, port, tag };
}

/** reload_address_file_table(). */
function parseFile(ps: PermissionsState, path: string): Entry[] {
  const out: Entry[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const [g, ip, mask, port, tag] = line.split(/[ \t\r]+/);
    const num = (s: string | undefined): number => Number(/^\d*/.exec(s ?? '')![0] || 0);
    if (!ip) {
      ps.env.log('err', `address_file ${path}:${i + 1}: no address`);
      return;
    }
    const e = makeEntry(num(g), ip, num(mask), num(port), tag ?? null);
    if (e) out.push(e);
    else ps.env.log('err', `address_file ${path}:${i + 1}: bad mask in '${line}'`);
  });
  return out;
}

/** A state field `ip[/mask][:port]` and its value. */
function parseField(group: number, field: string, value: string): Entry | null {
  // [v6], a name or IPv4 (then /mask and :port), or a bare IPv6 address (the whole field).
  const m = /^(\[[^\]]+\]|[^/:\s]+|[0-9a-fA-F:.]+)(?:\/(\d+))?(?::(\d+))?$/.exec(field);
  if (!m) return null;
  let tag: string | null = null;
  if (value) {
    try {
      const o = JSON.parse(value) as unknown;
      if (o && typeof o === 'object' && typeof (o as { tag?: unknown }).tag === 'string') tag = (o as { tag: string }).tag;
      else if (typeof o === 'string') tag = o;
    } catch {
      tag = value;
    }
  }
  return makeEntry(group, m[1]!, Number(m[2] ?? 0), Number(m[3] ?? 0), tag);
}

function build(entries: Entry[]): Tables {
  const t: Tables = { addrs: [], subnets: [], domains: [] };
  for (const e of entries) {
    if (!e.bytes) t.domains.unshift(e);
    else if (e.mask === e.bytes.length * 8) t.addrs.unshift(e);
    else t.subnets.push(e);
  }
  t.subnets.sort((a, b) => a.group - b.group);
  return t;
}

async function refresh(ps: PermissionsState): Promise<void> {
  const st = ps.env.state;
  const fromStore: Entry[] = [];
  if (st) {
    for (const key of await st.mapKeys('address')) {
      if (!/^\d+$/.test(key)) continue;
      for (const [field, value] of Object.entries(await st.mapGetAll('address', key))) {
        const e = parseField(Number(key), field, value);
        if (e) fromStore.push(e);
        else ps.env.log('warn', `address ${key}: bad entry '${field}' skipped`);
      }
    }
  }
  ps.tables = build([...ps.fileEntries, ...fromStore]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** ip_addr_match_net(): the first `mask` bits equal. */
function inNet(ip: Uint8Array, net: Uint8Array, mask: number): boolean {
  if (ip.length !== net.length) return false;
  for (let bit = 0; bit < mask; bit += 8) {
    const n = Math.min(8, mask - bit);
    const m = (0xff << (8 - n)) & 0xff;
    if ((ip[bit >> 3]! & m) !== (net[bit >> 3]! & m)) return false;
  }
  return true;
}

const portOk = (e: Entry, port: number): boolean => e.port === 0 || e.port === port;

function setTag(ps: PermissionsState, ctx: MsgContext, e: Entry): void {
  if (ps.tagAvp && e.tag !== null) setPv(ctx, ps.tagAvp, e.tag);
}

function matchSubnet(ps: PermissionsState, ip: Uint8Array, port: number, group: number | null): Entry | null {
  let best: Entry | null = null;
  for (const e of ps.tables.subnets) {
    if (group !== null && e.group !== group) continue;
    if (!portOk(e, port) || !inNet(ip, e.bytes!, e.mask)) continue;
    if (!best || e.mask > best.mask) best = e;
    if (ps.subnetMatchMode === 0) break;
  }
  return best;
}

/** allow_address / allow_source_address: 1 or -1. */
function allow(ps: PermissionsState, ctx: MsgContext, group: number, ip: string, port: number): number {
  const b = ipBytes(ip);
  if (b) {
    const hit = ps.tables.addrs.find((e) => e.group === group && portOk(e, port) && sameBytes(e.bytes!, b));
    if (hit) {
      setTag(ps, ctx, hit);
      return 1;
    }
    const s = matchSubnet(ps, b, port, group);
    if (!s) return -1;
    setTag(ps, ctx, s);
    return 1;
  }
  const d = ps.tables.domains.find((e) => e.group === group && portOk(e, port) && e.text === ip);
  if (!d) return -1;
  setTag(ps, ctx, d);
  return 1;
}

/** allow_address_group / allow_source_address_group: the group or -1. */
function groupOf(ps: PermissionsState, ctx: MsgContext, ip: string, port: number): number {
  const b = ipBytes(ip);
  if (b) {
    const hit = ps.tables.addrs.find((e) => portOk(e, port) && sameBytes(e.bytes!, b));
    if (hit) {
      setTag(ps, ctx, hit);
      return hit.group;
    }
    const s = matchSubnet(ps, b, port, null);
    if (!s) return -1;
    setTag(ps, ctx, s);
    return s.group;
  }
  return ps.tables.domains.find((e) => portOk(e, port) && e.text === ip)?.group ?? -1;
}

function loadFile(ps: PermissionsState): void {
  const path = ps.env.params.address_file;
  ps.fileEntries = path ? parseFile(ps, String(path)) : [];
}

const dump = (list: Entry[]): unknown[] => list.map((e) => ({ GROUP: e.group, IP: e.text, MASK: e.mask, PORT: e.port, TAG: e.tag ?? '' }));

/** mod_init: this instance's table from the file and the store; the store refresh timer starts. */
async function init(e: ModuleEnv): Promise<PermissionsState> {
  const ps = new PermissionsState(e);
  loadFile(ps);
  await refresh(ps);
  const every = Number(e.params.state_refresh_interval ?? 1000) || 1000;
  ps.timer = setInterval(() => void refresh(ps).catch((err: unknown) => e.log('err', `address refresh: ${String(err)}`)), every);
  ps.timer.unref();
  return ps;
}

export default defineModule<PermissionsState>('permissions', [
  { name: 'allow_source_address', params: ['int'], ret: 'int', fn: (ctx, g) => allow(PERMISSIONS.of(ctx), ctx, Number(g), ctx.rcv.srcAddress, ctx.rcv.srcPort) },
  { name: 'allow_address', params: ['int', 'str', 'int'], ret: 'int', fn: (ctx, g, ip, port) => allow(PERMISSIONS.of(ctx), ctx, Number(g), str(ip), Number(port) || 0) },
  { name: 'allow_source_address_group', params: [], ret: 'int', fn: (ctx) => groupOf(PERMISSIONS.of(ctx), ctx, ctx.rcv.srcAddress, ctx.rcv.srcPort) },
  { name: 'allow_address_group', params: ['str', 'int'], ret: 'int', fn: (ctx, ip, port) => groupOf(PERMISSIONS.of(ctx), ctx, str(ip), Number(port) || 0) },
], {
  key: PERMISSIONS,
  init,
  close: (ps) => {
    if (ps.timer) clearInterval(ps.timer);
    ps.timer = null;
  },
  rpc: (ps) => ({
    'permissions.addressDump': () => dump(ps.tables.addrs),
    'permissions.subnetDump': () => dump(ps.tables.subnets),
    'permissions.domainDump': () => dump(ps.tables.domains),
    'permissions.addressReload': async () => {
      loadFile(ps);
      await refresh(ps);
      return 'ok';
    },
  }),
});
