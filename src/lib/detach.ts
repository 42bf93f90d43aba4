/**
 * A copy of a latin1 string (text of a received message: characters are bytes) that shares no
 * memory with the string it came from. V8 keeps a substring as a view into its parent and a
 * concatenation as a tree of its parts, so a value kept for a transaction's life (its key) would
 * otherwise keep the whole header text of the request alive with it.
 */
export function detached(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}
