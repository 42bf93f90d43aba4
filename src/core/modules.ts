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

/** The tables a config loads: core always, then the named modules that exist here. */
export async function selectModules(names: readonly string[]): Promise<{ modules: KemiModule[]; loadedNames: string[] }> {
  const all = await discoverKemiModules();
  const modules: KemiModule[] = [];
  const core = all.get('');
  if (core) modules.push(core);
  for (const n of names) {
    const m = all.get(n);
    if (m) modules.push(m);
  }
  return { modules, loadedNames: [...names] };
}
