/**
 * KSR.cfgutils (src/modules/cfgutils): random events, sleeps, a lock set, core_hash, $RANDOM.
 *
 * - rand_event / rand_set_prob / rand_reset_prob / rand_get_prob: one probability per instance
 *   (modparam `initial_probability`, default 10); rand_get_prob returns the percentage itself, so
 *   0 stops the script as in Kamailio.
 * - sleep(s) / usleep(us): only the calling script coroutine waits (Kamailio blocks the worker).
 * - lock / unlock / trylock: Kamailio's lock set of 2^`lock_set_size` slots (modparam, 0 = none:
 *   every call fails with an error, as there), a key mapped to its slot by core_case_hash, so two
 *   keys may share a slot as in Kamailio. A message that waits on a held slot yields; the slot is
 *   handed to waiters in order. Locks are per proxy instance (per worker process with --workers),
 *   where Kamailio's are shared by its processes. Locking a slot the same message already holds
 *   (a self-deadlock in Kamailio) fails with an error instead.
 * - core_hash(s1, s2, size): Kamailio's core_hash over s1 (and s2 when not empty) in a table of
 *   2^size slots (2 when size <= 0), plus one.
 * - check_route_exists / route_if_exists: kemi-proxy has no native route blocks (routes are Lua
 *   functions), so both return -1, as Kamailio does for a KEMI config without route blocks.
 * - pkg_status / shm_status / pkg_summary / shm_summary log the process memory use.
 * Left out (fail loudly): abort.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { coreCaseHash, coreHash } from '../src/lib/core-hash.js';
import { int, str } from './args.js';
import { defineModule, type KemiExport, type ModuleEnv } from './types.js';

/** Kamailio's KAM_RAND_MAX: $RANDOM is in [0, 2^31 - 1]. */
const RAND_MAX = 0x7fffffff;

interface Waiter {
  ctx: MsgContext;
  grant: () => void;
}

/** A lock-set slot: who holds it and who waits. */
interface Slot {
  holder: MsgContext | null;
  waiters: Waiter[];
}

export class CfgutilsState {
  probability: number;
  readonly slots: Slot[];

  constructor(
    readonly initialProbability: number,
    /** Number of lock slots (a power of two), 0 for no lock set. */
    readonly lockSlots: number,
  ) {
    this.probability = initialProbability;
    this.slots = Array.from({ length: lockSlots }, () => ({ holder: null, waiters: [] }));
  }
}

export const CFGUTILS = new ModuleKey<CfgutilsState>('cfgutils');
const st = (ctx: MsgContext): CfgutilsState => CFGUTILS.of(ctx);

function init(env: ModuleEnv): CfgutilsState {
  const p = env.params['initial_probability'];
  const prob = p === undefined ? 10 : int(p);
  if (prob < 0 || prob > 100) throw new Error(`cfgutils: invalid probability <${prob}>`);
  let bits = int(env.params['lock_set_size'] ?? 0);
  if (bits > 14) {
    env.log('warn', `cfgutils: lock set size too large (${bits}), making it 14`);
    bits = 14;
  }
  const state = new CfgutilsState(prob, bits > 0 ? 1 << bits : 0);
  env.pvs.register('RANDOM', { get: () => Math.floor(Math.random() * (RAND_MAX + 1)) });
  return state;
}

function randEvent(ctx: MsgContext): number {
  const p = st(ctx).probability;
  if (p <= 0) return -1;
  if (p >= 100) return 1;
  return Math.random() < p / 100 ? 1 : -1;
}

const MODES = ['lock', 'unlock', 'trylock'] as const;

function lockOp(ctx: MsgContext, key: string, mode: 0 | 1 | 2): number | Promise<number> {
  const s = st(ctx);
  if (s.lockSlots === 0) {
    ctx.proxy.log(ctx, 'err', `cfgutils: lock set not initialized (attempt to do op: ${mode} on: ${key}) - see param lock_set_size`);
    return -1;
  }
  const slot = s.slots[coreCaseHash(Buffer.from(key, 'latin1'), null, s.lockSlots)]!;
  if (mode === 1) {
    const next = slot.waiters.shift();
    slot.holder = next ? next.ctx : null;
    next?.grant();
    return 1;
  }
  if (slot.holder === null) {
    slot.holder = ctx;
    return 1;
  }
  if (mode === 2) return -1;
  if (slot.holder === ctx) {
    ctx.proxy.log(ctx, 'err', `cfgutils: ${MODES[mode]} on ${key}: this message holds that lock already (a deadlock in Kamailio)`);
    return -1;
  }
  return new Promise<number>((resolve) => slot.waiters.push({ ctx, grant: () => resolve(1) }));
}

function coreHashOf(s1: string, s2: string, bits: number): number {
  const size = bits <= 0 ? 2 : 2 ** Math.min(bits, 31);
  return coreHash(Buffer.from(s1, 'latin1'), s2 ? Buffer.from(s2, 'latin1') : null, size) + 1;
}

function sleepMs(ms: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(1), Math.max(0, ms)));
}

function memoryLog(ctx: MsgContext, what: string): number {
  const m = process.memoryUsage();
  ctx.proxy.log(ctx, 'info', `cfgutils ${what}: rss=${m.rss} heapTotal=${m.heapTotal} heapUsed=${m.heapUsed} external=${m.external} arrayBuffers=${m.arrayBuffers}`);
  return 1;
}

const exports: KemiExport[] = [
  { name: 'lock', params: ['str'], ret: 'int', fn: (ctx, k) => lockOp(ctx, str(k), 0) },
  { name: 'unlock', params: ['str'], ret: 'int', fn: (ctx, k) => lockOp(ctx, str(k), 1) },
  { name: 'trylock', params: ['str'], ret: 'int', fn: (ctx, k) => lockOp(ctx, str(k), 2) },
  { name: 'rand_set_prob', params: ['int'], ret: 'int', fn: (ctx, p) => {
    st(ctx).probability = int(p);
    return 1;
  } },
  { name: 'rand_reset_prob', params: [], ret: 'int', fn: (ctx) => {
    const s = st(ctx);
    s.probability = s.initialProbability;
    return 1;
  } },
  { name: 'rand_get_prob', params: [], ret: 'int', fn: (ctx) => st(ctx).probability },
  { name: 'rand_event', params: [], ret: 'int', fn: randEvent },
  { name: 'pkg_status', params: [], ret: 'int', fn: (ctx) => memoryLog(ctx, 'pkg_status') },
  { name: 'shm_status', params: [], ret: 'int', fn: (ctx) => memoryLog(ctx, 'shm_status') },
  { name: 'pkg_summary', params: [], ret: 'int', fn: (ctx) => memoryLog(ctx, 'pkg_summary') },
  { name: 'shm_summary', params: [], ret: 'int', fn: (ctx) => memoryLog(ctx, 'shm_summary') },
  { name: 'core_hash', params: ['str', 'str', 'int'], ret: 'int', fn: (_ctx, a, b, n) => coreHashOf(str(a), str(b), int(n)) },
  { name: 'sleep', params: ['int'], ret: 'int', fn: (_ctx, s) => sleepMs(int(s) * 1000) },
  { name: 'usleep', params: ['int'], ret: 'int', fn: (_ctx, us) => sleepMs(int(us) / 1000) },
  { name: 'check_route_exists', params: ['str'], ret: 'int', fn: () => -1 },
  { name: 'route_if_exists', params: ['str'], ret: 'int', fn: () => -1 },
];

export default defineModule<CfgutilsState>('cfgutils', exports, { key: CFGUTILS, init });
