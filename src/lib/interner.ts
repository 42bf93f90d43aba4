/**
 * One string object for each distinct value: what a transaction keeps for seconds (a route name,
 * a target address) would otherwise be a new string per call, one more object for the
 * old-generation GC to keep and mark. Bounded: past `max` distinct values it starts over, so a
 * caller that makes endless distinct values costs a lookup, not memory.
 */
export class Interner {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** Distinct values held now (at most `max`). */
  get size(): number {
    return this.known.size;
  }

  intern(s: string): string {
    const k = this.known.get(s);
    if (k !== undefined) return k;
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(s, s);
    return s;
  }
}
