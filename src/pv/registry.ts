/**
 * Pseudo-variables ($ru, $hdr(name), $var(x)...): a registry of names with getters and setters,
 * spec strings parsed once and cached. Modules register their own ($T_* by tm, $au by auth...).
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { ModuleKey } from '../context/module-state.js';
import { compileTransform, splitTransforms, type Transform } from './transforms.js';

/** A getter answers a value, or null for Kamailio's $null. */
export interface PvHandler {
  get(ctx: MsgContext, arg: string, index: number | null): PvValue | null;
  set?(ctx: MsgContext, arg: string, value: PvValue | null, index: number | null): void;
  /**
   * PVs whose value lives in the shared state ($sht with Redis): KSR.pv reads and writes them
   * through these, and the script's coroutine waits for the answer. Sync users (xlog formats)
   * keep calling get/set.
   */
  getAsync?(ctx: MsgContext, arg: string, index: number | null): PvValue | null | Promise<PvValue | null>;
  setAsync?(ctx: MsgContext, arg: string, value: PvValue | null, index: number | null): void | Promise<void>;
}

export interface PvSpec {
  name: string;
  /** Inner name: `x` of `$var(x)`. */
  arg: string;
  /** `$(avp(x)[1])` index, if any. */
  index: number | null;
  handler: PvHandler;
  /** `$(ru{uri.user}{s.len})` transformations, applied in order to the value read. */
  transforms: Transform[] | null;
}

/**
 * One proxy instance's pseudo-variables: core PVs and those of its loaded modules, registered
 * explicitly (registerCorePvs, a module's init), with parsed specs cached.
 */
export class PvRegistry {
  private readonly handlers = new Map<string, PvHandler>();
  private readonly specCache = new Map<string, PvSpec>();
  private readonly reported = new Set<string>();

  /** True the first time a bad spec is reported (scripts log it once, not per message). */
  firstReport(spec: string): boolean {
    if (this.reported.has(spec) || this.reported.size > 1000) return false;
    this.reported.add(spec);
    return true;
  }

  register(name: string, h: PvHandler): void {
    this.handlers.set(name, h);
    this.specCache.clear();
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /** The handler registered under a name (aliases such as $ruri share $ru's). */
  handler(name: string): PvHandler | undefined {
    return this.handlers.get(name);
  }

  /** Parses `$name`, `$name(arg)`, `$(name(arg)[i])`; throws naming an unknown PV. */
  parse(spec: string): PvSpec {
    const hit = this.specCache.get(spec);
    if (hit) return hit;
    const out = parseSpec(spec, this.handlers);
    if (this.specCache.size > 10_000) this.specCache.clear();
    this.specCache.set(spec, out);
    return out;
  }
}

/** A spec that names no registered pseudo-variable (or does not parse as one). */
export class UnknownPvError extends Error {
  constructor(readonly spec: string, why = 'unknown pseudo-variable') {
    super(`${why} '${spec}'`);
  }
}

/**
 * A write the PV refuses (read-only PV, a transformation, a branch that does not exist): KSR.pv
 * answers false and logs, as Kamailio's pv_set_spec_value failing.
 */
export class PvSetError extends Error {}

/** Where an instance keeps its registry (Kamailio's pv module owns the PV table). */
export const PVS = new ModuleKey<PvRegistry>('pv:registry');

/** Parses a spec against the registry of the message's instance. */
export function parsePvSpec(ctx: MsgContext, spec: string): PvSpec {
  return PVS.of(ctx).parse(spec);
}

/** The `[*]` index (Kamailio's PV_IDX_ALL): every value. */
export const PV_IDX_ALL = -0x7fffffff;

function parseSpec(spec: string, handlers: ReadonlyMap<string, PvHandler>): PvSpec {
  let s = spec.trim();
  if (!s.startsWith('$')) throw new UnknownPvError(spec, 'invalid pseudo-variable');
  s = s.slice(1);
  let index: number | null = null;
  let transforms: Transform[] | null = null;
  if (s.startsWith('(') && s.endsWith(')')) {
    s = s.slice(1, -1);
    // Transformations follow the name, its argument and index: the first '{' outside parentheses.
    let depth = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === '{' && depth === 0) {
        transforms = splitTransforms(s.slice(i)).map((t) => compileTransform(t, (pv) => (ctx) => {
          const v = getPv(ctx, pv);
          return v === null ? '' : String(v);
        }));
        s = s.slice(0, i);
        break;
      }
    }
    const im = /^(.*)\[(-?\d+|\*)\]$/.exec(s);
    if (im) {
      s = im[1]!;
      index = im[2] === '*' ? PV_IDX_ALL : Number(im[2]);
    }
  }
  let name = s;
  let arg = '';
  const open = s.indexOf('(');
  if (open >= 0) {
    if (!s.endsWith(')')) throw new UnknownPvError(spec, 'invalid pseudo-variable');
    name = s.slice(0, open);
    arg = s.slice(open + 1, -1);
  }
  const handler = handlers.get(name);
  if (!handler) throw new UnknownPvError(spec);
  return { name, arg, index, handler, transforms };
}

export function getPv(ctx: MsgContext, spec: string): PvValue | null {
  const p = parsePvSpec(ctx, spec);
  let v = p.handler.get(ctx, p.arg, p.index);
  if (p.transforms) for (const t of p.transforms) v = t(ctx, v);
  return v;
}

/** getPv for KSR.pv: a PV kept in the shared state may answer with a Promise. */
export function getPvAwaitable(ctx: MsgContext, spec: string): PvValue | null | Promise<PvValue | null> {
  const p = parsePvSpec(ctx, spec);
  const tr = p.transforms;
  if (!p.handler.getAsync) {
    let v = p.handler.get(ctx, p.arg, p.index);
    if (tr) for (const t of tr) v = t(ctx, v);
    return v;
  }
  const r = p.handler.getAsync(ctx, p.arg, p.index);
  if (!tr) return r;
  const apply = (v: PvValue | null): PvValue | null => {
    for (const t of tr) v = t(ctx, v);
    return v;
  };
  return r instanceof Promise ? r.then(apply) : apply(r);
}

/** setPv for KSR.pv: waits for a PV kept in the shared state to be written. */
export function setPvAwaitable(ctx: MsgContext, spec: string, value: PvValue | null): void | Promise<void> {
  const p = parsePvSpec(ctx, spec);
  if (p.handler.setAsync && !p.transforms) return p.handler.setAsync(ctx, p.arg, value, p.index);
  if (p.transforms) throw new PvSetError(`pseudo-variable '${spec}' with transformations cannot be assigned`);
  if (!p.handler.set) throw new PvSetError(`pseudo-variable '${spec}' is read-only`);
  p.handler.set(ctx, p.arg, value, p.index);
}

export function setPv(ctx: MsgContext, spec: string, value: PvValue | null): void {
  const p = parsePvSpec(ctx, spec);
  if (p.transforms) throw new PvSetError(`pseudo-variable '${spec}' with transformations cannot be assigned`);
  if (!p.handler.set) throw new PvSetError(`pseudo-variable '${spec}' is read-only`);
  p.handler.set(ctx, p.arg, value, p.index);
}

/**
 * Expands `$pv` references in a format string (xlog style). `$$` is a literal `$`; text that is
 * not a known PV stays as written. PV names are read as Kamailio's pv_parse_format reads them:
 * letters, digits, `_`, `.` and `?`, then an optional `(inner name)` (so `$ci.x` names the PV
 * `ci.x`, which does not exist).
 */
export function expandFormat(ctx: MsgContext, fmt: string): string {
  return expand(ctx, fmt, false) ?? fmt;
}

/**
 * As Kamailio's pv_parse_format + pv_printf_s (xlog): null when an element after a `$` is not a
 * known PV (`$ru.end`, `$ci.`, `$nosuch`, a lone `$`), for the caller to fail as xlog does.
 */
export function expandFormatStrict(ctx: MsgContext, fmt: string): string | null {
  return expand(ctx, fmt, true);
}

const PV_NAME_CHAR = /[A-Za-z0-9_.?]/;

/** The end of the balanced `(...)` group that starts at `i`, or -1 when it is not closed. */
function closeParen(fmt: string, i: number): number {
  let depth = 0;
  for (let j = i; j < fmt.length; j++) {
    if (fmt[j] === '(') depth++;
    else if (fmt[j] === ')' && --depth === 0) return j + 1;
  }
  return -1;
}

function expand(ctx: MsgContext, fmt: string, strict: boolean): string | null {
  if (!fmt.includes('$')) return fmt;
  let out = '';
  let i = 0;
  const n = fmt.length;
  while (i < n) {
    const c = fmt[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    if (fmt[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    let j = i + 1;
    if (fmt[j] === '(') {
      j = closeParen(fmt, j);
      if (j < 0) j = n;
    } else {
      while (j < n && PV_NAME_CHAR.test(fmt[j]!)) j++;
      if (fmt[j] === '(') {
        j = closeParen(fmt, j);
        if (j < 0) j = n;
      }
    }
    const spec = fmt.slice(i, j);
    let v: PvValue | null;
    try {
      if (j === i + 1) throw new UnknownPvError(spec, 'invalid pseudo-variable');
      v = getPv(ctx, spec);
    } catch (e) {
      if (strict && e instanceof UnknownPvError) return null;
      out += spec;
      i = Math.max(j, i + 1);
      continue;
    }
    out += v === null ? '<null>' : String(v);
    i = j;
  }
  return out;
}
