/**
 * KSR.dispatcher (src/modules/dispatcher): destination sets, selection algorithms, failover and
 * OPTIONS probing, with Kamailio's semantics (dispatch.c / dispatcher.c).
 *
 * Sets come from modparam "list_file" (Kamailio's dispatcher.list: `setid destination [flags
 * [priority [attrs]]]`, '#' comments) and from the shared state, namespace `ds`: one map key per
 * set id, field = destination URI, value = JSON `{"flags":0,"priority":0,"attrs":"weight=50"}`
 * (any member optional, the value may be empty). With Redis:
 * `HSET kemi:ds:1 sip:10.0.0.5:5060 '{"priority":5}'` adds a destination. The store is re-read
 * on a timer (modparam state_refresh_interval, ms, default 1000), never on the call path; a
 * destination that stays keeps its state, a new one starts with its flags.
 * dispatcher.reload / ds_reload re-read both and reset every state to the listed flags (as
 * Kamailio builds a new list).
 *
 * In a set, destinations are ordered as Kamailio orders them: higher priority first, and among
 * equal priorities the later-listed first. States are kept per proxy instance (DispatcherState), as per Kamailio instance.
 *
 * Algorithms: 0 hash Call-ID, 1 hash From URI, 2 hash To URI, 3 hash R-URI (user@host[:port],
 * port left out when 5060, or 5061 for sips; user only with flags & 1), 4 round-robin, 5 hash of
 * the auth username (Proxy-Authorization, else Authorization; round-robin without one),
 * 6 random, 7 hash of modparam hash_pvar expanded, 8 first (priority order), 12 parallel, 9 weight (attrs `weight=N`, Kamailio's 100-slot shuffled
 * table). The hash is Kamailio's ds_get_hash, taken modulo the whole set; an inactive or
 * disabled pick moves to the next usable one. With modparam flags & 2 (failover, as Kamailio:
 * off by default) the selected destination and the usable ones after it, then before it, go to
 * $xavp(_dsdst_) (fields uri, grp, dstidx, attrs) for ds_next_dst / ds_next_domain / ds_mark_dst,
 * and $xavp(_dsctx_=>cnt) counts them.
 *
 * modparams (Kamailio's names and defaults): list_file, flags (0), force_dst (1), use_default (0),
 * ds_ping_interval (0: no probing), ds_probing_mode (0 flagged, 1 all, 2 flagged inactive,
 * 3 only flagged), ds_ping_method (OPTIONS), ds_ping_from (sip:dispatcher@localhost; attrs
 * ping_from overrides), ds_ping_fr_timer / ds_ping_fr_timeout (in tm timer ticks of 1/16 s, as
 * Kamailio hands it to tm unconverted; default tm's fr_timer, 5000 ms), ds_probing_threshold
 * (1), ds_inactive_threshold (1), ds_ping_reply_codes ("class=2;code=404"; 2xx always count),
 * setid_pvname, attrs_pvname. Probes are sent by the proxy's local UAC (src/core/local-uac.ts)
 * from its own socket; their replies are taken in KemiProxy.onReply before any script runs.
 *
 * Not provided (fail naming themselves): ds_select_routes / ds_select_routes_limit,
 * ds_load_update / ds_load_unset (call-load algorithm 10). Algorithms 10, 11, 13, 14, 15 and 64
 * are not implemented: ds_select* then log and return -1 rather than silently using entry 0.
 * 7 hashes the expanded modparam hash_pvar; 12 (parallel) makes every destination after the
 * picked one a branch.
 */
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import { parseUri } from '../src/sip/index.js';
import { expandFormat, setPv } from '../src/pv/registry.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';
import { str } from './args.js';

/* Destination flags / states (dispatch.h). */
const INACTIVE = 1;
const TRYING = 2;
const DISABLED = 4;
const PROBING = 8;
const NODNSARES = 16;
const NOPING = 32;
const STATES_ALL = 63;

/* modparam flags */
const HASH_USER_ONLY = 1;
const FAILOVER_ON = 2;

/* ds_probing_mode */
const PROBE_NONE = 0;
const PROBE_ALL = 1;
const PROBE_INACTIVE = 2;
const PROBE_ONLYFLAGGED = 3;

/* ds_is_from_list modes */
const MATCH_NOPORT = 1;
const MATCH_NOPROTO = 2;
const MATCH_ACTIVE = 4;

interface Dest {
  set: number;
  uri: string;
  /** Listed flags and runtime states together, as Kamailio's dp->flags. */
  flags: number;
  priority: number;
  attrs: string;
  weight: number;
  pingFrom: string | null;
  host: string;
  /** 0 when the URI has no port (then any port matches in ds_is_from_list). */
  port: number;
  /** udp for IP hosts without transport; udp/tcp for names with a port; null: decided by DNS. */
  proto: string | null;
  /** Resolved address (an IP host is its own); all of them kept for ds_dns_match_all. */
  addrs: string[];
  probingCount: number;
}

interface DsSet {
  id: number;
  dlist: Dest[];
  /** Round-robin position. */
  last: number;
  /** Weight table (100 slots) and its cursor. */
  wlist: number[];
  wlast: number;
}

interface Listed {
  set: number;
  uri: string;
  flags: number;
  priority: number;
  attrs: string;
}

interface Settings {
  listFile: string;
  flags: number;
  forceDst: number;
  useDefault: number;
  pingInterval: number;
  probingMode: number;
  pingMethod: string;
  pingFrom: string;
  pingTimeoutMs: number;
  probingThreshold: number;
  inactiveThreshold: number;
  replyCodes: { classes: number[]; codes: number[] };
  refreshMs: number;
  setidPv: string;
  attrsPv: string;
  dnsMatchAll: boolean;
  /** Algorithm 7's input: a format string with PVs (modparam hash_pvar). */
  hashPvar: string;
}

/** One proxy instance's dispatcher: its modparams, destination sets and timers. */
class DispatcherState {
  sets = new Map<number, DsSet>();
  /** The list file's entries as last read (the store's are re-read on each refresh). */
  fileListed: Listed[] = [];
  /** The listed entries the sets were last built from, to rebuild only on a change. */
  signature = '';
  timers: NodeJS.Timeout[] = [];

  constructor(readonly env: ModuleEnv, readonly settings: Settings) {}
}

export const DISPATCHER = new ModuleKey<DispatcherState>('dispatcher');

function defaults(p: Readonly<Record<string, string | number>>, tm: Readonly<Record<string, string | number>> = {}): Settings {
  const num = (k: string, d: number): number => (p[k] === undefined || p[k] === '' || Number.isNaN(Number(p[k])) ? d : Number(p[k]));
  const fr = num('ds_ping_fr_timeout', num('ds_ping_fr_timer', 0));
  return {
    listFile: String(p.list_file ?? ''),
    flags: num('flags', 0),
    forceDst: num('force_dst', 1),
    useDefault: num('use_default', 0),
    pingInterval: num('ds_ping_interval', 0),
    probingMode: num('ds_probing_mode', PROBE_NONE),
    pingMethod: String(p.ds_ping_method ?? 'OPTIONS'),
    pingFrom: String(p.ds_ping_from ?? 'sip:dispatcher@localhost'),
    // uac_r.fr_timeout is taken by tm as timer ticks (TIMER_TICKS_HZ 16), not milliseconds.
    pingTimeoutMs: fr > 0 ? Math.round((fr * 1000) / 16) : Number(tm.fr_timer ?? 5000) || 5000,
    probingThreshold: num('ds_probing_threshold', 1),
    inactiveThreshold: num('ds_inactive_threshold', 1),
    replyCodes: parseReplyCodes(String(p.ds_ping_reply_codes ?? '')),
    refreshMs: num('state_refresh_interval', 1000) || 1000,
    setidPv: String(p.setid_pvname ?? ''),
    attrsPv: String(p.attrs_pvname ?? ''),
    dnsMatchAll: num('ds_dns_match_all', 0) !== 0,
    hashPvar: String(p.hash_pvar ?? ''),
  };
}

function parseReplyCodes(s: string): { classes: number[]; codes: number[] } {
  const out = { classes: [] as number[], codes: [] as number[] };
  for (const part of s.split(';')) {
    const [k, v] = part.split('=').map((x) => x.trim().toLowerCase());
    const n = Number(v);
    if (k === 'code' && n >= 100 && n < 700) out.codes.push(n);
    else if (k === 'class' && n >= 1 && n < 7) out.classes.push(n);
  }
  return out;
}

// ---- loading ------------------------------------------------------------------------------------

function attr(attrs: string, name: string): string | null {
  for (const p of attrs.split(';')) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === name) return p.slice(eq + 1).trim();
  }
  return null;
}

/** pack_dest(): null (logged) when the URI is unusable. */
function packDest(ds: DispatcherState, l: Listed): Dest | null {
  let u;
  try {
    u = parseUri(l.uri);
  } catch {
    ds.env.log('err', `set ${l.set}: bad destination URI '${l.uri}' skipped`);
    return null;
  }
  if (u.scheme === 'tel') {
    ds.env.log('err', `set ${l.set}: bad destination URI '${l.uri}' skipped`);
    return null;
  }
  const host = u.host.replace(/^\[|\]$/g, '');
  const transport = u.params.get('transport')?.toLowerCase() ?? null;
  let proto = transport;
  if (!proto) proto = isIP(host) ? 'udp' : u.port ? (u.scheme === 'sip' ? 'udp' : 'tcp') : null;
  const attrs = l.attrs.endsWith(';') ? l.attrs.slice(0, -1) : l.attrs;
  return {
    set: l.set, uri: l.uri, flags: l.flags, priority: l.priority, attrs,
    weight: Number(attr(attrs, 'weight') ?? 0) || 0,
    pingFrom: attr(attrs, 'ping_from'),
    host, port: u.port ?? 0, proto,
    addrs: isIP(host) ? [host] : [],
    probingCount: 0,
  };
}

function parseListFile(ds: DispatcherState, path: string): Listed[] {
  const out: Listed[] = [];
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const [set, uri, flags, priority, ...rest] = line.split(/[ \t]+/);
    if (!set || !uri || !/^-?\d+$/.test(set)) {
      ds.env.log('err', `list_file: bad line '${line}'`);
      continue;
    }
    out.push({ set: Number(set), uri, flags: Number(flags ?? 0) || 0, priority: Number(priority ?? 0) || 0, attrs: rest.join(' ').trim() });
  }
  return out;
}

async function readStore(ds: DispatcherState): Promise<Listed[]> {
  const out: Listed[] = [];
  const st = ds.env.state;
  if (!st) return out;
  for (const key of await st.mapKeys('ds')) {
    if (!/^-?\d+$/.test(key)) continue;
    for (const [uri, v] of Object.entries(await st.mapGetAll('ds', key))) {
      let o: { flags?: unknown; priority?: unknown; attrs?: unknown } = {};
      try {
        o = v ? (JSON.parse(v) as typeof o) : {};
      } catch {
        ds.env.log('warn', `ds ${key}: bad value for '${uri}' (JSON expected), defaults used`);
      }
      out.push({ set: Number(key), uri, flags: Number(o.flags ?? 0) || 0, priority: Number(o.priority ?? 0) || 0, attrs: typeof o.attrs === 'string' ? o.attrs : '' });
    }
  }
  return out;
}

/** dp_init_weights(): 100 slots by weight percentage, the rest to the last one, shuffled. */
function initWeights(s: DsSet): void {
  s.wlist = new Array<number>(100).fill(0);
  s.wlast = 0;
  if (s.dlist.length === 0 || s.dlist[0]!.weight === 0) return;
  let t = 0;
  outer: for (let j = 0; j < s.dlist.length; j++) {
    for (let k = 0; k < s.dlist[j]!.weight; k++) {
      if (t >= 100) break outer;
      s.wlist[t++] = j;
    }
  }
  for (; t < 100; t++) s.wlist[t] = s.dlist.length - 1;
  for (let i = 99; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [s.wlist[i], s.wlist[j]] = [s.wlist[j]!, s.wlist[i]!];
  }
}

/**
 * Builds the sets from listed entries (add_dest2list + reindex_dests ordering). keepState: a
 * destination already known (same set and URI) keeps its state, counters and addresses.
 */
function build(ds: DispatcherState, listed: Listed[], keepState: boolean): Map<number, DsSet> {
  const next = new Map<number, DsSet>();
  const ordered = new Map<number, Dest[]>();
  for (const l of listed) {
    const d = packDest(ds, l);
    if (!d) continue;
    let list = ordered.get(l.set);
    if (!list) ordered.set(l.set, (list = []));
    // Ascending priority, later equal ones after: the array is then read backwards.
    let i = 0;
    while (i < list.length && list[i]!.priority <= d.priority) i++;
    list.splice(i, 0, d);
  }
  for (const [id, list] of ordered) {
    const dlist = list.reverse();
    const old = ds.sets.get(id);
    if (keepState && old) {
      for (const d of dlist) {
        const o = old.dlist.find((x) => x.uri === d.uri);
        if (!o) continue;
        d.flags = (d.flags & ~STATES_ALL) | (o.flags & STATES_ALL);
        d.probingCount = o.probingCount;
        if (d.host === o.host && o.addrs.length) d.addrs = o.addrs;
      }
    }
    const s: DsSet = { id, dlist, last: keepState && old ? old.last % dlist.length : 0, wlist: [], wlast: 0 };
    initWeights(s);
    if (keepState && old && old.wlist.length && sameWeights(old, s)) {
      s.wlist = old.wlist;
      s.wlast = old.wlast;
    }
    next.set(id, s);
  }
  return next;
}

function sameWeights(a: DsSet, b: DsSet): boolean {
  return a.dlist.length === b.dlist.length && a.dlist.every((d, i) => d.weight === b.dlist[i]!.weight);
}

function resolveNames(ds: DispatcherState): void {
  for (const s of ds.sets.values()) {
    for (const d of s.dlist) {
      if (d.addrs.length || d.flags & NODNSARES) continue;
      lookup(d.host, { all: true }).then(
        (r) => (d.addrs = ds.settings.dnsMatchAll ? r.map((x) => x.address) : r.slice(0, 1).map((x) => x.address)),
        () => ds.env.log('warn', `could not resolve ${d.host} (set ${d.set})`),
      );
    }
  }
}

function sig(listed: Listed[]): string {
  return JSON.stringify(listed);
}

/** Full reload: list file and store, every state reset to the listed flags. */
async function reload(ds: DispatcherState): Promise<void> {
  ds.fileListed = ds.settings.listFile ? parseListFile(ds, ds.settings.listFile) : [];
  const listed = [...ds.fileListed, ...(await readStore(ds))];
  ds.sets = build(ds, listed, false);
  ds.signature = sig(listed);
  resolveNames(ds);
}

/** Periodic store refresh: rebuilds only when the listed entries changed; states stay. */
async function refresh(ds: DispatcherState): Promise<void> {
  const listed = [...ds.fileListed, ...(await readStore(ds))];
  const s = sig(listed);
  if (s === ds.signature) return;
  ds.sets = build(ds, listed, true);
  ds.signature = s;
  resolveNames(ds);
}

// ---- hashing ------------------------------------------------------------------------------------

/** ds_get_hash(): Kamailio's hash over one or two strings (bytes as signed chars, as in C). */
export function dsHash(x: string | null, y: string | null = null): number {
  if (x === null && y === null) return 0;
  let h = 0;
  const add = (s: string): void => {
    const b = Buffer.from(s, 'latin1');
    const c = (i: number): number => (b[i]! << 24) >> 24;
    let p = 0;
    if (b.length >= 4) {
      for (; p <= b.length - 4; p += 4) {
        const v = ((c(p) << 24) + (c(p + 1) << 16) + (c(p + 2) << 8) + c(p + 3)) >>> 0;
        h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
      }
    }
    let v = 0;
    for (; p < b.length; p++) v = ((v << 8) + c(p)) >>> 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  };
  if (x !== null) add(x);
  if (y !== null) add(y);
  h = (((h + (h >>> 11)) >>> 0) + ((h >>> 13) + (h >>> 23))) >>> 0;
  return h === 0 ? 1 : h;
}

/** get_uri_hash_keys(): user, and host[:port] (port only when not the scheme default). */
function uriHash(ds: DispatcherState, uri: string): number | null {
  let u;
  try {
    u = parseUri(uri.trim());
  } catch {
    return null;
  }
  if (u.scheme === 'tel' || !u.host) return null;
  const key1 = u.user ?? '';
  let key2: string | null = null;
  if (!(ds.settings.flags & HASH_USER_ONLY)) {
    key2 = u.host;
    if (u.port !== undefined && u.port !== (u.scheme === 'sips' ? 5061 : 5060)) {
      // The port text as written after the host.
      const m = new RegExp(`${u.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(u.raw);
      key2 += `:${m ? m[1] : String(u.port)}`;
    }
  }
  return dsHash(key1, key2);
}

/** ds_hash_authusername(): 0 hashed, 1 no credentials. */
function authUserHash(ctx: MsgContext): { rc: 0 | 1; hash: number } {
  for (const name of ['proxy-authorization', 'authorization']) {
    const v = ctx.msg.header(name);
    if (!v) continue;
    const m = /(?:^|[\s,])username\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(v.replace(/^\s*digest\s+/i, ' '));
    if (!m) continue;
    let user = (m[1] ?? m[2] ?? '').trim();
    const at = user.indexOf('@');
    if (at >= 0) user = user.slice(0, at);
    if (!user) return { rc: 1, hash: 0 };
    return { rc: 0, hash: dsHash(user) };
  }
  return { rc: 1, hash: 0 };
}

// ---- selection ----------------------------------------------------------------------------------

type Mode = 'dst' | 'domain' | 'xavp';

const skip = (d: Dest): boolean => (d.flags & (INACTIVE | DISABLED)) !== 0;

/** ds_push_dst(): $du (and the R-URI marked new), or the R-URI host part. */
function pushDst(ctx: MsgContext, uri: string, mode: Mode): boolean {
  if (mode === 'xavp') return true;
  if (mode === 'dst') {
    ctx.dstUri = uri;
    ctx.markRuriNew();
    return true;
  }
  // SET_HOSTALL_T: everything after the user part of the R-URI becomes the destination's host part.
  if (!ctx.msg.isRequest) return false;
  const hostall = uri.replace(/^sips?:/i, '');
  const r = ctx.msg.ruri;
  const colon = r.indexOf(':');
  if (colon < 0) return false;
  const at = r.indexOf('@', colon);
  ctx.msg.ruri = at >= 0 ? `${r.slice(0, at + 1)}${hostall}` : `${r.slice(0, colon + 1)}${hostall}`;
  return true;
}

type Item = Map<string, PvValue[]>;

function xavpRecord(s: DsSet, pos: number): Item {
  const d = s.dlist[pos]!;
  const item: Item = new Map<string, PvValue[]>([['uri', [d.uri]], ['grp', [s.id]], ['dstidx', [pos]]]);
  if (d.attrs) item.set('attrs', [d.attrs]);
  return item;
}

function select(ds: DispatcherState, ctx: MsgContext, setId: number, alg: number, limitIn: number, mode: Mode): number {
  const limit = limitIn <= 0 ? 0xffffffff : limitIn;
  if (ds.sets.size === 0) {
    ctx.proxy.log(ctx, 'err', 'dispatcher: no destination sets');
    return -1;
  }
  if (mode === 'dst' && ds.settings.forceDst === 0 && ctx.dstUri) {
    ctx.proxy.log(ctx, 'err', `dispatcher: destination already set [${ctx.dstUri}]`);
    return -1;
  }
  const s = ds.sets.get(setId);
  if (!s || s.dlist.length === 0) {
    ctx.proxy.log(ctx, 'err', `dispatcher: destination set [${setId}] not found`);
    return -1;
  }
  const nr = s.dlist.length;
  let hash = 0;
  let ulast = false;
  let vlast = 0;
  const roundRobin = (): void => {
    hash = s.last;
    s.last = (s.last + 1) % nr;
    vlast = s.last;
    ulast = true;
  };
  const msg = ctx.msg;
  try {
    switch (alg) {
      case 0:
        hash = dsHash(msg.callId.trim());
        break;
      case 1: case 2: case 3: {
        const uri = alg === 1 ? msg.from.uri : alg === 2 ? msg.to.uri : msg.isRequest ? msg.ruri : null;
        const h = uri === null ? null : uriHash(ds, uri);
        if (h === null) {
          ctx.proxy.log(ctx, 'err', `dispatcher: can't get ${alg === 1 ? 'From uri' : alg === 2 ? 'To uri' : 'ruri'} hash`);
          return -1;
        }
        hash = h;
        break;
      }
      case 4:
        roundRobin();
        break;
      case 5: {
        const r = authUserHash(ctx);
        if (r.rc === 0) hash = r.hash;
        else roundRobin();
        break;
      }
      case 6:
        hash = Math.floor(Math.random() * 0x7fffffff);
        break;
      case 7: {
        // ds_hash_pvar: the hash_pvar format expanded and trimmed; empty is an error.
        const text = ds.settings.hashPvar ? expandFormat(ctx, ds.settings.hashPvar).trim() : '';
        if (!text) {
          ctx.proxy.log(ctx, 'err', "dispatcher: can't get PV hash (hash_pvar unset or empty)");
          return -1;
        }
        hash = dsHash(text);
        break;
      }
      case 8:
      case 12:
        hash = 0;
        break;
      case 9:
        hash = s.wlist[s.wlast] ?? 0;
        s.wlast = (s.wlast + 1) % 100;
        break;
      default:
        ctx.proxy.log(ctx, 'err', `dispatcher: algorithm ${alg} is not supported here`);
        return -1;
    }
  } catch (e) {
    ctx.proxy.log(ctx, 'err', `dispatcher: can't get the hash input: ${e instanceof Error ? e.message : String(e)}`);
    return -1;
  }
  const span = ds.settings.useDefault !== 0 && nr !== 1 ? nr - 1 : nr;
  hash %= span;
  let i = hash;
  // The pick is inactive or disabled: the next usable one.
  while (skip(s.dlist[i]!)) {
    i = (i + 1) % span;
    if (i === hash) {
      if (ds.settings.useDefault !== 0) {
        i = nr - 1;
        if (skip(s.dlist[i]!)) return -1;
        break;
      }
      return -1;
    }
  }
  const picked = s.dlist[i]!;
  if (!pushDst(ctx, picked.uri, mode)) return -1;
  if (ulast && vlast === s.last) s.last = (i + 1) % nr;
  // 12, parallel: every destination after the picked one becomes a branch (ds_add_branches adds
  // them whatever their state), and there is no failover list.
  // $xavp(_dsctx_=>cnt) is set after every selection: the failover records added (0 without).
  const setCount = (n: number): void => {
    ctx.xavps.set('_dsctx_', [new Map<string, PvValue[]>([['cnt', [n]]]), ...(ctx.xavps.get('_dsctx_') ?? [])]);
  };
  if (alg === 12) {
    const rc = addBranches(ctx, s, i, mode);
    setCount(0);
    return rc;
  }
  if (!(ds.settings.flags & FAILOVER_ON)) {
    setCount(0);
    return 1;
  }

  // Failover records: the selected one, the usable ones after it, then before it.
  const items: Item[] = [xavpRecord(s, i)];
  const isDefault = (j: number): boolean => ds.settings.useDefault !== 0 && j === nr - 1;
  for (let j = i + 1; j < nr && items.length < limit; j++) if (!skip(s.dlist[j]!) && !isDefault(j)) items.push(xavpRecord(s, j));
  for (let j = 0; j < i && items.length < limit; j++) if (!skip(s.dlist[j]!) && !isDefault(j)) items.push(xavpRecord(s, j));
  if (ds.settings.useDefault !== 0 && i !== nr - 1 && items.length < limit) items.push(xavpRecord(s, nr - 1));
  ctx.xavps.set('_dsdst_', [...items, ...(ctx.xavps.get('_dsdst_') ?? [])]);
  setCount(items.length);
  return 1;
}

/** ds_add_branches(): destinations after `from` as branches, R-URI or $du style by mode. */
function addBranches(ctx: MsgContext, s: DsSet, from: number, mode: Mode): number {
  if (mode === 'xavp') return 1;
  let user: string | undefined;
  if (mode === 'domain') {
    try {
      user = ctx.msg.parsedRuri().user;
    } catch {
      return 2;
    }
  }
  for (let j = from + 1; j < s.dlist.length; j++) {
    const d = s.dlist[j]!;
    let uri: string;
    let dst: string | null = null;
    if (mode === 'domain') {
      if (!user) uri = d.uri;
      else {
        const m = /^(sips?):(.*)$/i.exec(d.uri);
        if (!m) continue; // unsupported scheme: ignored, as Kamailio
        uri = `${m[1]!.toLowerCase()}:${user}@${m[2]}`;
      }
    } else {
      uri = ctx.msg.ruri;
      dst = d.uri;
    }
    ctx.branches.push({ uri, dstUri: dst, path: null, q: -1, flags: 0, socket: null, instance: null, ruid: null, location_ua: null });
  }
  return 1;
}

/** ds_update_dst(): the current (DS_USE_CRT) or next (DS_USE_NEXT) failover record. */
function updateDst(ds: DispatcherState, ctx: MsgContext, next: boolean, mode: Mode): number {
  if (next && !(ds.settings.flags & FAILOVER_ON)) {
    ctx.proxy.log(ctx, 'warn', 'dispatcher: failover support disabled');
    return -1;
  }
  const list = ctx.xavps.get('_dsdst_');
  if (!list || list.length === 0) return -1;
  if (next) {
    list.shift();
    if (list.length === 0) {
      ctx.xavps.delete('_dsdst_');
      return -1;
    }
  }
  const uri = list[0]!.get('uri')?.[0];
  if (typeof uri !== 'string') return -1;
  return pushDst(ctx, uri, mode) ? 1 : -1;
}

// ---- states -------------------------------------------------------------------------------------

/** ds_parse_flags(): a/i/d/t/p letters; -1 for anything else. */
function parseFlags(s: string): number {
  let f = 0;
  for (const ch of s.toLowerCase()) {
    if (ch === 'a') f &= ~STATES_ALL;
    else if (ch === 'i') f |= INACTIVE;
    else if (ch === 'd') f |= DISABLED;
    else if (ch === 't') f |= TRYING;
    else if (ch === 'p') f |= PROBING;
    else return -1;
  }
  return f;
}

const MODE_SET = 1;

/** ds_update_state(): 0 done, -1 set or destination not found. */
function updateState(ds: DispatcherState, group: number, uri: string, stateIn: number, mode: number): number {
  const s = ds.sets.get(group);
  if (!s) return -1;
  const d = s.dlist.find((x) => x.uri.toLowerCase() === uri.toLowerCase());
  if (!d) return -1;
  let state = stateIn;
  const old = d.flags;
  d.flags &= ~STATES_ALL;
  const init = state;
  if (state & TRYING && old & INACTIVE) {
    // Inactive stays inactive: it has to become active before trying again.
    state &= ~TRYING;
    state |= INACTIVE;
  }
  if (state & DISABLED) d.flags |= DISABLED;
  else d.flags |= state;
  if (state & TRYING) {
    d.probingCount++;
    if (mode & MODE_SET || d.probingCount >= ds.settings.probingThreshold) {
      d.flags &= ~TRYING;
      d.flags |= INACTIVE;
      d.probingCount = 0;
    }
  } else if (!(init & TRYING) && old & INACTIVE) {
    d.probingCount++;
    if ((mode & MODE_SET) === 0 && d.probingCount < ds.settings.inactiveThreshold) {
      d.flags |= INACTIVE;
      if (old & PROBING) d.flags |= PROBING;
    } else d.probingCount = 0;
  } else d.probingCount = 0;
  if ((old & (INACTIVE | DISABLED)) === 0 && d.flags & (INACTIVE | DISABLED)) ds.env.log('info', `destination ${d.uri} (set ${group}) is down`);
  else if (old & (INACTIVE | DISABLED) && (d.flags & (INACTIVE | DISABLED)) === 0) ds.env.log('info', `destination ${d.uri} (set ${group}) is up`);
  return 0;
}

/** ds_mark_dst_mode(): the state for the current $xavp(_dsdst_) record. */
function markDst(ds: DispatcherState, ctx: MsgContext, state: number): number {
  if (!(ds.settings.flags & FAILOVER_ON)) {
    ctx.proxy.log(ctx, 'warn', 'dispatcher: failover support disabled');
    return -1;
  }
  const head = ctx.xavps.get('_dsdst_')?.[0];
  const grp = head?.get('grp')?.[0];
  const uri = head?.get('uri')?.[0];
  if (typeof grp !== 'number' || typeof uri !== 'string') return -1;
  return updateState(ds, grp, uri, state, MODE_SET | 2) === 0 ? 1 : -1;
}

function markDstDefault(ds: DispatcherState, ctx: MsgContext): number {
  return markDst(ds, ctx, INACTIVE | (ds.settings.probingMode === PROBE_ALL ? PROBING : 0));
}

// ---- from-list checks ---------------------------------------------------------------------------

function setVars(ds: DispatcherState, ctx: MsgContext, d: Dest, exportSet: boolean): number {
  if (exportSet && ds.settings.setidPv) setPv(ctx, ds.settings.setidPv, d.set);
  if (ds.settings.attrsPv && d.attrs) setPv(ctx, ds.settings.attrsPv, d.attrs);
  return 1;
}

function sameAddr(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = isIP(a);
  if (!fa || fa !== isIP(b)) return false;
  // IPv6 written differently.
  return fa === 6 && normalize6(a) === normalize6(b);
}

function normalize6(a: string): string {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const g = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return g.map((x) => Number.parseInt(x || '0', 16).toString(16)).join(':');
}

/** ds_is_addr_from_list() for one address. */
function fromList(ds: DispatcherState, ctx: MsgContext, group: number, mode: number, addr: string, port: number, proto: string | null): number {
  const visit = group === -1 ? [...ds.sets.values()] : ds.sets.has(group) ? [ds.sets.get(group)!] : [];
  for (const s of visit) {
    for (const d of s.dlist) {
      if (d.flags & NODNSARES) continue;
      if (!d.addrs.some((a) => sameAddr(a, addr))) continue;
      if (!(mode & MATCH_NOPORT) && d.port !== 0 && d.port !== port) continue;
      if (!(mode & MATCH_NOPROTO) && d.proto !== proto) continue;
      if (mode & MATCH_ACTIVE && skip(d)) continue;
      return setVars(ds, ctx, d, group === -1);
    }
  }
  return -1;
}

function fromListUri(ds: DispatcherState, ctx: MsgContext, group: number, mode: number, uri: string): number | Promise<number> {
  let u;
  try {
    u = parseUri(uri);
  } catch {
    ctx.proxy.log(ctx, 'err', `dispatcher: bad uri [${uri}]`);
    return -1;
  }
  const host = u.host.replace(/^\[|\]$/g, '');
  const port = u.port ?? 0;
  let proto = u.params.get('transport')?.toLowerCase() ?? null;
  if (!proto) proto = isIP(host) ? 'udp' : u.port ? (u.scheme === 'sip' ? 'udp' : 'tcp') : null;
  if (isIP(host)) return fromList(ds, ctx, group, mode, host, port, proto);
  return lookup(host).then(
    (r) => fromList(ds, ctx, group, mode, r.address, port, proto),
    () => {
      ctx.proxy.log(ctx, 'err', `dispatcher: could not resolve ${host}`);
      return -1;
    },
  );
}

function isActiveUri(ds: DispatcherState, group: number, uri: string | null): number {
  const s = ds.sets.get(group);
  if (!s) return -1;
  for (const d of s.dlist) if (!skip(d) && (!uri || d.uri === uri)) return 1;
  return -1;
}

// ---- probing ------------------------------------------------------------------------------------

function replyOk(ds: DispatcherState, code: number): boolean {
  if (code >= 200 && code <= 299) return true;
  return ds.settings.replyCodes.codes.includes(code) || ds.settings.replyCodes.classes.includes(Math.floor(code / 100));
}

function shouldPing(ds: DispatcherState, d: Dest): boolean {
  if (ds.settings.probingMode === PROBE_ALL) return true;
  if (ds.settings.probingMode !== PROBE_INACTIVE && d.flags & PROBING) return true;
  return ds.settings.probingMode === PROBE_INACTIVE && (d.flags & PROBING) !== 0 && (d.flags & INACTIVE) !== 0;
}

function currentState(ds: DispatcherState, group: number, uri: string): number {
  return ds.sets.get(group)?.dlist.find((x) => x.uri.toLowerCase() === uri.toLowerCase())?.flags ?? 0;
}

/** ds_options_callback(): the probe's final status moves the destination's state. */
function onProbeResult(ds: DispatcherState, group: number, uri: string, code: number): void {
  if (ds.settings.probingMode === PROBE_ONLYFLAGGED && !(currentState(ds, group, uri) & PROBING)) return;
  let state: number;
  if (replyOk(ds, code)) {
    state = 0;
    if (ds.settings.probingMode === PROBE_ALL || (ds.settings.probingMode === PROBE_ONLYFLAGGED && currentState(ds, group, uri) & PROBING)) state |= PROBING;
  } else {
    state = TRYING;
    if (ds.settings.probingMode !== PROBE_NONE) state |= PROBING;
  }
  if (currentState(ds, group, uri) & DISABLED) return;
  if (updateState(ds, group, uri, state, 0) !== 0) ds.env.log('err', `setting the probing state failed (${uri}, group ${group})`);
}

/** ds_ping_set() over every set. */
function probeRound(ds: DispatcherState): void {
  const uac = ds.env.uac;
  if (!uac) return;
  for (const s of ds.sets.values()) {
    for (const d of s.dlist) {
      if (d.flags & (DISABLED | NOPING | NODNSARES)) continue;
      if (!shouldPing(ds, d)) continue;
      const group = s.id;
      const uri = d.uri;
      uac.request(ds.settings.pingMethod, uri, d.pingFrom ?? ds.settings.pingFrom, ds.settings.pingTimeoutMs).then(
        (code) => onProbeResult(ds, group, uri, code),
        () => onProbeResult(ds, group, uri, 500),
      );
    }
  }
}

// ---- RPC ----------------------------------------------------------------------------------------

function stateLetters(flags: number): string {
  const a = flags & INACTIVE ? 'I' : flags & DISABLED ? 'D' : flags & TRYING ? 'T' : 'A';
  return a + (flags & PROBING ? 'P' : flags & NOPING ? 'N' : 'X');
}

function rpcList(ds: DispatcherState): unknown {
  return {
    NRSETS: ds.sets.size,
    RECORDS: [...ds.sets.values()].map((s) => ({
      SET: {
        ID: s.id,
        TARGETS: s.dlist.map((d) => ({
          DEST: { URI: d.uri, FLAGS: stateLetters(d.flags), PRIORITY: d.priority, ...(d.attrs ? { ATTRS: { BODY: d.attrs, WEIGHT: d.weight } } : {}) },
        })),
      },
    })),
  };
}

function rpcSetState(ds: DispatcherState, p: readonly unknown[]): string {
  const state = String(p[0] ?? '');
  const group = Number(p[1]);
  const dest = String(p[2] ?? '');
  if (!state || Number.isNaN(group) || !dest) throw new Error('state, group and address expected');
  let st = 0;
  const c0 = state[0]!.toLowerCase();
  const probe = state.length > 1 && state[1]!.toLowerCase() === 'p' ? PROBING : 0;
  if (c0 === '0' || c0 === 'i') st = INACTIVE | probe;
  else if (c0 === '1' || c0 === 'a') st = probe;
  else if (c0 === '2' || c0 === 'd') st = DISABLED;
  else if (c0 === '3' || c0 === 't') st = TRYING | probe;
  else throw new Error('Unknown State Value');
  const s = ds.sets.get(group);
  if (!s) throw new Error('State Update Failed');
  const targets = dest === 'all' ? s.dlist : s.dlist.filter((d) => d.uri.toLowerCase() === dest.toLowerCase());
  if (targets.length === 0) throw new Error('State Update Failed');
  for (const d of targets) d.flags = (d.flags & ~STATES_ALL) | st;
  return 'ok';
}

// ---- module -------------------------------------------------------------------------------------

/** mod_init: this instance's settings and sets; the store refresh and probing timers start. */
async function init(e: ModuleEnv): Promise<DispatcherState> {
  const ds = new DispatcherState(e, defaults(e.params, e.allParams.tm ?? {}));
  await reload(ds);
  ds.timers = [setInterval(() => void refresh(ds).catch((err: unknown) => e.log('err', `state refresh: ${String(err)}`)), ds.settings.refreshMs)];
  if (ds.settings.pingInterval > 0) ds.timers.push(setInterval(() => probeRound(ds), ds.settings.pingInterval * 1000));
  for (const t of ds.timers) t.unref();
  return ds;
}

export default defineModule<DispatcherState>('dispatcher', [
  { name: 'ds_select', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), 0xffff, 'xavp') },
  { name: 'ds_select_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), Number(l), 'xavp') },
  { name: 'ds_select_dst', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), 0xffff, 'dst') },
  { name: 'ds_select_dst_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), Number(l), 'dst') },
  { name: 'ds_select_domain', params: ['int', 'int'], ret: 'int', fn: (ctx, s, a) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), 0xffff, 'domain') },
  { name: 'ds_select_domain_limit', params: ['int', 'int', 'int'], ret: 'int', fn: (ctx, s, a, l) => select(DISPATCHER.of(ctx), ctx, Number(s), Number(a), Number(l), 'domain') },
  { name: 'ds_next_dst', params: [], ret: 'int', fn: (ctx) => updateDst(DISPATCHER.of(ctx), ctx, true, 'dst') },
  { name: 'ds_next_domain', params: [], ret: 'int', fn: (ctx) => updateDst(DISPATCHER.of(ctx), ctx, true, 'domain') },
  { name: 'ds_set_dst', params: [], ret: 'int', fn: (ctx) => updateDst(DISPATCHER.of(ctx), ctx, false, 'dst') },
  { name: 'ds_set_domain', params: [], ret: 'int', fn: (ctx) => updateDst(DISPATCHER.of(ctx), ctx, false, 'domain') },
  { name: 'ds_mark_dst', params: [], ret: 'int', fn: (ctx) => markDstDefault(DISPATCHER.of(ctx), ctx) },
  { name: 'ds_mark_dst_state', params: ['str'], ret: 'int', fn: (ctx, s) => {
    const v = str(s);
    if (!v) return markDstDefault(DISPATCHER.of(ctx), ctx);
    const state = parseFlags(v);
    if (state < 0) {
      ctx.proxy.log(ctx, 'warn', `dispatcher: failed to parse state flags: ${v}`);
      return -1;
    }
    return markDst(DISPATCHER.of(ctx), ctx, state);
  } },
  { name: 'ds_is_from_lists', params: [], ret: 'int', fn: (ctx) => fromList(DISPATCHER.of(ctx), ctx, -1, MATCH_NOPROTO, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list', params: ['int'], ret: 'int', fn: (ctx, g) => fromList(DISPATCHER.of(ctx), ctx, Number(g), MATCH_NOPROTO, ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list_mode', params: ['int', 'int'], ret: 'int', fn: (ctx, g, m) => fromList(DISPATCHER.of(ctx), ctx, Number(g), Number(m), ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto) },
  { name: 'ds_is_from_list_uri', params: ['int', 'int', 'str'], ret: 'int', fn: (ctx, g, m, uri) => {
    const u = str(uri);
    if (!u) return fromList(DISPATCHER.of(ctx), ctx, Number(g), Number(m), ctx.rcv.srcAddress, ctx.rcv.srcPort, ctx.rcv.proto);
    return fromListUri(DISPATCHER.of(ctx), ctx, Number(g), Number(m), u);
  } },
  { name: 'ds_reload', params: [], ret: 'int', fn: (ctx) => reload(DISPATCHER.of(ctx)).then(() => 1, (err: unknown) => {
    ctx.proxy.log(ctx, 'err', `dispatcher: reload failed: ${String(err)}`);
    return -1;
  }) },
  { name: 'ds_list_exists', params: ['int'], ret: 'int', fn: (ctx, s) => (DISPATCHER.of(ctx).sets.has(Number(s)) ? 1 : -1) },
  { name: 'ds_is_active', params: ['int'], ret: 'int', fn: (ctx, s) => isActiveUri(DISPATCHER.of(ctx), Number(s), null) },
  { name: 'ds_is_active_uri', params: ['int', 'str'], ret: 'int', fn: (ctx, s, u) => isActiveUri(DISPATCHER.of(ctx), Number(s), str(u) || null) },
], {
  key: DISPATCHER,
  init,
  close: (ds) => {
    for (const t of ds.timers) clearInterval(t);
    ds.timers = [];
  },
  rpc: (ds) => ({
    'dispatcher.list': () => rpcList(ds),
    'dispatcher.reload': async () => {
      await reload(ds);
      return 'ok';
    },
    'dispatcher.set_state': (p) => rpcSetState(ds, p),
  }),
});

