/**
 * Finds the KEMI export tables: every file in kemi/ whose default export is a KemiModule. Adding a
 * module is adding a file; which ones a script sees is the config's `modules` list (loadmodule).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KemiModule } from '../../kemi/types.js';

const KEMI_DIR = new URL('../../kemi/', import.meta.url);

function isKemiModule(v: unknown): v is KemiModule {
  if (v === null || typeof v !== 'object') return false;
  const m = v as { name?: unknown; exports?: unknown };
  return typeof m.name === 'string' && Array.isArray(m.exports);
}

let cache: Promise<Map<string, KemiModule>> | undefined;

/** All module tables found in kemi/, by Kamailio module name ("" is core). */
export function discoverKemiModules(): Promise<Map<string, KemiModule>> {
  cache ??= (async () => {
    const dir = fileURLToPath(KEMI_DIR);
    const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map'));
    const found = new Map<string, KemiModule>();
    for (const f of files.sort()) {
      const mod = (await import(pathToFileURL(dir + f).href)) as { default?: unknown };
      if (isKemiModule(mod.default)) found.set(mod.default.name, mod.default);
    }
    return found;
  })();
  return cache;
}

/**
 * The tables a config loads: core always, then the named modules. A name kemi-proxy does not know
 * stops start-up (Kamailio's loadmodule fails the same way), naming it.
 */
export async function selectModules(names: readonly string[]): Promise<KemiModule[]> {
  const all = await discoverKemiModules();
  const modules: KemiModule[] = [];
  const core = all.get('');
  if (core) modules.push(core);
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length > 0) {
    const known = [...all.keys()].filter((n) => n !== '').sort().join(', ');
    throw new Error(`unknown module${unknown.length > 1 ? 's' : ''} in the config: ${unknown.join(', ')} (kemi-proxy has: ${known})`);
  }
  for (const n of names) modules.push(all.get(n)!);
  return modules;
}
