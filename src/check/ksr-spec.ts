/**
 * What `KSR` holds, as the checker and the LuaLS generator see it: Kamailio 5.6.3's exports
 * (kemi/catalog.ts) merged with kemi-proxy's module tables (kemi/*.ts), which also bring modules the
 * catalog does not list (acc, ndb_redis), plus app_lua's own `KSR.x`.
 */
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import type { KemiModule, KemiParam, KemiRet } from '../../kemi/types.js';
import { discoverKemiModules } from '../app/modules.js';

export interface KsrFunction {
  readonly module: string;
  readonly name: string;
  readonly params: readonly KemiParam[];
  readonly ret: KemiRet;
  /** kemi-proxy has a binding (else it exists as a stub that raises "not implemented"). */
  readonly implemented: boolean;
  /** Listed in the Kamailio 5.6.3 catalog (false for functions of modules the catalog does not cover). */
  readonly inCatalog: boolean;
  /** Optional trailing parameters (only app_lua's KSR.x.modf takes a variable list). */
  readonly variadic?: boolean;
}

export interface KsrSpec {
  /** Module name ("" for the functions directly under KSR, "x" for app_lua's KSR.x) to its functions. */
  readonly modules: ReadonlyMap<string, ReadonlyMap<string, KsrFunction>>;
}

/** app_lua's KSR.x functions, which every script has whatever the config loads. */
export const KSR_X: readonly Omit<KsrFunction, 'module'>[] = [
  { name: 'exit', params: [], ret: 'none', implemented: true, inCatalog: true },
  { name: 'drop', params: [], ret: 'none', implemented: true, inCatalog: true },
  { name: 'modf', params: ['str'], ret: 'int', implemented: true, inCatalog: true, variadic: true },
  { name: 'probe', params: [], ret: 'none', implemented: true, inCatalog: true },
];

/** Builds the spec from the catalog and the given module tables (by Kamailio name, "" for core). */
export function buildKsrSpec(impl: ReadonlyMap<string, KemiModule>): KsrSpec {
  const modules = new Map<string, Map<string, KsrFunction>>();
  const table = (name: string): Map<string, KsrFunction> => {
    let t = modules.get(name);
    if (!t) modules.set(name, (t = new Map()));
    return t;
  };
  for (const [catName, entries] of Object.entries(KEMI_CATALOG)) {
    const name = catName === 'core' ? '' : catName;
    const mod = impl.get(name);
    const done = new Set(mod?.exports.map((e) => e.name) ?? []);
    const t = table(name);
    for (const c of entries) {
      t.set(c.name, { module: name, name: c.name, params: c.params, ret: c.ret, implemented: done.has(c.name), inCatalog: true });
    }
  }
  for (const [name, mod] of impl) {
    const t = table(name);
    for (const e of mod.exports) {
      if (t.has(e.name)) continue;
      t.set(e.name, { module: name, name: e.name, params: e.params, ret: e.ret, implemented: true, inCatalog: false });
    }
  }
  const x = table('x');
  for (const f of KSR_X) x.set(f.name, { ...f, module: 'x' });
  return { modules };
}

/** The spec for this build of kemi-proxy: the catalog and every module table in kemi/. */
export async function loadKsrSpec(): Promise<KsrSpec> {
  return buildKsrSpec(await discoverKemiModules());
}

/** `KSR.name` or `KSR.module.name`. */
export function qualifiedName(module: string, name: string): string {
  return module === '' ? `KSR.${name}` : `KSR.${module}.${name}`;
}
