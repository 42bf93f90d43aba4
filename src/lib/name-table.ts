/**
 * Tables looked up by a name that comes from a message or a script. An object literal answers for
 * the names of Object.prototype too ("constructor", "toString", "valueOf"), which a SIP peer or a
 * script can send; a table made here has no prototype, so those names find nothing.
 */
export function nameTable<T>(entries: Readonly<Record<string, T>>): Readonly<Record<string, T | undefined>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** An empty table with no prototype, to fill with names from outside. */
export function emptyNameTable<T>(): Record<string, T | undefined> {
  return Object.create(null) as Record<string, T | undefined>;
}

/** An environment variable by a name from a script: process.env answers "constructor" too. */
export function envVar(name: string): string | undefined {
  return Object.hasOwn(process.env, name) ? process.env[name] : undefined;
}
