/**
 * Pseudo-variables of the routing state and the process (Kamailio's pv module and core):
 * flags in hex and by bit ($mF/$Mf, $sF/$Sf, $bF/$Bf), branches ($br, $bR, $ds, $sbranch),
 * $cnt, constants ($true, $null, $K(...), $sid, $rc/$retcode/$?), the environment ($env, $envn),
 * defines ($def, $defn), $_s(format), $version, $pp, and the clock ($Tb/$Tf/$TF/$Ts/$TS,
 * $time/$utime, $timef/$utimef, $TV). Per-process values (the static branch, the start time)
 * live in one CoreProcessState per registry, made by registerContextPvs.
 */
import type { Branch, MsgContext, PvValue } from '../context/msg-context.js';
import { expandFormat, type PvRegistry } from './registry.js';
import { strftime, type TimeParts, timeParts } from './strftime.js';
import { envVar, nameTable } from '../lib/name-table.js';
import { hex8 } from '../sip/branch.js';

/** $K(name): Kamailio's address family and protocol constants. */
const K_CONSTANTS = nameTable({ IPv4: 2, IPv6: 10, UDP: 1, TCP: 2, TLS: 3, SCTP: 4, WS: 5, WSS: 6 });

const ro = (get: (ctx: MsgContext, arg: string, index: number | null) => PvValue | null | undefined) => ({
  get: (ctx: MsgContext, arg: string, index: number | null): PvValue | null => get(ctx, arg, index) ?? null,
});

/** The Kamailio release whose KEMI and PVs kemi-proxy follows ($version(num)). */
export const KAMAILIO_VERSION = '5.6.3';

function flagBit(arg: string): number {
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 0 || n > 31) throw new Error(`invalid flag index '${arg}'`);
  return n;
}

const setBit = (v: number, bit: number, on: PvValue | null): number =>
  (on !== null && Number(on) !== 0 ? v | (1 << bit) : v & ~(1 << bit)) >>> 0;

/** Kamailio's print_dset without the trailing CRLF: `<uri>;q=0.5, <uri2>` of the branches. */
function dset(branches: readonly Branch[]): string | undefined {
  if (branches.length === 0) return undefined;
  return branches.map((b) => (b.q >= 0 ? `<${b.uri}>;q=${qText(b.q)}` : `<${b.uri}>`)).join(', ');
}

/** A q value as Kamailio prints it (0.5, 1, 0.25). */
function qText(q: number): string {
  return String(Math.round(q * 1000) / 1000);
}

function newBranch(uri: string): Branch {
  return { uri, dstUri: null, path: null, q: -1, flags: 0, socket: null, instance: null, ruid: null, location_ua: null };
}

/** What a registry keeps per process: Kamailio's static branch and start time. */
class CoreProcessState {
  readonly upSince = Math.floor(Date.now() / 1000);
  sbranch: Branch | null = null;
}

/** The time a message was first looked at by a time PV ($Ts, $TV(s), $time...): msg_set_time. */
function msgTime(ctx: MsgContext): { sec: number; usec: number } {
  const key = 'pv:tval';
  const hit = ctx.moduleData.get(key) as { sec: number; usec: number } | undefined;
  if (hit) return hit;
  const ms = Date.now();
  const t = { sec: Math.floor(ms / 1000), usec: (ms % 1000) * 1000 };
  ctx.moduleData.set(key, t);
  return t;
}

/** ctime() without its newline: `Fri Dec  4 14:10:03 2026` (local time). */
function ctime(sec: number): string {
  return strftime('%a %b %e %H:%M:%S %Y', timeParts(sec, false));
}

function timeField(p: TimeParts, name: string): number | undefined {
  switch (name) {
    case 'sec': return p.sec;
    case 'min': return p.min;
    case 'hour': return p.hour;
    case 'mday': return p.mday;
    case 'mon': return p.mon + 1;
    case 'year': return p.year;
    case 'wday': return p.wday + 1;
    case 'yday': return p.yday + 1;
    case 'isdst': return p.isdst;
    default: return undefined;
  }
}

function envInt(v: string): number {
  const m = /^\s*([+-]?\d+)/.exec(v);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

export interface ContextPvOptions {
  /** Kamailio's `#!define`s ($def, $defn). */
  defines?: ReadonlyMap<string, string>;
}

export function registerContextPvs(reg: PvRegistry, opts: ContextPvOptions = {}): void {
  const pv = reg.register.bind(reg);
  const proc = new CoreProcessState();
  const defines = opts.defines ?? new Map<string, string>();
  // Flags: the value, 8 hex digits, one bit.
  pv('mF', { get: (c) => hex8(c.flags), set: (c, _a, v) => void (c.flags = Number(v ?? 0) >>> 0) });
  pv('Mf', { get: (c, a) => ((c.flags >>> flagBit(a)) & 1), set: (c, a, v) => void (c.flags = setBit(c.flags, flagBit(a), v)) });
  pv('sF', { get: (c) => hex8(c.sflags), set: (c, _a, v) => void (c.sflags = Number(v ?? 0) >>> 0) });
  pv('Sf', { get: (c, a) => ((c.sflags >>> flagBit(a)) & 1), set: (c, a, v) => void (c.sflags = setBit(c.sflags, flagBit(a), v)) });
  pv('bF', { get: (c) => hex8(c.bflags[0] ?? 0), set: (c, _a, v) => void (c.bflags[0] = Number(v ?? 0) >>> 0) });
  pv('Bf', {
    get: (c, a) => (((c.bflags[0] ?? 0) >>> flagBit(a)) & 1),
    set: (c, a, v) => void (c.bflags[0] = setBit(c.bflags[0] ?? 0, flagBit(a), v)),
  });
  // Branches: $br the first appended one (set: rewrites it, or appends one), $bR and $ds all.
  pv('br', {
    get: (c) => (c.msg.isRequest ? c.branches[0]?.uri ?? null : null),
    set: (c, _a, v) => {
      if (v === null || v === '') throw new Error('$br cannot be set to $null');
      if (c.branches[0]) c.branches[0].uri = String(v);
      else c.branches.push(newBranch(String(v)));
    },
  });
  pv('bR', ro((c) => (c.msg.isRequest ? c.branches.map((b) => (b.q >= 0 ? `${b.uri};q=${qText(b.q)}` : b.uri)).join(', ') || undefined : undefined)));
  pv('ds', ro((c) => dset(c.branches)));
  // $sbranch(attr): Kamailio's static branch, kept per process across messages.
  pv('sbranch', {
    get: (_c, attr) => {
      const b = proc.sbranch;
      if (!b) return null;
      switch (attr) {
        case 'uri': return b.uri || null;
        case 'dst_uri': return b.dstUri;
        case 'path': return b.path;
        case 'q': return b.q < 0 ? null : Math.round(b.q * 1000);
        case 'send_socket': return b.socket;
        case 'flags': return b.flags;
        case 'ruid': return b.ruid;
        case 'instance': return b.instance;
        case 'location_ua': return b.location_ua;
        default: throw new Error(`$sbranch(${attr}): unknown attribute`);
      }
    },
    set: (_c, attr, v) => {
      const b = proc.sbranch ?? (proc.sbranch = newBranch(''));
      const s = v === null ? null : String(v);
      switch (attr) {
        case 'uri': b.uri = s ?? ''; break;
        case 'dst_uri': b.dstUri = s; break;
        case 'path': b.path = s; break;
        case 'q': b.q = v === null ? -1 : Number(v) / 1000; break;
        case 'send_socket': b.socket = s; break;
        case 'flags': b.flags = Number(v ?? 0) >>> 0; break;
        case 'ruid': b.ruid = s; break;
        case 'instance': b.instance = s; break;
        case 'location_ua': b.location_ua = s; break;
        default: throw new Error(`$sbranch(${attr}): unknown attribute`);
      }
    },
  });
  // $cnt($avp(x)) / $cnt($xavp(x)) / $cnt($xavp(x[i]=>f)): how many values.
  pv('cnt', ro((c, arg) => {
    const m = /^\$\(?(avp|xavp)\((.*)\)\)?$/.exec(arg.trim());
    if (!m) return undefined;
    if (m[1] === 'avp') return c.avps.get(m[2]!)?.length ?? 0;
    const [root, field] = m[2]!.split('=>') as [string, string | undefined];
    const rm = /^(.*?)(?:\[(-?\d+|\*)\])?$/.exec(root)!;
    const items = c.xavps.get(rm[1]!) ?? [];
    const sel = rm[2] === undefined || rm[2] === '*' ? items : [items[Number(rm[2]) < 0 ? items.length + Number(rm[2]) : Number(rm[2])]].filter((x) => x);
    if (field === undefined) return rm[2] === undefined || rm[2] === '*' ? items.length : sel.length;
    const fm = /^(.*?)(?:\[(-?\d+|\*)\])?$/.exec(field)!;
    let n = 0;
    for (const it of sel) {
      const vs = it!.get(fm[1]!) ?? [];
      if (fm[2] === undefined || fm[2] === '*') n += vs.length;
      else if (vs[Number(fm[2]) < 0 ? vs.length + Number(fm[2]) : Number(fm[2])] !== undefined) n++;
    }
    return n;
  }));
  // Constants and process values.
  pv('true', ro(() => 1));
  pv('null', ro(() => null));
  // The return code of the last action: KEMI scripts never set it, so 0 as on Kamailio.
  for (const n of ['rc', 'retcode', '?']) pv(n, ro(() => 0));
  pv('sid', ro(() => 0));
  pv('pp', ro(() => process.pid));
  pv('K', ro((_c, arg) => K_CONSTANTS[arg] ?? 2));
  pv('env', ro((_c, name) => envVar(name)));
  pv('envn', ro((_c, name) => {
    const v = envVar(name);
    return v === undefined ? undefined : envInt(v);
  }));
  pv('def', ro((_c, name) => defines.get(name)));
  pv('defn', ro((_c, name) => {
    const v = defines.get(name);
    return v === undefined ? 0 : envInt(v);
  }));
  pv('version', ro((_c, arg) => {
    switch (arg) {
      case 'num': return KAMAILIO_VERSION;
      case 'full': return `kemi-proxy (kamailio ${KAMAILIO_VERSION} KEMI)`;
      case 'hash': return 'unknown';
      default: return undefined;
    }
  }));
  pv('_s', ro((c, fmt) => expandFormat(c, fmt)));
  pv('err.class', ro(() => null));
  for (const n of ['level', 'info', 'rcode', 'rreason']) pv(`err.${n}`, ro(() => null));
  // The clock: the message's time ($Ts, $Tf, $time, $TV(s|u)) is fixed at its first read.
  pv('Tb', ro(() => proc.upSince));
  pv('Ts', ro((c) => msgTime(c).sec));
  pv('Tf', ro((c) => ctime(msgTime(c).sec)));
  pv('TS', ro(() => Math.floor(Date.now() / 1000)));
  pv('TF', ro(() => ctime(Math.floor(Date.now() / 1000))));
  pv('time', ro((c, name) => timeField(timeParts(msgTime(c).sec, false), name)));
  pv('utime', ro((c, name) => timeField(timeParts(msgTime(c).sec, true), name)));
  pv('timef', ro((c, fmt) => strftime(fmt, timeParts(msgTime(c).sec, false))));
  pv('utimef', ro((c, fmt) => strftime(fmt, timeParts(msgTime(c).sec, true))));
  let lastNow = { sec: 0, usec: 0 };
  const now = (): { sec: number; usec: number } => {
    const ns = process.hrtime.bigint();
    const ms = Date.now();
    return { sec: Math.floor(ms / 1000), usec: (ms % 1000) * 1000 + Number((ns / 1000n) % 1000n) };
  };
  pv('TV', ro((c, name) => {
    switch (name) {
      case 's': return msgTime(c).sec;
      case 'u': return msgTime(c).usec;
      case 'sn': lastNow = now(); return lastNow.sec;
      case 'un': return lastNow.usec;
      case 'Sn': {
        const t = now();
        return `${t.sec}.${String(t.usec).padStart(6, '0')}`;
      }
      case 'Fn': {
        const t = now();
        return `${strftime('%Y-%m-%d %H:%M:%S', timeParts(t.sec, false))}.${String(t.usec).padStart(6, '0')}`;
      }
      default: return undefined;
    }
  }));
}
