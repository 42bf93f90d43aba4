/** Opens the backend the config names: `memory`, or a `redis://` / `rediss://` URL. */
import { MemoryStore } from './memory-store.js';
import type { StateStore } from './store.js';

export async function openStore(spec: string, log: (level: 'info' | 'warn' | 'err', text: string) => void): Promise<StateStore> {
  if (spec === 'memory' || spec === '') return new MemoryStore();
  if (/^rediss?:\/\//.test(spec) || /^redis\+cluster:\/\//.test(spec)) {
    const { RedisStore } = await import('./redis-store.js');
    return RedisStore.connect(spec, log);
  }
  throw new Error(`state: expected 'memory' or a redis:// URL, got '${spec}'`);
}
