/**
 * KSR.pv: reading and writing pseudo-variables (src/core/kemi.c `_sr_kemi_pv`). Null conventions:
 * get -> nil, gete -> "", getw -> "<null>", getvn/getvs -> the given default.
 */
import type { MsgContext, PvValue } from '../src/core/context.js';
import { registerCorePvs } from '../src/pv/core-pvs.js';
import { getPv, setPv } from '../src/pv/registry.js';
import { defineModule, type KemiArg } from './types.js';

registerCorePvs();

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

function get(ctx: MsgContext, spec: KemiArg): PvValue | null {
  return getPv(ctx, str(spec));
}

export default defineModule('pv', [
  { name: 'get', params: ['str'], ret: 'xval', fn: (ctx, s) => get(ctx, s) },
  { name: 'gete', params: ['str'], ret: 'xval', fn: (ctx, s) => get(ctx, s) ?? '' },
  { name: 'getw', params: ['str'], ret: 'xval', fn: (ctx, s) => get(ctx, s) ?? '<null>' },
  { name: 'geti', params: ['str'], ret: 'int', fn: (ctx, s) => {
    const v = get(ctx, s);
    return typeof v === 'number' ? v : Number.parseInt(String(v ?? '0'), 10) || 0;
  } },
  { name: 'getvn', params: ['str', 'int'], ret: 'xval', fn: (ctx, s, d) => get(ctx, s) ?? Number(d) },
  { name: 'getvs', params: ['str', 'str'], ret: 'xval', fn: (ctx, s, d) => get(ctx, s) ?? str(d) },
  { name: 'seti', params: ['str', 'int'], ret: 'bool', fn: (ctx, s, v) => (setPv(ctx, str(s), Number(v)), true) },
  { name: 'sets', params: ['str', 'str'], ret: 'bool', fn: (ctx, s, v) => (setPv(ctx, str(s), str(v)), true) },
  { name: 'unset', params: ['str'], ret: 'bool', fn: (ctx, s) => (setPv(ctx, str(s), null), true) },
  { name: 'is_null', params: ['str'], ret: 'bool', fn: (ctx, s) => get(ctx, s) === null },
]);
