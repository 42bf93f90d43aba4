/**
 * Shared state behind usrloc, htable, auth subscribers, permissions and dispatcher: one interface,
 * three backends: memory-store.ts (the default), redis-store.ts on one Redis server or on a Redis
 * Cluster (when several proxies share state), and the workers' IpcStore (src/ops/cluster.ts),
 * which asks the primary's memory store.
 *
 * Data lives in namespaces (`ht:<table>`, `ul`, `subscriber`, ...). Each namespace holds keys; a
 * key holds either a string value (with an optional expiry) or a map of fields (usrloc: AOR ->
 * contacts). Calls return a value when they finish at once (memory) and a Promise when they wait
 * for the network (Redis): KSR bindings hand either straight back to the engine, which runs a
 * Promise on the coroutine path without blocking other messages.
 *
 * A backend that cannot answer in time rejects with StateError; the binding turns that into its
 * failure return code, logs and counts it.
 */
export type Awaitable<T> = T | Promise<T>;

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

export interface StateStore {
  /** `memory` or `redis`: what `--state` chose. */
  readonly kind: 'memory' | 'redis';
  /** Errors talking to the backend so far (the kemi_state_errors_total metric). */
  readonly errors: number;

  /** A string value, or null when missing or expired. */
  get(ns: string, key: string): Awaitable<string | null>;
  /** Sets a value; ttlSec > 0 makes it expire. */
  set(ns: string, key: string, value: string, ttlSec?: number): Awaitable<void>;
  /** Sets only when absent; true when it was set. */
  setIfAbsent(ns: string, key: string, value: string, ttlSec?: number): Awaitable<boolean>;
  del(ns: string, key: string): Awaitable<void>;
  /** Adds `by` to an integer value (missing counts as 0) and returns the result; ttlSec as in set. */
  incr(ns: string, key: string, by: number, ttlSec?: number): Awaitable<number>;
  /** Remaining lifetime in seconds: -1 no expiry, -2 missing. */
  ttl(ns: string, key: string): Awaitable<number>;
  /** Every live string key and value of a namespace (dumps, scans by pattern). */
  entries(ns: string): Awaitable<[string, string][]>;
  /** Removes every key of a namespace. */
  clear(ns: string): Awaitable<void>;

  /** The fields of a map key ({} when missing). */
  mapGetAll(ns: string, key: string): Awaitable<Record<string, string>>;
  /** Sets one field; the whole map key expires ttlSec from now when ttlSec > 0 (extends, never shortens). */
  mapSet(ns: string, key: string, field: string, value: string, ttlSec?: number): Awaitable<void>;
  mapDel(ns: string, key: string, field: string): Awaitable<void>;
  /** Every map key of a namespace. */
  mapKeys(ns: string): Awaitable<string[]>;

  close(): Promise<void>;
}

/**
 * Resolves an Awaitable into a callback without creating a Promise on the synchronous path.
 * (Not named `then`: a module exporting `then` is a thenable, and `await import()` would call it.)
 */
export function andThen<T, R>(v: Awaitable<T>, fn: (x: T) => R, onError?: (e: unknown) => R): R | Promise<R> {
  if (v instanceof Promise) return onError ? v.then(fn, onError) : v.then(fn);
  return fn(v);
}
