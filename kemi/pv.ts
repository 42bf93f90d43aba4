/**
 * KSR.pv: reading and writing pseudo-variables (src/core/kemi.c `_sr_kemi_pv`). Null conventions:
 * get -> nil, gete -> "", getw -> "<null>", getvn/getvs -> the given default. A name that is no
 * PV reads as null and sets fail (false), with an error logged once per name, as Kamailio logs
 * "invalid pv" and goes on; a write the PV refuses (read-only) answers false with an error logged.
 */
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import { getPvAwaitable, PVS, PvSetError, setPvAwaitable, UnknownPvError } from '../src/pv/registry.js';
import { andThen } from '../src/state/store.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

type Maybe<T> = T | Promise<T>;
const then = <T, R>(v: Maybe<T>, f: (x: T) => R): Maybe<R> => andThen(v, f);

/** A PV's value; one kept in the shared state ($sht on Redis) may take a round trip. */
function get(ctx: MsgContext, spec: KemiArg): Maybe<PvValue | null> {
  try {
    return getPvAwaitable(ctx, str(spec));
  } catch (e) {
    if (!(e instanceof UnknownPvError)) throw e;
    invalid(ctx, e);
    return null;
  }
}

function set(ctx: MsgContext, spec: KemiArg, v: PvValue | null): Maybe<boolean> {
  try {
    return then(setPvAwaitable(ctx, str(spec), v), () => true);
  } catch (e) {
    if (e instanceof PvSetError) {
      // As Kamailio's pv_sets/pv_seti: the error is logged and the call answers false.
      ctx.proxy.log(ctx, 'err', `KSR.pv: ${e.message}`);
      return false;
    }
    if (!(e instanceof UnknownPvError)) throw e;
    invalid(ctx, e);
    return false;
  }
}

function invalid(ctx: MsgContext, e: UnknownPvError): void {
  if (PVS.of(ctx).firstReport(e.spec)) ctx.proxy.log(ctx, 'err', `KSR.pv: ${e.message}`);
}

export default defineModule('pv', [
  { name: 'get', params: ['str'], ret: 'xval', fn: (ctx, s) => get(ctx, s) },
  { name: 'gete', params: ['str'], ret: 'xval', fn: (ctx, s) => then(get(ctx, s), (v) => v ?? '') },
  { name: 'getw', params: ['str'], ret: 'xval', fn: (ctx, s) => then(get(ctx, s), (v) => v ?? '<null>') },
  { name: 'geti', params: ['str'], ret: 'int', fn: (ctx, s) => then(get(ctx, s), (v) => (typeof v === 'number' ? v : Number.parseInt(String(v ?? '0'), 10) || 0)) },
  { name: 'getvn', params: ['str', 'int'], ret: 'xval', fn: (ctx, s, d) => then(get(ctx, s), (v) => v ?? Number(d)) },
  { name: 'getvs', params: ['str', 'str'], ret: 'xval', fn: (ctx, s, d) => then(get(ctx, s), (v) => v ?? str(d)) },
  { name: 'seti', params: ['str', 'int'], ret: 'bool', fn: (ctx, s, v) => set(ctx, s, Number(v)) },
  { name: 'sets', params: ['str', 'str'], ret: 'bool', fn: (ctx, s, v) => set(ctx, s, str(v)) },
  { name: 'unset', params: ['str'], ret: 'bool', fn: (ctx, s) => set(ctx, s, null) },
  { name: 'is_null', params: ['str'], ret: 'bool', fn: (ctx, s) => {
    const v = get(ctx, s);
    return v instanceof Promise ? v.then((x) => x === null) : v === null;
  } },
]);
