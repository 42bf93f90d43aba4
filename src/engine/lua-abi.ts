/**
 * The raw Lua C API of wasmoon's wasm build, called directly (no cwrap string conversion): strings
 * cross as bytes read from and written to wasm memory, latin1 on the JS side, so every byte a
 * script or a SIP message holds survives the round trip.
 */
import { LuaWasm } from 'wasmoon';

/** The emscripten exports we call, each a plain wasm function. */
export interface LuaRaw {
  _luaL_newstate(): number;
  _luaL_openlibs(L: number): void;
  _lua_close(L: number): void;
  _lua_gettop(L: number): number;
  _lua_settop(L: number, idx: number): void;
  _lua_type(L: number, idx: number): number;
  _lua_tolstring(L: number, idx: number, lenPtr: number): number;
  _lua_tointegerx(L: number, idx: number, isnumPtr: number): bigint;
  _lua_tonumberx(L: number, idx: number, isnumPtr: number): number;
  _lua_toboolean(L: number, idx: number): number;
  _lua_pushnil(L: number): void;
  _lua_pushinteger(L: number, n: bigint): void;
  _lua_pushnumber(L: number, n: number): void;
  _lua_pushboolean(L: number, b: number): void;
  _lua_pushlstring(L: number, s: number, len: number): number;
  _lua_pushcclosure(L: number, fn: number, n: number): void;
  _lua_pushlightuserdata(L: number, p: number): void;
  _lua_touserdata(L: number, idx: number): number;
  _lua_createtable(L: number, narr: number, nrec: number): void;
  _lua_setfield(L: number, idx: number, k: number): void;
  _lua_getfield(L: number, idx: number, k: number): number;
  _lua_setglobal(L: number, name: number): void;
  _lua_getglobal(L: number, name: number): number;
  _lua_rawgeti(L: number, idx: number, n: bigint): number;
  _luaL_ref(L: number, t: number): number;
  _luaL_unref(L: number, t: number, ref: number): void;
  _lua_newthread(L: number): number;
  _lua_resume(L: number, from: number, narg: number, nresPtr: number): number;
  _lua_yieldk(L: number, nresults: number, ctx: number, k: number): number;
  _lua_pcallk(L: number, nargs: number, nresults: number, errfunc: number, ctx: number, k: number): number;
  _lua_error(L: number): number;
  _lua_status(L: number): number;
  _lua_resetthread(L: number): number;
  _luaL_loadbufferx(L: number, buf: number, size: number, name: number, mode: number): number;
  _luaL_where(L: number, lvl: number): void;
  _lua_concat(L: number, n: number): void;
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
  addFunction(fn: (...args: number[]) => number, sig: string): number;
  removeFunction(fp: number): void;
}

export const LUA_REGISTRYINDEX = -1001000;
/** lua_upvalueindex(1): a C closure's first upvalue. */
export const LUA_UPVALUE1 = LUA_REGISTRYINDEX - 1;
export const LUA_OK = 0;
export const LUA_YIELD = 1;
export const T_NIL = 0;
export const T_BOOLEAN = 1;
export const T_NUMBER = 3;
export const T_STRING = 4;
export const T_FUNCTION = 6;

/**
 * wasmoon's build is emscripten's with assertions: each `_lua_*` on its module is a wrapper that
 * builds two assertion messages (template strings), looks the export up by name and calls it
 * through `apply(arguments)`, on every call. The script engine makes dozens of such calls per
 * message, so it calls the wasm exports themselves. wasmoon does not hand them out; the instance is
 * caught as emscripten creates it (WebAssembly.instantiate, hooked for the duration of one
 * initialisation at a time) and recognised by its memory, the module's own.
 */
let initialising: Promise<unknown> = Promise.resolve();

async function initialiseCatchingExports(): Promise<{ module: LuaRaw; exports: WebAssembly.Exports | undefined }> {
  const instances: WebAssembly.Instance[] = [];
  const original = WebAssembly.instantiate;
  const hooked = async (...args: Parameters<typeof original>): Promise<unknown> => {
    const made = (await (original as (...a: unknown[]) => Promise<unknown>)(...args)) as WebAssembly.Instance | WebAssembly.WebAssemblyInstantiatedSource;
    instances.push('instance' in made ? made.instance : made);
    return made;
  };
  WebAssembly.instantiate = hooked as typeof original;
  let module: LuaRaw;
  try {
    module = (await LuaWasm.initialize()).module as unknown as LuaRaw;
  } finally {
    WebAssembly.instantiate = original;
  }
  const buffer = module.HEAPU8.buffer;
  const own = instances.find((i) => (i.exports.memory as WebAssembly.Memory | undefined)?.buffer === buffer);
  return { module, exports: own?.exports };
}

/** The module with its `_name` functions replaced by the wasm export `name` where there is one. */
function direct(module: LuaRaw, exports: WebAssembly.Exports): LuaRaw {
  const raw = Object.create(module) as Record<string, unknown>;
  for (const key of Object.keys(module)) {
    const fn = key.startsWith('_') ? exports[key.slice(1)] : undefined;
    if (typeof fn === 'function') raw[key] = fn;
  }
  return raw as unknown as LuaRaw;
}

/** A fresh wasm instance of Lua (each script VM gets its own memory and function table). */
export async function newLuaModule(): Promise<LuaRaw> {
  const run = initialising.then(initialiseCatchingExports);
  initialising = run.catch(() => undefined);
  const { module, exports } = await run;
  return exports ? direct(module, exports) : module;
}

/** Node's fast latin1 codecs on Buffer (present at run time, absent from @types/node). */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
}

/** Byte-level string helpers over one module's memory. */
export class WasmStrings {
  private heap: Latin1Buffer;
  private u32: Uint32Array;
  private scratch = 0;
  private scratchSize = 0;
  readonly lenPtr: number;
  readonly intPtr: number;
  private readonly cstrings = new Map<string, number>();

  constructor(private readonly m: LuaRaw) {
    this.heap = Buffer.from(m.HEAPU8.buffer, 0, m.HEAPU8.buffer.byteLength) as Latin1Buffer;
    this.u32 = new Uint32Array(m.HEAPU8.buffer);
    this.lenPtr = m._malloc(8);
    this.intPtr = m._malloc(8);
  }

  /** Memory may grow (and move) on any allocation: re-view it when it did. */
  private view(): Latin1Buffer {
    const b = this.m.HEAPU8.buffer;
    if (this.heap.buffer !== b) {
      this.heap = Buffer.from(b, 0, b.byteLength) as Latin1Buffer;
      this.u32 = new Uint32Array(b);
    }
    return this.heap;
  }

  /** The string at stack index `idx` (lua_tolstring semantics: numbers convert), or null. */
  toString(L: number, idx: number): string | null {
    const p = this.m._lua_tolstring(L, idx, this.lenPtr);
    if (p === 0) return null;
    const h = this.view();
    const len = this.u32[this.lenPtr >> 2]!;
    return h.latin1Slice(p, p + len);
  }

  push(L: number, s: string): void {
    const n = s.length;
    if (n > this.scratchSize) {
      if (this.scratch) this.m._free(this.scratch);
      this.scratchSize = Math.max(256, n * 2);
      this.scratch = this.m._malloc(this.scratchSize);
    }
    const h = this.view();
    if (n > 0) h.latin1Write(s, this.scratch, n);
    this.m._lua_pushlstring(L, this.scratch, n);
  }

  /** A NUL-terminated copy kept for the life of the VM (names of fields and globals). */
  cstr(s: string): number {
    let p = this.cstrings.get(s);
    if (p === undefined) {
      const bytes = Buffer.from(s, 'latin1');
      p = this.m._malloc(bytes.length + 1);
      const h = this.view();
      bytes.copy(h, p);
      h[p + bytes.length] = 0;
      this.cstrings.set(s, p);
    }
    return p;
  }

  /** Copies bytes into fresh wasm memory (caller frees). */
  alloc(bytes: Buffer): number {
    const p = this.m._malloc(bytes.length + 1);
    const h = this.view();
    bytes.copy(h, p);
    h[p + bytes.length] = 0;
    return p;
  }
}
