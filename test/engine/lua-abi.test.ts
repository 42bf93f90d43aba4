/**
 * The Lua module the engine calls: the wasm exports themselves, not wasmoon's assertion wrappers,
 * caught without leaving WebAssembly.instantiate hooked, also when VMs are made concurrently.
 */
import { describe, expect, it } from 'vitest';
import { newLuaModule, type LuaRaw } from '../../src/engine/lua-abi.js';

/** A wasm export prints as native code; emscripten's assertion wrapper prints its JavaScript. */
const isWasmExport = (f: unknown): boolean => typeof f === 'function' && /\[native code\]/.test(String(f));

function works(m: LuaRaw): void {
  const L = m._luaL_newstate();
  m._lua_pushinteger(L, 41n);
  m._lua_pushinteger(L, 42n);
  expect(m._lua_gettop(L)).toBe(2);
  expect(m._lua_tointegerx(L, -1, 0)).toBe(42n);
  m._lua_close(L);
}

describe('newLuaModule', () => {
  it('calls the wasm exports directly and restores WebAssembly.instantiate', async () => {
    const original = WebAssembly.instantiate;
    const m = await newLuaModule();
    expect(WebAssembly.instantiate).toBe(original);
    for (const f of [m._lua_settop, m._lua_type, m._lua_tolstring, m._lua_resume, m._lua_error, m._malloc]) expect(isWasmExport(f)).toBe(true);
    // What is not a wasm export still comes from the module (memory views, the function table).
    expect(m.HEAPU8).toBeInstanceOf(Uint8Array);
    expect(typeof m.addFunction).toBe('function');
    works(m);
  });

  it('gives each of several VMs made at once its own exports', async () => {
    const original = WebAssembly.instantiate;
    const ms = await Promise.all([newLuaModule(), newLuaModule(), newLuaModule()]);
    expect(WebAssembly.instantiate).toBe(original);
    expect(new Set(ms.map((m) => m.HEAPU8.buffer)).size).toBe(3);
    expect(new Set(ms.map((m) => m._lua_settop)).size).toBe(3);
    for (const m of ms) {
      expect(isWasmExport(m._lua_gettop)).toBe(true);
      works(m);
    }
  });
});
