/**
 * The LuaLS declaration of KSR: the shipped src/check/ksr.luals.lua must be what the generator
 * makes from today's export tables, valid Lua, and declare every function with its types.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import { loadKsrSpec } from '../../src/check/ksr-spec.js';
import { generateLuaLs } from '../../src/check/luals.js';
import { parseLua } from '../../src/check/lua-parser.js';

const SHIPPED = join(import.meta.dirname, '..', '..', 'src', 'check', 'ksr.luals.lua');

describe('LuaLS declaration of KSR', () => {
  it('the shipped file is up to date with the export tables (regenerate: kemi-proxy types --luals src/check/ksr.luals.lua)', async () => {
    expect(readFileSync(SHIPPED, 'utf8')).toBe(generateLuaLs(await loadKsrSpec()));
  });

  it('is valid Lua with the ---@meta header', () => {
    const src = readFileSync(SHIPPED, 'utf8');
    expect(src.startsWith('---@meta\n')).toBe(true);
    expect(parseLua(src).ok).toBe(true);
  });

  it('declares every catalog function with its parameter and return types, and nothing else', async () => {
    const src = readFileSync(SHIPPED, 'utf8');
    const luaType = { str: 'string', int: 'integer' } as const;
    const retType = { int: 'integer', bool: 'boolean', xval: 'string|integer|nil', none: 'false' } as const;
    let n = 0;
    for (const [mod, entries] of Object.entries(KEMI_CATALOG)) {
      const owner = mod === 'core' ? 'KSR' : `KSR.${mod}`;
      if (mod !== 'core') expect(src).toContain(`---@field ${mod} KSR.${mod}\n`);
      for (const e of entries) {
        const params = e.params.map((_, i) => `p${i + 1}`);
        const decl = [
          ...e.params.map((t, i) => `---@param ${params[i]} ${luaType[t]}`),
          `---@return ${retType[e.ret]}`,
        ].join('\n');
        const at = src.indexOf(`\nfunction ${owner}.${e.name}(${params.join(', ')}) end\n`);
        expect(at, `${owner}.${e.name}`).toBeGreaterThan(0);
        // The annotations sit right above the function line.
        expect(src.slice(0, at).endsWith(decl) || src.slice(0, at).includes(`${decl} # `), `${owner}.${e.name} annotations`).toBe(true);
        n++;
      }
    }
    const spec = await loadKsrSpec();
    const functions = [...spec.modules.values()].reduce((a, m) => a + m.size, 0);
    expect(n).toBeGreaterThan(600);
    expect(src.match(/^function KSR\./gm)).toHaveLength(functions);
    // Modules kemi-proxy implements beyond the catalog, and app_lua's KSR.x.
    expect(src).toContain('function KSR.acc.acc_log_request(');
    expect(src).toContain('function KSR.x.exit() end');
    expect(src).toContain('function KSR.x.modf(p1, ...) end');
  });
});
