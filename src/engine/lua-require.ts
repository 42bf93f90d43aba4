/**
 * The Lua environment a script sees besides KSR: `require`, `loadfile` and `dofile` reading the real
 * file system (the wasm VM's own file functions only see an empty in-memory one), and the C modules
 * scripts commonly expect, offered as built-ins (`cjson`, `cjson.safe`).
 *
 * `require "name"` looks in package.preload, then for a Lua file along package.path, which starts
 * with the script's own directory (`<dir>/?.lua;<dir>/?/init.lua`) followed by LUA_PATH_5_4 or
 * LUA_PATH (";;" standing for Lua's default path) or else Lua's default path. Files load under the
 * chunk name `@<path>`, so errors inside them read `path:line: message`. Any other module (a C
 * module such as `socket`) fails with Lua's "module 'x' not found" error whose last line says that
 * kemi-proxy cannot load C modules. Every VM starts with an empty package.loaded, so a reload reads
 * the required files again; the files a VM read are listed for the file watcher.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LUA_OK, type LuaRaw, type WasmStrings } from './lua-abi.js';
import { CJSON_LUA } from './lua-cjson.js';

/** Lua 5.4's default package.path (LUA_PATH_DEFAULT on Linux, with Debian's /usr/share entries). */
export const LUA_DEFAULT_PATH = [
  '/usr/local/share/lua/5.4/?.lua', '/usr/local/share/lua/5.4/?/init.lua',
  '/usr/local/lib/lua/5.4/?.lua', '/usr/local/lib/lua/5.4/?/init.lua',
  '/usr/share/lua/5.4/?.lua', '/usr/share/lua/5.4/?/init.lua',
  './?.lua', './?/init.lua',
].join(';');

/** Built-in modules a script can require although Kamailio loads them as C modules. */
export const BUILTIN_MODULES = ['cjson', 'cjson.safe'] as const;

/**
 * package.path for a script: its directory first, then `envPath` (LUA_PATH_5_4 / LUA_PATH) with
 * ";;" replaced by the default path as Lua's setpath does, or the default path.
 */
export function scriptLuaPath(scriptPath: string, envPath: string | undefined = process.env['LUA_PATH_5_4'] ?? process.env['LUA_PATH']): string {
  const dir = dirname(resolve(scriptPath));
  const own = `${dir}/?.lua;${dir}/?/init.lua`;
  let rest = LUA_DEFAULT_PATH;
  if (envPath !== undefined && envPath !== '') {
    rest = envPath.includes(';;') ? envPath.replace(';;', `;${LUA_DEFAULT_PATH};`) : envPath;
    rest = rest.replace(/^;+|;+$/g, '').replace(/;{2,}/g, ';');
  }
  return `${own};${rest}`;
}

/** The parts of a VM the environment needs: the raw API, the state and a way to register C functions. */
export interface LuaEnvVm {
  readonly m: LuaRaw;
  readonly L: number;
  readonly s: WasmStrings;
  /** Makes a wasm function pointer for `fn`, released when the VM closes. */
  addFunction(fn: (T: number) => number): number;
}


/** strerror texts Lua's loadfile would show. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
};

/** Runs in the VM before the script: sets package.path and the searchers, loadfile, dofile, preloads. */
const BOOT = String.raw`
local readfile, null, empty_array, cjson_src, path = ...
local sub, gsub, format, concat = string.sub, string.gsub, string.format, table.concat
local load, select, type, error = load, select, type, error

package.path = path
package.cpath = ""

-- What luaL_loadfilex skips: a UTF-8 BOM and a first line starting with '#' (its newline is kept).
local function body(code)
  if sub(code, 1, 3) == "\239\187\191" then code = sub(code, 4) end
  if sub(code, 1, 1) == "#" then code = gsub(code, "^[^\n]*", "", 1) end
  return code
end

local function find_file(name, p, sep, rep)
  sep = sep or "."
  rep = rep or "/"
  if sep ~= "" then name = gsub(name, gsub(sep, "%p", "%%%0"), (gsub(rep, "%%", "%%%%"))) end
  local tried = {}
  for template in string.gmatch(p, "[^;]+") do
    local file = gsub(template, "%?", (gsub(name, "%%", "%%%%")))
    local code = readfile(file)
    if code then return file, code end
    tried[#tried + 1] = "no file '" .. file .. "'"
  end
  return nil, concat(tried, "\n\t")
end

function package.searchpath(name, p, sep, rep)
  local file, err = find_file(name, p, sep, rep)
  if file then return file end
  return nil, err
end

-- Modules whose file is running: a module that requires itself (directly or in a cycle) gets
-- Lua 5.1's error instead of recursing until the C stack overflows (5.4 dropped the check).
local loading = {}

local function lua_searcher(name)
  if type(package.path) ~= "string" then error("'package.path' must be a string", 0) end
  if loading[name] then error(format("loop or previous error loading module '%s'", name), 0) end
  local file, code = find_file(name, package.path)
  if not file then return code end
  local f, err = load(body(code), "@" .. file)
  if not f then
    error(format("error loading module '%s' from file '%s':\n\t%s", name, file, err), 0)
  end
  return function(...)
    loading[name] = true
    local ok, r = pcall(f, ...)
    loading[name] = nil
    if not ok then error(r, 0) end
    return r
  end, file
end

local function c_searcher(name)
  return "no C module '" .. name .. "': kemi-proxy runs Lua in WebAssembly and cannot load C modules"
    .. " (built in: cjson, cjson.safe)"
end

package.searchers = { package.searchers[1], lua_searcher, c_searcher }

local cjson, cjson_safe
local function build_cjson()
  if not cjson then cjson, cjson_safe = load(cjson_src, "=cjson")(null, empty_array) end
end
package.preload["cjson"] = function() build_cjson(); return cjson end
package.preload["cjson.safe"] = function() build_cjson(); return cjson_safe end

function loadfile(filename, mode, ...)
  if filename == nil then return nil, "loadfile from standard input is not supported by kemi-proxy" end
  local code, err = readfile(filename)
  if not code then return nil, "cannot open " .. tostring(filename) .. ": " .. err end
  if select("#", ...) > 0 then return load(body(code), "@" .. filename, mode or "bt", (...)) end
  return load(body(code), "@" .. filename, mode or "bt")
end

function dofile(filename)
  local f, err = loadfile(filename)
  if not f then error(err, 0) end
  return f()
end
`;

/** Installs the environment in a fresh VM; returns the set the VM's file reads are recorded in. */
export function installLuaEnvironment(vm: LuaEnvVm, luaPath: string, onNewFile?: (path: string) => void): Set<string> {
  const { L, s } = vm;
  const m = vm.m;
  const files = new Set<string>();
  const readfile = vm.addFunction((T) => {
    const path = s.toString(T, 1);
    if (path === null) {
      m._lua_pushnil(T);
      s.push(T, 'file name expected');
      return 2;
    }
    try {
      const text = readFileSync(path).toString('latin1');
      const abs = resolve(path);
      if (!files.has(abs)) {
        files.add(abs);
        onNewFile?.(abs);
      }
      s.push(T, text);
      return 1;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      m._lua_pushnil(T);
      s.push(T, ERRNO_TEXT[code] ?? (e instanceof Error ? e.message : String(e)));
      return 2;
    }
  });
  const boot = Buffer.from(BOOT, 'latin1');
  const p = s.alloc(boot);
  const st = m._luaL_loadbufferx(L, p, boot.length, s.cstr('=kemi-env'), 0);
  m._free(p);
  if (st !== LUA_OK) throw new Error(`cannot build the Lua environment: ${s.toString(L, -1) ?? ''}`);
  m._lua_pushcclosure(L, readfile, 0);
  m._lua_pushlightuserdata(L, 0);
  // Any distinct non-NULL value: the pointer is compared, never followed (lua-cjson uses an address).
  m._lua_pushlightuserdata(L, 1);
  s.push(L, CJSON_LUA);
  s.push(L, luaPath);
  if (m._lua_pcallk(L, 5, 0, 0, 0, 0) !== LUA_OK) {
    const msg = s.toString(L, -1) ?? '';
    m._lua_settop(L, 0);
    throw new Error(`cannot build the Lua environment: ${msg}`);
  }
  return files;
}
