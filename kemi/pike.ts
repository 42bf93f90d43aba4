/**
 * KSR.pike (src/modules/pike): flood detection per source IP, kept in this process as Kamailio
 * keeps it per instance. modparams as Kamailio: sampling_time_unit (2 s), reqs_density_per_unit
 * (30), remove_latency (120 s).
 *
 * Each IP counts its requests per sampling unit. An IP is blocked (-2 the first time, then -1) while its count in the
 * current unit, or in the previous one, exceeds reqs_density_per_unit; it is allowed (1) again
 * after a unit below the threshold. IPs unseen for remove_latency are forgotten.
 */
import type { MsgContext } from '../src/core/context.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

interface Node {
  unit: number;
  hits: number;
  prevHits: number;
  last: number;
  blocked: boolean;
}

let unitMs = 2000;
let density = 30;
let latencyMs = 120_000;
const nodes = new Map<string, Node>();
let sweeper: NodeJS.Timeout | null = null;

export function pikeCheck(ip: string, now = Date.now()): number {
  const unit = Math.floor(now / unitMs);
  let n = nodes.get(ip);
  if (!n) nodes.set(ip, (n = { unit, hits: 0, prevHits: 0, last: now, blocked: false }));
  if (n.unit !== unit) {
    n.prevHits = n.unit === unit - 1 ? n.hits : 0;
    n.hits = 0;
    n.unit = unit;
  }
  n.hits++;
  n.last = now;
  const flood = n.hits > density || n.prevHits > density;
  // -2 when the IP just became blocked, -1 while it stays blocked (Kamailio's codes).
  const code = flood ? (n.blocked ? -1 : -2) : 1;
  n.blocked = flood;
  return code;
}

function init(env: ModuleEnv): void {
  unitMs = (Number(env.params.sampling_time_unit ?? 2) || 2) * 1000;
  density = Number(env.params.reqs_density_per_unit ?? 30) || 30;
  latencyMs = (Number(env.params.remove_latency ?? 120) || 120) * 1000;
  nodes.clear();
  if (sweeper) clearInterval(sweeper);
  sweeper = setInterval(() => {
    const cutoff = Date.now() - latencyMs;
    for (const [ip, n] of nodes) if (n.last < cutoff) nodes.delete(ip);
  }, Math.min(latencyMs, 10_000));
  sweeper.unref();
}

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

export default defineModule('pike', [
  { name: 'pike_check_req', params: [], ret: 'int', fn: (ctx: MsgContext) => pikeCheck(ctx.rcv.srcAddress) },
  { name: 'pike_check_ip', params: ['str'], ret: 'int', fn: (_ctx, ip) => pikeCheck(str(ip)) },
], {
  init,
  close: () => {
    if (sweeper) clearInterval(sweeper);
    sweeper = null;
  },
});
