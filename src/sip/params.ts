/**
 * The parameters of a header value or URI (`;name=value;flag`): a ReadonlyMap over one flat array
 * [name, value, name, value, ...] instead of a Map per parsed value. A message has a few of these
 * per header (Via, From, To, Contact, their URIs) and most have one to three entries: a linear
 * scan of interned names finds them faster than hashing, and the array is one small allocation
 * where a Map is a hash table of at least four entries (issue 14: allocation per call).
 * Never changed after parsing; iteration (rare: formatting a URI) goes through a Map made then.
 */
import { sameIgnoringCaseAt } from './chars.js';

export class ParamMap implements ReadonlyMap<string, string | null> {
  private map: Map<string, string | null> | null = null;

  /** `kv`: names (lowercase, unique) at even indexes, their values (null: no value) after them. */
  constructor(private readonly kv: (string | null)[]) {}

  get size(): number {
    return this.kv.length >> 1;
  }

  private indexOf(key: string): number {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === key) return i;
    return -1;
  }

  get(key: string): string | null | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.kv[i + 1];
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  forEach(cb: (value: string | null, key: string, map: ReadonlyMap<string, string | null>) => void, thisArg?: unknown): void {
    const kv = this.kv;
    for (let i = 0; i < kv.length; i += 2) cb.call(thisArg, kv[i + 1] as string | null, kv[i] as string, this);
  }

  private asMap(): Map<string, string | null> {
    if (this.map === null) {
      const m = new Map<string, string | null>();
      for (let i = 0; i < this.kv.length; i += 2) m.set(this.kv[i] as string, this.kv[i + 1] as string | null);
      this.map = m;
    }
    return this.map;
  }

  entries(): MapIterator<[string, string | null]> {
    return this.asMap().entries();
  }

  keys(): MapIterator<string> {
    return this.asMap().keys();
  }

  values(): MapIterator<string | null> {
    return this.asMap().values();
  }

  [Symbol.iterator](): MapIterator<[string, string | null]> {
    return this.asMap().entries();
  }
}

/**
 * Values with more parameters than this go into a Map: the flat list finds a name again by a
 * linear scan, which over thousands of distinct names (one crafted 60 KB header) is quadratic.
 */
const MAX_FLAT = 16;

/**
 * A [name, value, ...] list being built, sized for at most `max` parameters up front: an array
 * grown by push() starts at 17 slots, more than most values' parameters need. More than MAX_FLAT
 * parameters are kept in a Map instead.
 */
export class ParamsBuilder {
  private readonly kv: (string | null)[] | null;
  private readonly map: Map<string, string | null> | null;
  private n = 0;

  constructor(max: number) {
    this.kv = max <= MAX_FLAT ? new Array<string | null>(2 * max) : null;
    this.map = max <= MAX_FLAT ? null : new Map();
  }

  /** Adds name=value; a name given again replaces its value in place, as Map.set would. */
  set(name: string, value: string | null): void {
    const kv = this.kv;
    if (kv === null) {
      this.map!.set(name, value);
      return;
    }
    for (let i = 0; i < this.n; i += 2) {
      if (kv[i] === name) {
        kv[i + 1] = value;
        return;
      }
    }
    kv[this.n] = name;
    kv[this.n + 1] = value;
    this.n += 2;
  }

  /** The parameters, or `empty` when there were none. */
  done(empty: ReadonlyMap<string, string | null>): ReadonlyMap<string, string | null> {
    const kv = this.kv;
    if (kv === null) return this.map!.size > 0 ? this.map! : empty;
    if (this.n === 0) return empty;
    kv.length = this.n;
    return new ParamMap(kv);
  }
}

/** How many times `c` occurs in s (an upper bound of the parameters after as many ';'). */
export function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

/**
 * Parameter names most messages carry, each one string: a name found here is not sliced,
 * lowercased and hashed again for every parameter of every message.
 */
const COMMON_PARAMS = ['branch', 'tag', 'rport', 'received', 'lr', 'transport', 'maddr', 'ttl', 'expires', 'q', 'user', 'method', 'alias', 'ob', 'did'];
const PARAMS_BY_LENGTH: string[][] = [];
for (const c of COMMON_PARAMS) (PARAMS_BY_LENGTH[c.length] ??= []).push(c);

/** The common parameter name s[start, end) is, compared case-insensitively, or undefined. */
export function commonParamName(s: string, start: number, end: number): string | undefined {
  const cands = PARAMS_BY_LENGTH[end - start];
  if (cands) for (const c of cands) if (sameIgnoringCaseAt(s, start, c)) return c;
  return undefined;
}
