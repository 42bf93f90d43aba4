/**
 * What the fuzz and soak runners read from a running proxy: its /metrics text (prom-client,
 * prefix kemi_) parsed into numbers, and its resident set size from /proc.
 */
import { readFileSync } from 'node:fs';

/** One scrape: `name{labels}` -> value (labels as written by prom-client). */
export type Scrape = Map<string, number>;

export async function scrape(addr: string): Promise<Scrape> {
  let text = '';
  // fetch reuses a kept-alive connection the server may just have closed ("other side closed"):
  // try again on a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      text = await (await fetch(`http://${addr}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** A metric's value, or the sum over every label set of it when `labels` is absent. */
export function metric(s: Scrape, name: string, labels?: string): number {
  if (labels !== undefined) return s.get(`${name}{${labels}}`) ?? NaN;
  if (s.has(name)) return s.get(name)!;
  let sum = 0;
  let seen = false;
  for (const [k, v] of s) {
    if (k.startsWith(`${name}{`)) {
      sum += v;
      seen = true;
    }
  }
  return seen ? sum : NaN;
}

/** Resident set size of a process in MiB (VmRSS), NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
