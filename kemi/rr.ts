/**
 * KSR.rr: record-routing and loose routing (src/modules/rr), over src/rr/record-route.ts.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { looseRoute, RR, rrSettings, rrState, type RrSettings } from '../src/rr/record-route.js';
import { defineModule, type KemiArg, type KemiExport } from './types.js';
import { str } from './args.js';

function recordRoute(ctx: MsgContext, params: string): number {
  if (!ctx.msg.isRequest) return -1;
  const st = rrState(ctx);
  // A second record_route for the same message is refused, except in a branch route.
  if (st.added && ctx.route !== 'branch') return -1;
  st.added = true;
  if (params) st.params += params.startsWith(';') ? params : `;${params}`;
  return 1;
}

function preset(ctx: MsgContext, addrs: string[]): number {
  if (!ctx.msg.isRequest || addrs.length === 0 || addrs.some((a) => !a)) return -1;
  const st = rrState(ctx);
  if (st.added && ctx.route !== 'branch') return -1;
  st.added = true;
  st.preset = addrs;
  return 1;
}

const exports: KemiExport[] = [
  { name: 'record_route', params: [], ret: 'int', fn: (ctx) => recordRoute(ctx, '') },
  { name: 'record_route_params', params: ['str'], ret: 'int', fn: (ctx, p) => recordRoute(ctx, str(p)) },
  { name: 'record_route_preset', params: ['str', 'str'], ret: 'int', fn: (ctx, a, b) => preset(ctx, str(b) ? [str(a), str(b)] : [str(a)]) },
  { name: 'record_route_preset_one', params: ['str'], ret: 'int', fn: (ctx, a) => preset(ctx, [str(a)]) },
  { name: 'record_route_advertised_address', params: ['str'], ret: 'int', fn: (ctx, a) => preset(ctx, [str(a)]) },
  { name: 'remove_record_route', params: [], ret: 'int', fn: (ctx) => {
    const st = rrState(ctx);
    st.added = false;
    st.params = '';
    st.preset = null;
    return 1;
  } },
  { name: 'add_rr_param', params: ['str'], ret: 'int', fn: (ctx, p) => {
    const s = str(p);
    if (!s) return -1;
    rrState(ctx).params += s.startsWith(';') ? s : `;${s}`;
    return 1;
  } },
  { name: 'loose_route', params: [], ret: 'int', fn: (ctx) => looseRoute(ctx) },
  { name: 'loose_route_mode', params: ['int'], ret: 'int', fn: (ctx) => looseRoute(ctx) },
  { name: 'loose_route_preloaded', params: [], ret: 'int', fn: (ctx) => (looseRoute(ctx) === -3 ? 1 : -1) },
  { name: 'check_route_param', params: ['str'], ret: 'int', fn: (ctx, re) => {
    const p = rrState(ctx).routeParams;
    if (p === null) return -1;
    try {
      return new RegExp(str(re)).test(p) ? 1 : -1;
    } catch {
      return -1;
    }
  } },
  { name: 'is_direction', params: ['str'], ret: 'int', fn: (ctx, dir) => {
    const d = str(dir);
    if (d !== 'downstream' && d !== 'upstream') return -6;
    const ftag = rrState(ctx).ftag;
    // As Kamailio's is_direction: without an ftag the request counts as downstream.
    if (ftag === null || ftag === '') return d === 'downstream' ? 1 : -1;
    let fromTag: string | undefined;
    try {
      fromTag = ctx.msg.from.tag;
    } catch {
      return -1;
    }
    const downstream = fromTag === ftag;
    return (d === 'downstream') === downstream ? 1 : -1;
  } },
  { name: 'next_hop_route', params: [], ret: 'int', fn: (ctx) => (ctx.msg.hasHeader('route') ? 1 : -1) },
];

export default defineModule<RrSettings>('rr', exports, { key: RR, init: (env) => rrSettings(env.params) });
