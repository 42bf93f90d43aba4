/**
 * KSR.htable (src/modules/htable) on the shared state: with Redis, several proxies see one table,
 * and an operator's `SET kemi:ht:<table>:<key> value` is seen at once.
 *
 * Tables are declared as in Kamailio: modparam htable "htable" = "ipban=>size=8;autoexpire=300;"
 * (several tables: one per line, or further keys htable2, htable3, ...). Attributes used:
 * autoexpire (s), initval (the value of a missing key), updateexpire (1: every update restarts
 * the expiry; 0: only the first set does). size, dbtable and the other database attributes have no
 * meaning here and are ignored with a warning for dbtable.
 * Values: integers are stored as decimal text; a string that looks like an integer is stored with
 * an "s:" prefix so it comes back as a string.
 * sht_lock / sht_unlock: Kamailio locks the item's slot in shared memory; here the lock is an item
 * of the state backend (namespace `htlock`, set only if absent, expiring after 10 s so a script
 * that forgets sht_unlock cannot block the key for ever), so it holds across workers and, on Redis,
 * across hosts. A message that already holds the lock takes it again (Kamailio's slot locks are
 * recursive); one that does not waits (its coroutine, not the process) up to 2 s, then gets -1.
 * PVs: $sht(t=>k), $shtex(t=>k) (set expiry), $shtinc / $shtdec, $shtcn / $shtcv, $shtitkey(it) /
 * $shtitval(it); through KSR.pv on any backend, in format strings on the embedded state only.
 */
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import type { PvRegistry } from '../src/pv/registry.js';
import { PosixRegex } from '../src/lib/posix-regex.js';
import { andThen, StateError, type Awaitable, type StateStore } from '../src/state/store.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type ModuleEnv } from './types.js';
import { str } from './args.js';

interface Table {
  name: string;
  autoexpire: number;
  initval: number | null;
  updateexpire: boolean;
}

/** One instance's htable: its table definitions, the state backend, and per-message iterators and locks. */
export class HtableState {
  readonly tables = new Map<string, Table>();
  /** sht_iterator_* iterators per message. */
  readonly iterators = new WeakMap<MsgContext, Map<string, Iterator>>();
  /** Locks a message holds: lock key -> [owner token, depth]. */
  readonly heldLocks = new WeakMap<MsgContext, Map<string, [string, number]>>();

  constructor(readonly store: StateStore) {}
}

export const HTABLE = new ModuleKey<HtableState>('htable');

function st(ctx: MsgContext): HtableState {
  return HTABLE.of(ctx);
}

const ns = (t: Table): string => `ht:${t.name}`;

function encode(v: string | number): string {
  if (typeof v === 'number') return String(Math.trunc(v));
  return /^-?\d+$/.test(v) || v.startsWith('s:') ? `s:${v}` : v;
}

function decode(raw: string | null): string | number | null {
  if (raw === null) return null;
  if (raw.startsWith('s:')) return raw.slice(2);
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

export function parseTableSpec(spec: string): Table {
  const m = /^\s*([^=\s]+)\s*=>\s*(.*)$/.exec(spec);
  if (!m) throw new Error(`htable: bad table definition '${spec}'`);
  const t: Table = { name: m[1]!, autoexpire: 0, initval: null, updateexpire: true };
  for (const part of m[2]!.split(';')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (!k) continue;
    if (k === 'autoexpire') t.autoexpire = Number(v) || 0;
    else if (k === 'initval') t.initval = Number(v);
    else if (k === 'updateexpire') t.updateexpire = Number(v) !== 0;
  }
  return t;
}

function table(ctx: MsgContext, name: string): Table | null {
  const t = st(ctx).tables.get(name);
  if (!t) ctx.proxy.log(ctx, 'err', `htable: no such table '${name}'`);
  return t ?? null;
}

/** Continues with the value; a state error is logged and becomes `onError`. */
function chain<T, R>(ctx: MsgContext, v: Awaitable<T>, fn: (x: T) => Awaitable<R>, onError: R): Awaitable<R> {
  if (v instanceof Promise) {
    return v.then(fn).catch((e: unknown) => {
      if (!(e instanceof StateError)) throw e;
      ctx.proxy.log(ctx, 'err', `htable: ${e.message}`);
      return onError;
    });
  }
  return fn(v);
}

function get(ctx: MsgContext, name: string, key: string, missing: string | null): Awaitable<PvValue | null> {
  const t = table(ctx, name);
  if (!t) return missing;
  return chain(ctx, st(ctx).store.get(ns(t), key), (raw) => decode(raw) ?? t.initval ?? missing, missing);
}

/** Stores a value; the expiry: the given one, else autoexpire (kept on update when updateexpire=0). */
function set(ctx: MsgContext, name: string, key: string, v: string | number, expires?: number): Awaitable<number> {
  const t = table(ctx, name);
  if (!t) return -1;
  const s = st(ctx).store;
  const write = (ttl: number): Awaitable<number> => chain(ctx, s.set(ns(t), key, encode(v), ttl), () => 1, -1);
  if (expires !== undefined) return write(expires);
  if (!t.autoexpire) return write(0);
  if (t.updateexpire) return write(t.autoexpire);
  return chain(ctx, s.ttl(ns(t), key), (left) => write(left > 0 ? left : t.autoexpire), -1);
}

function incr(ctx: MsgContext, name: string, key: string, by: number): Awaitable<number> {
  const t = table(ctx, name);
  if (!t) return -255;
  const s = st(ctx).store;
  return chain(ctx, s.get(ns(t), key), (raw) => {
    const cur = decode(raw);
    if (typeof cur === 'string') return -255;
    // A missing item is created only from the table's initval (ht_cell_value_add).
    if (cur === null && t.initval === null) return -255;
    const start = cur ?? t.initval ?? 0;
    return chain(ctx, s.set(ns(t), key, String(start + by), t.autoexpire), () => start + by, -255);
  }, -255);
}

type Op = 'eq' | 'ne' | 're' | 'sw';
function matcher(op: string, value: string): ((s: string) => boolean) | null {
  switch (op as Op) {
    case 'eq': return (s) => s === value;
    case 'ne': return (s) => s !== value;
    case 'sw': return (s) => s.startsWith(value);
    case 're': {
      const re = new RegExp(value);
      return (s) => re.test(s);
    }
    default: return null;
  }
}

function rmMatcher(op: string, value: string): ((s: string) => boolean) | null {
  return op === 're' || op === 'sw' ? matcher(op, value) : null;
}

function matchName(ctx: MsgContext, name: string, op: string, value: string): Awaitable<number> {
  const t = table(ctx, name);
  if (!t) return -1;
  // The common "is this key there" case is one lookup, not a scan.
  if (op === 'eq') return chain(ctx, st(ctx).store.get(ns(t), value), (v) => (v !== null ? 1 : -1), -1);
  const m = matcher(op, value);
  if (!m) return -1;
  return chain(ctx, st(ctx).store.entries(ns(t)), (es) => (es.some(([k]) => m(k)) ? 1 : -1), -1);
}

function matchValue(ctx: MsgContext, name: string, op: string, value: string): Awaitable<number> {
  const t = table(ctx, name);
  const m = matcher(op, value);
  if (!t || !m) return -1;
  return chain(ctx, st(ctx).store.entries(ns(t)), (es) => (es.some(([, v]) => typeof decode(v) === 'string' && m(String(decode(v)))) ? 1 : -1), -1);
}

function removeWhere(ctx: MsgContext, name: string, test: (k: string, v: string | number | null) => boolean): Awaitable<number> {
  const t = table(ctx, name);
  if (!t) return -1;
  const s = st(ctx).store;
  return chain(ctx, s.entries(ns(t)), (es) => {
    const dels = es.filter(([k, v]) => test(k, decode(v))).map(([k]) => s.del(ns(t), k));
    return dels.some((d) => d instanceof Promise) ? Promise.all(dels).then(() => 1, () => -1) : 1;
  }, -1);
}

// ---- iterators ----------------------------------------------------------------------------------

interface Iterator {
  table: Table;
  items: [string, string][];
  pos: number;
}

function iterator(ctx: MsgContext, name: string): Iterator | null {
  return st(ctx).iterators.get(ctx)?.get(name) ?? null;
}

function iterSet(ctx: MsgContext, iname: string, v: string | number | null, expires?: number): Awaitable<number> {
  const it = iterator(ctx, iname);
  const cur = it?.items[it.pos];
  if (!it || !cur) return -1;
  const s = st(ctx).store;
  if (v === null) return chain(ctx, s.del(ns(it.table), cur[0]), () => 1, -1);
  if (expires !== undefined) return chain(ctx, s.set(ns(it.table), cur[0], cur[1], expires), () => 1, -1);
  return set(ctx, it.table.name, cur[0], v);
}

// ---- PVs ----------------------------------------------------------------------------------------

function split(arg: string): [string, string] {
  const i = arg.indexOf('=>');
  if (i < 0) throw new Error(`htable: expected table=>key, got '${arg}'`);
  return [arg.slice(0, i).trim(), arg.slice(i + 2).trim()];
}

function syncOnly<T>(v: Awaitable<T>, what: string): T {
  if (v instanceof Promise) {
    v.catch(() => undefined);
    throw new Error(`${what} in a format string needs the embedded state; with Redis read it with KSR.pv.get or KSR.htable.sht_get`);
  }
  return v;
}

/**
 * $shtcn(t=>exp) / $shtcv(t=>exp): how many names (values) match, as ht_count_cells_re: `~~re`
 * (or no prefix) a POSIX regex, case-insensitive; `~%s` ends with s; `%~s` starts with s; `==s`
 * equals s; `eqN` integer value N ($shtcv only); `**` every item. Null for an unknown table.
 */
function countCells(ctx: MsgContext, arg: string, byValue: boolean): Awaitable<number | null> {
  const [name, exp] = split(arg);
  const t = table(ctx, name);
  if (!t) return null;
  if (!exp) return 0;
  const op = exp.length >= 2 ? ({ '~~': 're', '~%': 'ends', '%~': 'starts', '==': 'eq', 'eq': 'int', '**': 'all' } as const)[exp.slice(0, 2)] : undefined;
  const arg2 = op ? exp.slice(2) : exp;
  if (op && op !== 'all' && !arg2) return 0;
  if (op === 'int' && !byValue) return 0;
  let test: (s: string) => boolean;
  switch (op ?? 're') {
    case 're': {
      let re: PosixRegex;
      try {
        re = new PosixRegex(arg2, { icase: true, newline: true });
      } catch {
        return 0;
      }
      test = (s) => re.test(s);
      break;
    }
    case 'ends': test = (s) => s.endsWith(arg2); break;
    case 'starts': test = (s) => s.startsWith(arg2); break;
    case 'eq': test = (s) => s === arg2; break;
    default: test = () => true;
  }
  const want = Number.parseInt(arg2, 10);
  return chain(ctx, st(ctx).store.entries(ns(t)), (es) => {
    let n = 0;
    for (const [k, raw] of es) {
      if (op === 'all') n++;
      else if (op === 'int') n += typeof decode(raw) === 'number' && decode(raw) === want ? 1 : 0;
      else if (!byValue) n += test(k) ? 1 : 0;
      else {
        const v = decode(raw);
        n += typeof v === 'string' && test(v) ? 1 : 0;
      }
    }
    return n;
  }, 0);
}

function registerHtablePvs(pvs: PvRegistry): void {
  const registerPv = pvs.register.bind(pvs);
  const shtWrite = (ctx: MsgContext, arg: string, v: PvValue | null): Awaitable<number> => {
    const [t, k] = split(arg);
    return v === null ? remove(ctx, t, k) : set(ctx, t, k, typeof v === 'number' ? v : String(v));
  };
  registerPv('sht', {
    get: (ctx, arg) => syncOnly(get(ctx, ...split(arg), null), '$sht'),
    getAsync: (ctx, arg) => get(ctx, ...split(arg), null),
    set: (ctx, arg, v) => {
      const r = shtWrite(ctx, arg, v);
      if (r instanceof Promise) r.catch(() => undefined);
    },
    setAsync: (ctx, arg, v) => {
      const r = shtWrite(ctx, arg, v);
      return r instanceof Promise ? r.then(() => undefined) : undefined;
    },
  });
  registerPv('shtex', {
    get: () => null,
    set: (ctx, arg, v) => {
      const [t, k] = split(arg);
      const tb = table(ctx, t);
      if (!tb) return;
      const s = st(ctx).store;
      const r = chain(ctx, s.get(ns(tb), k), (raw) => (raw === null ? -1 : chain(ctx, s.set(ns(tb), k, raw, Number(v) || 0), () => 1, -1)), -1);
      if (r instanceof Promise) r.catch(() => undefined);
    },
  });
  registerPv('shtinc', { get: (ctx, arg) => syncOnly(incr(ctx, ...split(arg), 1), '$shtinc'), getAsync: (ctx, arg) => incr(ctx, ...split(arg), 1) });
  registerPv('shtdec', { get: (ctx, arg) => syncOnly(incr(ctx, ...split(arg), -1), '$shtdec'), getAsync: (ctx, arg) => incr(ctx, ...split(arg), -1) });
  registerPv('shtcn', { get: (ctx, arg) => syncOnly(countCells(ctx, arg, false), '$shtcn'), getAsync: (ctx, arg) => countCells(ctx, arg, false) });
  registerPv('shtcv', { get: (ctx, arg) => syncOnly(countCells(ctx, arg, true), '$shtcv'), getAsync: (ctx, arg) => countCells(ctx, arg, true) });
  registerPv('shtitkey', { get: (ctx, arg) => { const it = iterator(ctx, arg); return it?.items[it.pos]?.[0] ?? null; } });
  registerPv('shtitval', { get: (ctx, arg) => { const it = iterator(ctx, arg); const c = it?.items[it.pos]; return c ? decode(c[1]) : null; } });
}

function remove(ctx: MsgContext, name: string, key: string): Awaitable<number> {
  const t = table(ctx, name);
  if (!t) return -1;
  return chain(ctx, st(ctx).store.del(ns(t), key), () => 1, -1);
}

// ---- module -------------------------------------------------------------------------------------

function init(env: ModuleEnv): HtableState {
  const h = new HtableState(env.state);
  const tables = h.tables;
  for (const [k, v] of Object.entries(env.params)) {
    if (!k.startsWith('htable')) continue;
    for (const line of String(v).split(/\r?\n/)) {
      if (!line.trim()) continue;
      const t = parseTableSpec(line);
      if (/dbtable\s*=/.test(line)) env.log('warn', `table ${t.name}: dbtable is ignored (state lives in the configured backend)`);
      tables.set(t.name, t);
    }
  }
  registerHtablePvs(env.pvs);
  return h;
}

const LOCK_NS = 'htlock';
const LOCK_TTL_SEC = 10;
const LOCK_WAIT_MS = 2000;

function lockKey(t: string, k: string): string {
  return `${t}=>${k}`;
}

function shtLock(ctx: MsgContext, t: string, k: string): Awaitable<number> {
  if (!table(ctx, t)) return -1;
  const id = lockKey(t, k);
  const heldLocks = st(ctx).heldLocks;
  let mine = heldLocks.get(ctx);
  const cur = mine?.get(id);
  if (cur) {
    cur[1]++;
    return 1;
  }
  const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  const s = st(ctx).store;
  const attempt = (): Awaitable<number> => chain(ctx, s.setIfAbsent(LOCK_NS, id, token, LOCK_TTL_SEC), (got) => {
    if (got) {
      if (!mine) heldLocks.set(ctx, (mine = new Map()));
      mine.set(id, [token, 1]);
      return 1;
    }
    if (Date.now() >= deadline) {
      ctx.proxy.log(ctx, 'err', `htable: sht_lock(${t}, ${k}): still held by another message after ${LOCK_WAIT_MS} ms`);
      return -1;
    }
    return new Promise<number>((resolve) => setTimeout(() => resolve(attempt()), 2));
  }, -1);
  return attempt();
}

function shtUnlock(ctx: MsgContext, t: string, k: string): Awaitable<number> {
  if (!table(ctx, t)) return -1;
  const id = lockKey(t, k);
  const mine = st(ctx).heldLocks.get(ctx);
  const cur = mine?.get(id);
  if (!cur) return 1; // not held: nothing to release (Kamailio's unlock does not check either)
  if (--cur[1] > 0) return 1;
  mine!.delete(id);
  const s = st(ctx).store;
  // Release only our own lock (it may have expired and been taken by another message).
  return chain(ctx, s.get(LOCK_NS, id), (owner) => (owner === cur[0] ? chain(ctx, s.del(LOCK_NS, id), () => 1, -1) : 1), -1);
}

export default defineModule<HtableState>('htable', [
  { name: 'sht_lock', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => shtLock(ctx, str(t), str(k)) },
  { name: 'sht_unlock', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => shtUnlock(ctx, str(t), str(k)) },
  { name: 'sht_get', params: ['str', 'str'], ret: 'xval', fn: (ctx, t, k) => get(ctx, str(t), str(k), null) },
  { name: 'sht_gete', params: ['str', 'str'], ret: 'xval', fn: (ctx, t, k) => get(ctx, str(t), str(k), '') },
  { name: 'sht_getw', params: ['str', 'str'], ret: 'xval', fn: (ctx, t, k) => get(ctx, str(t), str(k), '<null>') },
  { name: 'sht_sets', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, k, v) => set(ctx, str(t), str(k), str(v)) },
  { name: 'sht_seti', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, t, k, v) => set(ctx, str(t), str(k), Number(v) || 0) },
  { name: 'sht_setxs', params: ['str', 'str', 'str', 'int'], ret: 'int', fn: (ctx, t, k, v, e) => set(ctx, str(t), str(k), str(v), Number(e) || 0) },
  // Kamailio 5.6.3 answers 0 when sht_setxi succeeds (and 1 for sht_setxs).
  { name: 'sht_setxi', params: ['str', 'str', 'int', 'int'], ret: 'int', fn: (ctx, t, k, v, e) => andThen(set(ctx, str(t), str(k), Number(v) || 0, Number(e) || 0), (r) => (r > 0 ? 0 : r)) },
  { name: 'sht_setex', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, t, k, e) => {
    const tb = table(ctx, str(t));
    if (!tb) return -1;
    const s = st(ctx).store;
    return chain(ctx, s.get(ns(tb), str(k)), (raw) => (raw === null ? -1 : chain(ctx, s.set(ns(tb), str(k), raw, Number(e) || 0), () => 1, -1)), -1);
  } },
  { name: 'sht_rm', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => remove(ctx, str(t), str(k)) },
  { name: 'sht_is_null', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => {
    const tb = st(ctx).tables.get(str(t));
    if (!tb) return 2;
    return chain(ctx, st(ctx).store.get(ns(tb), str(k)), (v) => (v !== null ? -1 : tb.initval !== null ? -2 : 1), -1);
  } },
  { name: 'sht_inc', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => incr(ctx, str(t), str(k), 1) },
  { name: 'sht_dec', params: ['str', 'str'], ret: 'int', fn: (ctx, t, k) => incr(ctx, str(t), str(k), -1) },
  { name: 'sht_match_name', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, op, v) => matchName(ctx, str(t), str(op), str(v)) },
  { name: 'sht_match_str_value', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, op, v) => matchValue(ctx, str(t), str(op), str(v)) },
  { name: 'sht_rm_name_re', params: ['str', 'str'], ret: 'int', fn: (ctx, t, re) => { const r = new RegExp(str(re)); return removeWhere(ctx, str(t), (k) => r.test(k)); } },
  { name: 'sht_rm_value_re', params: ['str', 'str'], ret: 'int', fn: (ctx, t, re) => { const r = new RegExp(str(re)); return removeWhere(ctx, str(t), (_k, v) => typeof v === 'string' && r.test(v)); } },
  // ht_rm_items in 5.6.3 knows "re" and "sw" only; any other operator is -1.
  { name: 'sht_rm_name', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, op, v) => { const m = rmMatcher(str(op), str(v)); return m ? removeWhere(ctx, str(t), (k) => m(k)) : -1; } },
  { name: 'sht_rm_value', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, op, v) => { const m = rmMatcher(str(op), str(v)); return m ? removeWhere(ctx, str(t), (_k, x) => typeof x === 'string' && m(x)) : -1; } },
  // ht_reset_by_name: 0 on success.
  { name: 'sht_reset', params: ['str'], ret: 'int', fn: (ctx, t) => { const tb = table(ctx, str(t)); return tb ? chain(ctx, st(ctx).store.clear(ns(tb)), () => 0, -1) : -1; } },
  { name: 'sht_iterator_start', params: ['str', 'str'], ret: 'int', fn: (ctx, iname, t) => {
    const tb = table(ctx, str(t));
    if (!tb) return -1;
    return chain(ctx, st(ctx).store.entries(ns(tb)), (items) => {
      const iterators = st(ctx).iterators;
      let m = iterators.get(ctx);
      if (!m) iterators.set(ctx, (m = new Map()));
      m.set(str(iname), { table: tb, items, pos: -1 });
      return 1;
    }, -1);
  } },
  { name: 'sht_iterator_next', params: ['str'], ret: 'int', fn: (ctx, iname) => {
    const it = iterator(ctx, str(iname));
    if (!it) return -1;
    it.pos++;
    return it.pos < it.items.length ? 1 : -1;
  } },
  { name: 'sht_iterator_end', params: ['str'], ret: 'int', fn: (ctx, iname) => (st(ctx).iterators.get(ctx)?.delete(str(iname)) ? 1 : -1) },
  { name: 'sht_iterator_rm', params: ['str'], ret: 'int', fn: (ctx, iname) => iterSet(ctx, str(iname), null) },
  { name: 'sht_iterator_sets', params: ['str', 'str'], ret: 'int', fn: (ctx, iname, v) => iterSet(ctx, str(iname), str(v)) },
  { name: 'sht_iterator_seti', params: ['str', 'int'], ret: 'int', fn: (ctx, iname, v) => iterSet(ctx, str(iname), Number(v) || 0) },
  { name: 'sht_iterator_setex', params: ['str', 'int'], ret: 'int', fn: (ctx, iname, e) => iterSet(ctx, str(iname), '', Number(e) || 0) },
], {
  key: HTABLE,
  init,
  rpc: (h) => ({
    'htable.listTables': () => [...h.tables.values()].map((t) => ({ name: t.name, dbtable: '', dbmode: 0, expire: t.autoexpire, updateexpire: t.updateexpire ? 1 : 0, size: 0, dmqreplicate: 0 })),
    'htable.dump': async (p) => {
      const t = h.tables.get(String(p[0] ?? ''));
      if (!t) throw new Error('No such htable');
      const es = await h.store.entries(ns(t));
      return es.map(([k, v]) => { const d = decode(v); return { entry: 0, size: 1, slot: [{ name: k, value: d, type: typeof d === 'number' ? 'int' : 'str' }] }; });
    },
    'htable.get': async (p) => {
      const t = h.tables.get(String(p[0] ?? ''));
      if (!t) throw new Error('No such htable');
      const v = decode(await h.store.get(ns(t), String(p[1] ?? '')));
      if (v === null) throw new Error('Key name doesn\'t exist in htable.');
      return { item: { name: String(p[1]), value: v } };
    },
    'htable.sets': async (p) => {
      const t = h.tables.get(String(p[0] ?? ''));
      if (!t) throw new Error('No such htable');
      await h.store.set(ns(t), String(p[1] ?? ''), encode(String(p[2] ?? '')), t.autoexpire);
      return 'ok';
    },
    'htable.seti': async (p) => {
      const t = h.tables.get(String(p[0] ?? ''));
      if (!t) throw new Error('No such htable');
      await h.store.set(ns(t), String(p[1] ?? ''), encode(Number(p[2]) || 0), t.autoexpire);
      return 'ok';
    },
    'htable.delete': async (p) => {
      const t = h.tables.get(String(p[0] ?? ''));
      if (!t) throw new Error('No such htable');
      await h.store.del(ns(t), String(p[1] ?? ''));
      return 'ok';
    },
    'htable.reload': (p) => {
      throw new Error(`htable ${String(p[0] ?? '')}: no database table to reload from (state lives in the configured backend)`);
    },
  }),
});
