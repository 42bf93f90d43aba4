/** Opens the backend the config names: `memory`, or a `redis://` / `rediss://` URL. */
import { MemoryStore } from './memory-store.js';
import type { StateStore } from './store.js';

export async function openStore(spec: string, log: (level: 'info' | 'warn' | 'err', text: string) => void): Promise<StateStore> {
  if (spec === 'memory' || spec === '') return new MemoryStore();
  if (/^rediss?:\/\//.test(spec) || /^redis\+cluster:\/\//.test(spec)) {
    // Filled in by redis-store.ts once it lands.
    throw new Error(`state: the Redis backend is not built yet (${spec}); log=${typeof log}`);
  }
  throw new Error(`state: expected 'memory' or a redis:// URL, got '${spec}'`);
}
