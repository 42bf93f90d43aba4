/**
 * A string-keyed map for short-lived values with many adds and deletes (transactions, branches),
 * whose JS Map holds only small integers: the values sit in an array of slots, emptied on delete.
 *
 * Why not a Map of the values themselves: a Map's table lives in the old generation once it has
 * survived two scavenges, and from then on V8 allocates each table it rehashes into (every few
 * dozen adds at this churn) in the old generation too, leaving the previous table, entries and
 * all, as garbage until the next mark-compact. The scavenger takes every pointer from the old
 * generation as a root, so each such table kept every value it held (a transaction and all it
 * reaches) alive and got it promoted: issue 14, about 1.4 MB promoted per scavenge at 2000
 * calls/s when transactions were dropped as they settled. An emptied slot points at nothing, and
 * an old table of integers keeps nothing alive.
 */
export class SlotMap<V> {
  private readonly index = new Map<string, number>();
  private readonly slots: (V | undefined)[] = [];
  /** Emptied slots, reused before the array grows. */
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get(key: string): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.slots[i];
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  set(key: string, value: V): this {
    const i = this.index.get(key);
    if (i !== undefined) {
      this.slots[i] = value;
      return this;
    }
    const j = this.free.length > 0 ? this.free.pop()! : this.slots.length;
    this.slots[j] = value;
    this.index.set(key, j);
    return this;
  }

  delete(key: string): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.index.delete(key);
    this.slots[i] = undefined;
    this.free.push(i);
    return true;
  }

  /** The values, in the order their keys were added. */
  *values(): IterableIterator<V> {
    for (const i of this.index.values()) yield this.slots[i]!;
  }

  clear(): void {
    this.index.clear();
    this.slots.length = 0;
    this.free.length = 0;
  }
}
