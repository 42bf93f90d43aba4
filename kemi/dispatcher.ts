/**
 * KSR.dispatcher (src/modules/dispatcher): destination sets, selection algorithms, failover and
 * OPTIONS probing.
 *
 * Sets come from modparam dispatcher "list_file" (Kamailio's dispatcher.list lines:
 * `setid destination [flags [priority [attrs]]]`) and from the shared state, namespace `ds`: one
 * map key per set id, field = destination URI, value = JSON {"flags":0,"priority":0,"attrs":""}
 * (or empty). With Redis: `HSET kemi:ds:1 sip:10.0.0.5:5060 '{"priority":5}'` adds a destination,
 * seen within ds_reload_interval (1 s) without a reload. Destination states (active, inactive,
 * probing, disabled) are kept per process, as Kamailio keeps them per instance.
 *
 * Algorithms: 0 hash Call-ID, 1 hash From URI, 2 hash To URI, 3 hash R-URI, 4 round-robin,
 * 5 hash auth username, 6 random, 8 priority order, 9 weight (attrs `weight=N`). The candidates
 * after the selected one are kept in $xavp(_dsdst_) for ds_next_dst / ds_next_domain.
 * modparams (Kamailio's names and defaults): list_file, ds_ping_interval 0 (no probing),
 * ds_probing_mode 0 (probe only destinations in probing state; 1 all), ds_ping_method OPTIONS,
 * ds_ping_from sip:dispatcher@localhost, ds_probing_threshold 1, ds_inactive_threshold 1,
 * ds_ping_reply_codes ("class=2;code=404" style; 2xx always counts).
 * Not provided (fail naming themselves): ds_select_routes*, ds_load_update / ds_load_unset
 * (call-load algorithm 10), and algorithms 7 and 10 to 15 (ds_select* then return -1 and log).
 */
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { MsgContext, PvValue } from '../src/core/context.js';
import { parseUri, formatUri } from '../src/sip/index.js';
import { getPv } from '../src/pv/registry.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

const INACTIVE = 1;
const TRYING = 2;
const DISABLED = 4;
const PROBING = 8;

interface Dest {
  set: number;
  uri: string;
  /** flags from the list (probing flag 8 means: always probe this one). */
  listFlags: number;
  priority: number;
  attrs: string;
  weight: number;
  host: string;
  port: number;
  proto: string | null;
  /** Resolved addresses of host (an IP host is its own). */
  addrs: string[];
  state: number;
  failures: number;
  successes: number;
}

interface Settings {
  listFile: string;
  pingInterval: number;
  probingMode: number;
  pingMethod: string;
  pingFrom: string;
  probingThreshold: number;
  inactiveThreshold: number;
  replyCodes: { classes: number[]; codes: number[] };
  reloadMs: number;
}

let settings: Settings;
let env: ModuleEnv | null = null;
/** Destinations by set, in list order then by priority (higher first). */
let sets = new Map<number, Dest[]>();
const rr = new Map<number, number>();
let timers: NodeJS.Timeout[] = [];

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

function parseReplyCodes(s: string): { classes: number[]; codes: number[] } {
  const out = { classes: [] as number[], codes: [] as number[] };
  for (const part of s.split(';')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    if (k === 'class' && v) out.classes.push(Number(v));
    else if (k === 'code' && v) out.codes.push(Number(v));
  }
  return out;
}

function makeDest(set: number, uri: string, flags: number, priority: number, attrs: string, old?: Dest): Dest | null {
  let u;
  try {
    u = parseUri(uri);
  } catch {
    env?.log('warn', `set ${set}: bad destination '${uri}' skipped`);
    return null;
  }
  const weight = Number(/(?:^|;)weight=(\d+)/.exec(attrs)?.[1] ?? 0);
  const host = u.host.replace(/^\[|\]$/g, '');
  return {
    set, uri, listFlags: flags, priority, attrs, weight, host,
    port: u.port ?? (u.scheme === 'sips' ? 5061 : 5060),
    proto: u.params.get('transport')?.toLowerCase() ?? null,
    addrs: old?.addrs ?? (isIP(host) ? [host] : []),
    state: old?.state ?? (flags & (INACTIVE | DISABLED | PROBING)),
    failures: old?.failures ?? 0, successes: old?.successes ?? 0,
  };
}

function parseListFile(path: string): { set: number; uri: string; flags: number; priority: number; attrs: string }[] {
  const out: { set: number; uri: string; flags: number; priority: number; attrs: string }[] = [];
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [set, uri, flags, priority, ...attrs] = line.split(/\s+/);
    if (!set || !uri || !/^\d+$/.test(set)) continue;
    out.push({ set: Number(set), uri, flags: Number(flags ?? 0) || 0, priority: Number(priority ?? 0) || 0, attrs: attrs.join(' ') });
  }
  return out;
}

/** Re-reads the list file and the store; keeps the state of destinations that stay. */
async function reload(): Promise<void> {
  const entries = settings.listFile ? parseListFile(settings.listFile) : [];
  const st = env?.state;
  if (st) {
    for (const key of await st.mapKeys('ds')) {
      if (!/^\d+$/.test(key)) continue;
      for (const [uri, v] of Object.entries(await st.mapGetAll('ds', key))) {
        let o: { flags?: number; priority?: number; attrs?: string } = {};
        try {
          o = v ? (JSON.parse(v) as typeof o) : {};
        } catch {
          o = {};
        }
        entries.push({ set: Number(key), uri, flags: o.flags ?? 0, priority: o.priority ?? 0, attrs: o.attrs ?? '' });
      }
    }
  }
  const next = new Map<number, Dest[]>();
  for (const e of entries) {
    const old = sets.get(e.set)?.find((d) => d.uri === e.uri);
    const d = makeDest(e.set, e.uri, e.flags, e.priority, e.attrs, old);
    if (!d) continue;
    let list = next.get(e.set);
    if (!list) next.set(e.set, (list = []));
    if (!list.some((x) => x.uri === d.uri)) list.push(d);
  }
  for (const list of next.values()) list.sort((a, b) => b.priority - a.priority);
  sets = next;
  for (const list of next.values()) {
    for (const d of list) {
      if (d.addrs.length === 0) {
        lookup(d.host, { all: true }).then((r) => (d.addrs = r.map((x) => x.address)), () => undefined);
      }
    }
  }
}

const usable = (d: Dest): boolean => (d.state & (INACTIVE | DISABLED)) === 0;

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function hashSource(ctx: MsgContext, alg: number): string | null {
  const m = ctx.msg;
  try {
    switch (alg) {
      case 0: return m.callId;
      case 1: return m.from.uri.replace(/^sips?:/, '').split(/[;?>]/)[0]!;
      case 2: return m.to.uri.replace(/^sips?:/, '').split(/[;?>]/)[0]!;
      case 3: return m.isRequest ? m.ruri.replace(/^sips?:/, '').split(/[;?>]/)[0]! : null;
      case 5: {
        let au: PvValue | null = null;
        try {
          au = getPv(ctx, '$au');
        } catch {
          au = null;
        }
        return au !== null ? String(au) : m.from.uri;
      }
      default: return null;
    }
  } catch {
    return null;
  }
}

/** Index of the selected destination among the usable ones, or -1. */
function pick(ctx: MsgContext, set: number, list: Dest[], alg: number): number {
  const n = list.length;
  switch (alg) {
    case 0: case 1: case 2: case 3: case 5: {
      const s = hashSource(ctx, alg);
      return s === null ? -1 : hash(s) % n;
    }
    case 4: {
      const i = (rr.get(set) ?? -1) + 1;
      rr.set(set, i % n);
      return i % n;
    }
    case 6: return Math.floor(Math.random() * n);
    case 8: return 0;
    case 9: {
      const total = list.reduce((a, d) => a + d.weight, 0);
      if (total <= 0) return 0;
      let r = Math.random() * total;
      for (let i = 0; i < n; i++) {
        r -= list[i]!.weight;
        if (r < 0) return i;
      }
      return n - 1;
    }
    default:
      ctx.proxy.log(ctx, 'err', `dispatcher: algorithm ${alg} is not supported`);
      return -1;
  }
}

type Mode = 'dst' | 'domain' | 'none';

function apply(ctx: MsgContext, uri: string, mode: Mode): void {
  if (mode === 'dst') {
    ctx.dstUri = uri;
    ctx.markRuriNew();
  } else if (mode === 'domain' && ctx.msg.isRequest) {
    const r = parseUri(ctx.msg.ruri);
    const d = parseUri(uri);
    ctx.msg.ruri = formatUri({ ...r, host: d.host, port: d.port });
  }
}

function select(ctx: MsgContext, set: number, alg: number, limit: number, mode: Mode): number {
  const all = sets.get(set);
  if (!all) return -1;
  const list = all.filter(usable);
  if (list.length === 0) return -1;
  const i = pick(ctx, set, list, alg);
  if (i < 0) return -1;
  const order = [list[i]!, ...list.slice(i + 1), ...list.slice(0, i)];
  const cands = limit > 0 ? order.slice(0, limit) : order;
  ctx.xavps.set('_dsdst_', cands.map((d) => new Map<string, PvValue[]>([['grp', [d.set]], ['uri', [d.uri]], ['priority', [d.priority]], ['attrs', [d.attrs]]])));
  apply(ctx, cands[0]!.uri, mode);
  return 1;
}

function current(ctx: MsgContext): string | null {
  const head = ctx.xavps.get('_dsdst_')?.[0];
  const u = head?.get('uri')?.[0];
  return typeof u === 'string' ? u : null;
}

function next(ctx: MsgContext, mode: Mode): number {
  const list = ctx.xavps.get('_dsdst_');
  if (!list || list.length < 2) {
    if (list) list.length = 0;
    return -1;
  }
  list.shift();
  const u = list[0]!.get('uri')?.[0];
  if (typeof u !== 'string') return -1;
  apply(ctx, u, mode);
  return 1;
}

function setState(d: Dest, letters: string): void {
  const l = letters.toLowerCase();
  let s = 0;
  if (l.includes('i')) s |= INACTIVE;
  if (l.includes('t')) s |= TRYING;
  if (l.includes('d')) s |= DISABLED;
  if (l.includes('p')) s |= PROBING;
  d.state = s;
  d.failures = 0;
  d.successes = 0;
}

function findDest(uri: string, set?: number): Dest[] {
  const out: Dest[] = [];
  for (const [id, list] of sets) {
    if (set !== undefined && set !== -1 && id !== set) continue;
    for (const d of list) if (d.uri === uri) out.push(d);
  }
  return out;
}

function markDst(ctx: MsgContext, letters: string): number {
  const uri = current(ctx) ?? ctx.dstUri;
  if (!uri) return -1;
  const ds = findDest(uri);
  if (ds.length === 0) return -1;
  for (const d of ds) setState(d, letters);
  return 1;
}

const NOPORT = 1;
const NOPROTO = 2;
const ACTIVE_ONLY = 4;

function fromList(ctx: MsgContext, group: number, mode: number, addr: string, port: number, proto: string | null): number {
  for (const [id, list] of sets) {
    if (group !== -1 && id !== group) continue;
    for (const d of list) {
      if ((mode & ACTIVE_ONLY) && !usable(d)) continue;
      if (!d.addrs.includes(addr) && d.host !== addr) continue;
      if (!(mode & NOPORT) && d.port !== port) continue;
      if (!(mode & NOPROTO) && d.proto && proto && d.proto !== proto) continue;
      return 1;
    }
  }
  return -1;
}

// ---- probing ------------------------------------------------------------------------------------

function replyOk(code: number): boolean {
  if (code >= 200 && code < 300) return true;
  return settings.replyCodes.codes.includes(code) || settings.replyCodes.classes.includes(Math.floor(code / 100));
}

async function probe(d: Dest): Promise<void> {
  const uac = env?.proxy.uac;
  if (!uac) return;
  const code = await uac.request(settings.pingMethod, d.uri, settings.pingFrom, Math.min(settings.pingInterval * 1000, 8000));
  if (replyOk(code)) {
    d.failures = 0;
    d.successes++;
    if ((d.state & (INACTIVE | TRYING)) && d.successes >= settings.inactiveThreshold) {
      d.state &= ~(INACTIVE | TRYING);
      if (settings.probingMode !== 1 && !(d.listFlags & PROBING)) d.state &= ~PROBING;
      env?.log('info', `destination ${d.uri} (set ${d.set}) is active again`);
    }
  } else {
    d.successes = 0;
    d.failures++;
    if (!(d.state & INACTIVE) && d.failures >= settings.probingThreshold) {
      d.state |= INACTIVE | PROBING;
      env?.log('warn', `destination ${d.uri} (set ${d.set}) is inactive: probe got ${code}`);
    } else if (!(d.state & INACTIVE)) d.state |= TRYING;
  }
}

function probeRound(): void {
  for (const list of sets.values()) {
    for (const d of list) {
      if (d.state & DISABLED) continue;
      if (settings.probingMode === 1 || (d.state & PROBING) || (d.listFlags & PROBING)) void probe(d);
    }
  }
}

// ---- module -------------------------------------------------------------------------------------

function stateLetters(d: Dest): string {
  const a = d.state & DISABLED ? 'D' : d.state & INACTIVE ? 'I' : d.state & TRYING ? 'T' : 'A';
  return a + (d.state & PROBING ? 'P' : 'X');
}

async function init(e: ModuleEnv): Promise<void> {
  env = e;
  const p = e.params;
  settings = {
    listFile: String(p.list_file ?? ''),
    pingInterval: Number(p.ds_ping_interval ?? 0) || 0,
    probingMode: Number(p.ds_probing_mode ?? 0) || 0,
    pingMethod: String(p.ds_ping_method ?? 'OPTIONS'),
    pingFrom: String(p.ds_ping_from ?? 'sip:dispatcher@localhost'),
    probingThreshold: Number(p.ds_probing_threshold ?? 1) || 1,
    inactiveThreshold: Number(p.ds_inactive_threshold ?? 1) || 1,
    replyCodes: parseReplyCodes(String(p.ds_ping_reply_codes ?? '')),
    reloadMs: (Number(p.ds_reload_interval ?? 1) || 1) * 1000,
  };
  sets = new Map();
  rr.clear();
  await reload();
  for (const t of timers) clearInterval(t);
  timers = [setInterval(() => void reload().catch((err: unknown) => e.log('err', `reload: ${String(err)}`)), settings.reloadMs)];
  if (settings.pingInterval > 0) timers.push(setInterval(probeRound, settings.pingInterval * 1000));
  for (const t of timers) t.unref();
}

export default defineModule('dispatcher', [
  { name: 'ds_select_dst', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(ctx, Number(s), Number(a), 0, 'dst') },
  { name: 'ds_select_dst_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(ctx, Number(s), Number(a), Number(l), 'dst') },
  { name: 'ds_select_domain', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(ctx, Number(s), Number(a), 0, 'domain') },
  { name: 'ds_select_domain_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(ctx, Number(s), Number(a), Number(l), 'domain') },
  { name: 'ds_select', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(ctx, Number(s), Number(a), 0, 'none') },
  { name: 'ds_select_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(ctx, Number(s), Number(a), Number(l), 'none') },
  { name: 'ds_next_dst', params: [], ret: 'int', fn: (ctx) => next(ctx, 'dst') },
  { name: 'ds_next_domain', params: [], ret: 'int', fn: (ctx) => next(ctx, 'domain') },
  { name: 'ds_set_dst', params: [], ret: 'int', fn: (ctx) => { const u = current(ctx); if (!u) return -1; apply(ctx, u, 'dst'); return 1; } },
  { name: 'ds_set_domain', params: [], ret: 'int', fn: (ctx) => { const u = current(ctx); if (!u) return -1; apply(ctx, u, 'domain'); return 1; } },
  { name: 'ds_mark_dst', params: [], ret: 'int', fn: (ctx) => markDst(ctx, settings.pingInterval > 0 ? 'ip' : 'i') },
  { name: 'ds_mark_dst_state', params: ['str'], ret: 'int', fn: (ctx, s) => markDst(ctx, str(s)) },
  { name: 'ds_is_from_lists', params: [], ret: 'int', fn: (ctx) => fromList(ctx, -1, 0, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list', params: ['int'], ret: 'int', fn: (ctx, g) => fromList(ctx, Number(g), 0, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list_mode', params: ['int', 'int'], ret: 'int', fn: (ctx, g, m) => fromList(ctx, Number(g), Number(m), ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list_uri', params: ['int', 'int', 'str'], ret: 'int', fn: (ctx, g, m, uri) => {
    let u;
    try {
      u = parseUri(str(uri));
    } catch {
      return -1;
    }
    return fromList(ctx, Number(g), Number(m), u.host.replace(/^\[|\]$/g, ''), u.port ?? 5060, u.params.get('transport') ?? null);
  } },
  { name: 'ds_reload', params: [], ret: 'int', fn: () => reload().then(() => 1, () => -1) },
  { name: 'ds_list_exists', params: ['int'], ret: 'int', fn: (_c, s) => (sets.has(Number(s)) ? 1 : -1) },
  { name: 'ds_is_active', params: ['int'], ret: 'int', fn: (_c, s) => (sets.get(Number(s))?.some(usable) ? 1 : -1) },
  { name: 'ds_is_active_uri', params: ['int', 'str'], ret: 'int', fn: (_c, s, u) => (findDest(str(u), Number(s)).some(usable) ? 1 : -1) },
], {
  init,
  close: () => {
    for (const t of timers) clearInterval(t);
    timers = [];
  },
  rpc: {
    'dispatcher.list': () => ({
      NRSETS: sets.size,
      RECORDS: [...sets].map(([id, list]) => ({
        SET: { ID: id, TARGETS: list.map((d) => ({ DEST: { URI: d.uri, FLAGS: stateLetters(d), PRIORITY: d.priority, ATTRS: { BODY: d.attrs, WEIGHT: d.weight } } })) },
      })),
    }),
    'dispatcher.reload': async () => {
      await reload();
      return 'ok';
    },
    'dispatcher.set_state': (p) => {
      const [state, group, address] = [String(p[0] ?? ''), Number(p[1]), String(p[2] ?? '')];
      const ds = findDest(address, group);
      if (ds.length === 0) throw new Error('destination not found');
      for (const d of ds) setState(d, state);
      return 'ok';
    },
  },
});
