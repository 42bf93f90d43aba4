/**
 * KSR.kx (Kamailio's kemix module): direct getters for message and network data. `get_*` give nil
 * when absent, `gete_*` "", `getw_*` "<null>".
 *
 * get_def / get_defn / ifdef / ifndef read the instance's defines (config key `defines`, Kamailio's
 * `#!define NAME value`), with kemix's answers: get_def of an unknown name "" (not nil), get_defn
 * the leading integer (str2sint: optional sign, digits up to the first other character, clamped to
 * 32 bits; 0 when there is none or the name is unknown), ifdef / ifndef a Lua boolean.
 */
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import { parseUri, type SipUri } from '../src/sip/index.js';
import { getPv } from '../src/pv/registry.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiExport } from './types.js';
import { envVar } from '../src/lib/name-table.js';
import { PROTO_IDS } from '../src/transport/types.js';

/** One instance's kx: the config's defines. */
export interface KxState {
  readonly defines: ReadonlyMap<string, string>;
}

export const KX = new ModuleKey<KxState>('kx');

function st(ctx: MsgContext): KxState {
  return KX.of(ctx);
}

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** ki_kx_get_defn: str2sint's partial value (sign kept), as Kamailio 5.6.3 answers it. */
export function defineNumber(v: string | undefined): number {
  if (v === undefined) return 0;
  const m = /^([+-]?)(\d*)/.exec(v)!;
  if (!m[2]) return 0;
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  return Math.min(INT_MAX, Math.max(INT_MIN, n));
}

function safeUri(s: string | undefined | null): SipUri | null {
  if (!s) return null;
  try {
    return parseUri(s);
  } catch {
    return null;
  }
}

function nameAddr(ctx: MsgContext, which: 'from' | 'to'): string | null {
  try {
    return ctx.msg[which].uri;
  } catch {
    return null;
  }
}

function pvOrNull(ctx: MsgContext, spec: string): PvValue | null {
  try {
    return getPv(ctx, spec);
  } catch {
    return null;
  }
}

/** One getter in its three flavours: get_x (nil), gete_x (""), getw_x ("<null>"). */
function triple(name: string, get: (ctx: MsgContext) => PvValue | null | undefined, only?: ('get' | 'gete' | 'getw')[]): KemiExport[] {
  const kinds = only ?? ['get', 'gete', 'getw'];
  return kinds.map((k) => ({
    name: `${k}_${name}`,
    params: [],
    ret: 'xval',
    fn: (ctx: MsgContext) => {
      const v = get(ctx) ?? null;
      if (v !== null) return v;
      return k === 'get' ? null : k === 'gete' ? '' : '<null>';
    },
  }));
}

const ruri = (ctx: MsgContext): SipUri | null => (ctx.msg.isRequest ? safeUri(ctx.msg.ruri) : null);
const sockName = (ctx: MsgContext): string => `${ctx.rcv.proto}:${ctx.rcv.family === 6 ? `[${ctx.rcv.localAddress}]` : ctx.rcv.localAddress}:${ctx.rcv.localPort}`;

const exports: KemiExport[] = [
  ...triple('ruri', (c) => (c.msg.isRequest ? c.msg.ruri : null), ['get']),
  ...triple('ruser', (c) => ruri(c)?.user),
  ...triple('rhost', (c) => ruri(c)?.host),
  ...triple('ouri', (c) => (c.msg.isRequest ? c.msg.originalRuri : null), ['get']),
  ...triple('furi', (c) => nameAddr(c, 'from'), ['get']),
  ...triple('fuser', (c) => safeUri(nameAddr(c, 'from'))?.user),
  ...triple('fhost', (c) => safeUri(nameAddr(c, 'from'))?.host),
  ...triple('turi', (c) => nameAddr(c, 'to'), ['get']),
  ...triple('tuser', (c) => safeUri(nameAddr(c, 'to'))?.user),
  ...triple('thost', (c) => safeUri(nameAddr(c, 'to'))?.host),
  ...triple('duri', (c) => c.dstUri),
  ...triple('cturi', (c) => {
    try {
      return c.msg.contacts()[0]?.uri;
    } catch {
      return null;
    }
  }),
  ...triple('nhuri', (c) => c.dstUri ?? (c.msg.isRequest ? c.msg.ruri : null), ['get']),
  ...triple('srcuri', (c) => pvOrNull(c, '$su'), ['get']),
  ...triple('srcaddr_sock', (c) => `${c.rcv.proto}:${c.rcv.family === 6 ? `[${c.rcv.srcAddress}]` : c.rcv.srcAddress}:${c.rcv.srcPort}`, ['get']),
  ...triple('ua', (c) => c.msg.header('user-agent')),
  { name: 'get_srcip', params: [], ret: 'xval', fn: (c) => c.rcv.srcAddress },
  { name: 'get_srcport', params: [], ret: 'xval', fn: (c) => c.rcv.srcPort },
  ...triple('rcvip', (c) => c.rcv.localAddress, ['get']),
  ...triple('rcvport', (c) => c.rcv.localPort, ['get']),
  ...triple('rcv_sock_name', (c) => sockName(c), ['get']),
  ...triple('rcvadvip', (c) => c.advertisedAddress ?? c.rcv.localAddress, ['get']),
  ...triple('rcvadvport', (c) => c.advertisedPort ?? c.rcv.localPort, ['get']),
  ...triple('rcvaddr_sock', (c) => sockName(c), ['get']),
  ...triple('send_sock', (c) => c.forcedSocket, ['get']),
  ...triple('send_sock_name', (c) => c.forcedSocket, ['get']),
  { name: 'get_send_sock_port', params: [], ret: 'int', fn: (c) => Number(/:(\d+)$/.exec(c.forcedSocket ?? '')?.[1] ?? 0) },
  ...triple('proto', (c) => c.rcv.proto, ['get']),
  { name: 'get_protoid', params: [], ret: 'int', fn: (c) => PROTO_IDS[c.rcv.proto] ?? 0 },
  ...triple('au', (c) => pvOrNull(c, '$au')),
  ...triple('method', (c) => {
    try {
      return c.msg.method;
    } catch {
      return null;
    }
  }, ['get']),
  { name: 'get_status', params: [], ret: 'int', fn: (c) => (c.msg.isRequest ? -1 : c.msg.status) },
  { name: 'gets_status', params: [], ret: 'xval', fn: (c) => (c.msg.isRequest ? null : String(c.msg.status)) },
  ...triple('body', (c) => (c.msg.body.length > 0 ? c.msg.body.toString('latin1') : null)),
  { name: 'get_bodylen', params: [], ret: 'int', fn: (c) => c.msg.body.length },
  { name: 'get_timestamp', params: [], ret: 'int', fn: () => Math.floor(Date.now() / 1000) },
  ...triple('callid', (c) => {
    try {
      return c.msg.callId;
    } catch {
      return null;
    }
  }, ['get']),
  { name: 'get_conid', params: [], ret: 'int', fn: (c) => c.rcv.connId ?? -1 },
  ...triple('msgbuf', (c) => c.msg.buf.toString('latin1'), ['get']),
  { name: 'get_msglen', params: [], ret: 'int', fn: (c) => c.msg.buf.length },
  { name: 'get_msgtype', params: [], ret: 'int', fn: (c) => (c.msg.isRequest ? 1 : 2) },
  // Kamailio answers an empty string for a name that is not defined.
  { name: 'get_def', params: ['str'], ret: 'xval', fn: (c, n) => st(c).defines.get(String(n ?? '')) ?? '' },
  { name: 'get_defn', params: ['str'], ret: 'int', fn: (c, n) => defineNumber(st(c).defines.get(String(n ?? ''))) },
  { name: 'ifdef', params: ['str'], ret: 'bool', fn: (c, n) => st(c).defines.has(String(n ?? '')) },
  { name: 'ifndef', params: ['str'], ret: 'bool', fn: (c, n) => !st(c).defines.has(String(n ?? '')) },
  { name: 'get_env', params: ['str'], ret: 'xval', fn: (_c, n) => envVar(String(n ?? '')) ?? null },
  { name: 'get_envn', params: ['str'], ret: 'int', fn: (_c, n) => Number.parseInt(envVar(String(n ?? '')) ?? '0', 10) || 0 },
];

export default defineModule<KxState>('kx', exports, { key: KX, init: (env) => ({ defines: env.defines }) });
