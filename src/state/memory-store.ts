/**
 * The embedded state backend: plain Maps in this process, expiry checked on read and swept by a
 * timer so memory does not grow with expired entries. Every call finishes synchronously.
 */
import type { StateStore } from './store.js';

interface Entry {
  value: string;
  /** Date.now() at expiry, 0 for none. */
  expires: number;
}

interface MapEntry {
  fields: Map<string, string>;
  expires: number;
}

const SWEEP_MS = 5_000;

export class MemoryStore implements StateStore {
  readonly kind = 'memory' as const;
  readonly errors = 0;
  private readonly values = new Map<string, Map<string, Entry>>();
  private readonly maps = new Map<string, Map<string, MapEntry>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  private ns(ns: string): Map<string, Entry> {
    let m = this.values.get(ns);
    if (!m) this.values.set(ns, (m = new Map()));
    return m;
  }

  private live(ns: string, key: string): Entry | undefined {
    const m = this.values.get(ns);
    const e = m?.get(key);
    if (e && e.expires && e.expires <= Date.now()) {
      m!.delete(key);
      return undefined;
    }
    return e;
  }

  get(ns: string, key: string): string | null {
    return this.live(ns, key)?.value ?? null;
  }

  set(ns: string, key: string, value: string, ttlSec = 0): void {
    this.ns(ns).set(key, { value, expires: ttlSec > 0 ? Date.now() + ttlSec * 1000 : 0 });
  }

  setIfAbsent(ns: string, key: string, value: string, ttlSec = 0): boolean {
    if (this.live(ns, key)) return false;
    this.set(ns, key, value, ttlSec);
    return true;
  }

  del(ns: string, key: string): void {
    this.values.get(ns)?.delete(key);
  }

  incr(ns: string, key: string, by: number, ttlSec = 0): number {
    const e = this.live(ns, key);
    const n = (e ? Number.parseInt(e.value, 10) || 0 : 0) + by;
    if (e) {
      e.value = String(n);
      if (ttlSec > 0) e.expires = Date.now() + ttlSec * 1000;
    } else this.set(ns, key, String(n), ttlSec);
    return n;
  }

  ttl(ns: string, key: string): number {
    const e = this.live(ns, key);
    if (!e) return -2;
    return e.expires ? Math.max(0, Math.round((e.expires - Date.now()) / 1000)) : -1;
  }

  entries(ns: string): [string, string][] {
    const m = this.values.get(ns);
    if (!m) return [];
    const now = Date.now();
    const out: [string, string][] = [];
    for (const [k, e] of m) if (!e.expires || e.expires > now) out.push([k, e.value]);
    return out;
  }

  clear(ns: string): void {
    this.values.delete(ns);
    this.maps.delete(ns);
  }

  private liveMap(ns: string, key: string): MapEntry | undefined {
    const m = this.maps.get(ns);
    const e = m?.get(key);
    if (e && e.expires && e.expires <= Date.now()) {
      m!.delete(key);
      return undefined;
    }
    return e;
  }

  mapGetAll(ns: string, key: string): Record<string, string> {
    const e = this.liveMap(ns, key);
    return e ? Object.fromEntries(e.fields) : {};
  }

  mapSet(ns: string, key: string, field: string, value: string, ttlSec = 0): void {
    let m = this.maps.get(ns);
    if (!m) this.maps.set(ns, (m = new Map()));
    let e = this.liveMap(ns, key);
    if (!e) m.set(key, (e = { fields: new Map(), expires: 0 }));
    e.fields.set(field, value);
    if (ttlSec > 0) e.expires = Math.max(e.expires, Date.now() + ttlSec * 1000);
  }

  mapDel(ns: string, key: string, field: string): void {
    const m = this.maps.get(ns);
    const e = m?.get(key);
    if (!e) return;
    e.fields.delete(field);
    if (e.fields.size === 0) m!.delete(key);
  }

  mapKeys(ns: string): string[] {
    const m = this.maps.get(ns);
    if (!m) return [];
    const now = Date.now();
    return [...m].filter(([, e]) => !e.expires || e.expires > now).map(([k]) => k);
  }

  private sweep(): void {
    const now = Date.now();
    for (const m of this.values.values()) for (const [k, e] of m) if (e.expires && e.expires <= now) m.delete(k);
    for (const m of this.maps.values()) for (const [k, e] of m) if (e.expires && e.expires <= now) m.delete(k);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
