/**
 * One Lua VM running one KEMI script (Kamailio's app_lua `LL` state): the main chunk runs once at
 * load, globals persist between messages, and callbacks run by name.
 *
 * KSR functions are raw C closures (one wasm function per export) that read arguments straight
 * from the Lua stack. Every callback runs in a pooled coroutine: a binding that returns a Promise
 * yields that coroutine (lua_yieldk with a continuation) and the callback resumes when the
 * Promise settles, so I/O never blocks other messages while the script reads it as a plain call.
 * The current message context lives in a JS variable, never in Lua.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LogLevel, MsgContext } from '../context/msg-context.js';
import type { RouteScript, RunOutcome } from '../context/msg-context.js';
import { KSR_EXIT_MESSAGE, type KemiArg, type KemiCatalog, type KemiExport, type KemiModule, type KemiRet, type KemiValue } from '../../kemi/types.js';
import {
  LUA_OK, LUA_REGISTRYINDEX, LUA_UPVALUE1, LUA_YIELD, T_FUNCTION, T_NIL, T_NUMBER, T_STRING, WasmStrings, newLuaModule, type LuaRaw,
} from './lua-abi.js';
import { installLuaEnvironment, scriptLuaPath } from './lua-require.js';

export type { RunOutcome } from '../context/msg-context.js';

export interface LoadOptions {
  scriptPath: string;
  modules: readonly KemiModule[];
  /** Every export of Kamailio by module ("core" for KSR.*): the ones a loaded module does not implement fail loudly. */
  catalog: KemiCatalog;
  /** Modules present in KSR (loadmodule); their catalog exports without an implementation fail loudly. */
  loadedModuleNames?: readonly string[];
  log: (level: LogLevel, text: string) => void;
  /** The context KSR calls of the main chunk run with (Kamailio's faked message). */
  loadContext?: () => MsgContext;
  /** package.path after the script's directory; default LUA_PATH_5_4 / LUA_PATH, else Lua's default. */
  luaPath?: string;
}

const OK: RunOutcome = Object.freeze({ status: 'ok' }) as RunOutcome;
/** Lua's LUA_TNONE: a stack index past the top (an argument the script did not pass). */
const T_NONE = -1;
const NO_ARG = Symbol('missing argument');
const NO_ARGS: KemiArg[] = [];
const EXIT: RunOutcome = Object.freeze({ status: 'exit' }) as RunOutcome;
const MISSING: RunOutcome = Object.freeze({ status: 'missing' }) as RunOutcome;

/** Small integers are pushed often (1, -1, 0): keep their BigInt. */
const SMALL = Array.from({ length: 1024 }, (_, i) => BigInt(i - 512));
const big = (n: number): bigint => (n >= -512 && n < 512 && Number.isInteger(n) ? SMALL[n + 512]! : BigInt(Math.trunc(n)));

interface Pending {
  settled: boolean;
  value?: KemiValue;
  error?: unknown;
  ret: KemiRet;
  name: string;
  promise: Promise<void>;
}

/** Position and message of a Lua error text `file:line: message`. */
export function parseLuaError(msg: string): { message: string; file?: string; line?: number } {
  const m = /^([^\n]*?):(\d+): ([\s\S]*)$/.exec(msg);
  if (!m) return { message: msg };
  return { message: m[3]!, file: m[1]!, line: Number(m[2]) };
}

/** Lua helpers app_lua's runstring/dostring use (defined in every VM before the script loads). */
const HELPERS = `
function __kemi_runstring(code, name)
  local f, err = load(code, name, "t")
  if not f then error(err, 0) end
  return f()
end
function __kemi_dostring(code, name)
  local env = setmetatable({}, { __index = _G })
  local f, err = load(code, name, "t", env)
  if not f then error(err, 0) end
  return f()
end
`;

export class LuaScript implements RouteScript {
  private current: MsgContext | null = null;
  private readonly pool: number[] = [];
  private readonly threadRefs = new Map<number, number>();
  private readonly pending = new Map<number, Pending>();
  private readonly fps: number[] = [];
  private readonly hasCache = new Map<string, boolean>();
  private readonly byName = new Map<string, KemiExport>();
  private kFp = 0;
  /**
   * Every KSR function is one C closure of a single wasm function (callFp) with its index here as
   * upvalue: a wasm function per export (emscripten's addFunction compiles and instantiates a
   * module for each) made loading a script, and so each reload, block the loop for tens of ms.
   */
  private readonly exportsByIndex: { e: KemiExport; qname: string }[] = [];
  private callFp = 0;
  private closed = false;
  /** Files the VM read through require/loadfile/dofile (lua-require.ts). */
  private required: ReadonlySet<string> = new Set();
  /** Told when the script reads a Lua file it had not read before (a require inside a route). */
  onSourceFile: ((path: string) => void) | null = null;
  /** Callbacks started and not yet finished (async ones included). */
  inFlight = 0;

  private constructor(
    private readonly m: LuaRaw,
    private readonly L: number,
    private readonly s: WasmStrings,
    readonly path: string,
    private readonly log: LoadOptions['log'],
  ) {}

  static async load(opts: LoadOptions): Promise<LuaScript> {
    const code = readFileSync(opts.scriptPath);
    const m = await newLuaModule();
    const L = m._luaL_newstate();
    m._luaL_openlibs(L);
    const script = new LuaScript(m, L, new WasmStrings(m), opts.scriptPath, opts.log);
    try {
      script.installEnvironment(opts);
      script.bind(opts);
      script.runMain(code, opts);
    } catch (e) {
      script.close();
      throw e;
    }
    return script;
  }

  /** The script file and every Lua file it has read so far (require, dofile), for the file watcher. */
  get sourceFiles(): string[] {
    return [resolve(this.path), ...this.required];
  }

  private installEnvironment(opts: LoadOptions): void {
    const addFunction = (fn: (T: number) => number): number => {
      const fp = this.m.addFunction(fn, 'ii');
      this.fps.push(fp);
      return fp;
    };
    const path = scriptLuaPath(opts.scriptPath, opts.luaPath);
    this.required = installLuaEnvironment({ m: this.m, L: this.L, s: this.s, addFunction }, path, (f) => this.onSourceFile?.(f));
  }

  // ---- building KSR -----------------------------------------------------------------------------

  private bind(opts: LoadOptions): void {
    const { m, L, s } = this;
    s.push(L, '2.0');
    m._lua_setglobal(L, s.cstr('KSRVERSION'));
    this.kFp = m.addFunction((T: number) => this.continuation(T), 'iiii');
    this.fps.push(this.kFp);
    this.callFp = m.addFunction((T: number) => {
      const x = this.exportsByIndex[m._lua_touserdata(T, LUA_UPVALUE1)]!;
      return this.call(T, x.e, x.qname);
    }, 'ii');
    this.fps.push(this.callFp);
    const impl = new Map<string, KemiModule>();
    for (const mod of opts.modules) impl.set(mod.name, mod);
    const loaded = new Set(opts.loadedModuleNames ?? opts.modules.map((x) => x.name));
    loaded.add('');
    m._lua_createtable(L, 0, 128);
    for (const name of loaded) {
      const mod = impl.get(name);
      const catalog = opts.catalog[name === '' ? 'core' : name] ?? [];
      // Modules without KEMI exports (usrloc) are not in KSR, as in Kamailio.
      if ((mod?.exports.length ?? 0) === 0 && catalog.length === 0) continue;
      if (name !== '') m._lua_createtable(L, 0, catalog.length + (mod?.exports.length ?? 0));
      const done = new Set<string>();
      for (const e of mod?.exports ?? []) {
        this.pushExport(e, name);
        m._lua_setfield(L, -2, s.cstr(e.name));
        done.add(e.name);
        if (!this.byName.has(e.name)) this.byName.set(e.name, e);
      }
      for (const c of catalog) {
        if (done.has(c.name)) continue;
        const qname = name === '' ? `KSR.${c.name}` : `KSR.${name}.${c.name}`;
        this.pushExport({ ...c, fn: () => { throw new Error(`${qname}: not implemented in kemi-proxy`); } }, name);
        m._lua_setfield(L, -2, s.cstr(c.name));
      }
      if (name !== '') m._lua_setfield(L, -2, s.cstr(name));
    }
    this.bindX();
    m._lua_setglobal(L, s.cstr('KSR'));
  }

  private pushExport(e: KemiExport, module: string): void {
    const qname = module === '' ? `KSR.${e.name}` : `KSR.${module}.${e.name}`;
    this.m._lua_pushlightuserdata(this.L, this.exportsByIndex.length);
    this.exportsByIndex.push({ e, qname });
    this.m._lua_pushcclosure(this.L, this.callFp, 1);
  }

  /** KSR.x: exit, drop, modf, probe (app_lua's own exports). */
  private bindX(): void {
    const { m, L, s } = this;
    m._lua_createtable(L, 0, 4);
    const add = (name: string, fn: (T: number) => number): void => {
      const fp = m.addFunction(fn, 'ii');
      this.fps.push(fp);
      m._lua_pushcclosure(L, fp, 0);
      m._lua_setfield(L, -2, s.cstr(name));
    };
    add('exit', (T) => this.exit(T));
    add('drop', (T) => {
      if (this.current) this.current.drop = true;
      return this.exit(T);
    });
    add('probe', (T) => {
      m._lua_pushboolean(T, 0);
      return 1;
    });
    add('modf', (T) => this.modf(T));
    m._lua_setfield(L, -2, s.cstr('x'));
  }

  private exit(T: number): number {
    this.s.push(T, KSR_EXIT_MESSAGE);
    return this.m._lua_error(T);
  }

  /** KSR.x.modf(fname, ...): a KSR function by its name with string arguments; its int code, -1 on error. */
  private modf(T: number): number {
    const name = this.s.toString(T, 1);
    const e = name ? this.byName.get(name) : undefined;
    if (!e || !this.current) {
      this.m._lua_pushinteger(T, big(-1));
      return 1;
    }
    const args: KemiArg[] = [];
    for (let i = 0; i < e.params.length; i++) {
      const v = this.s.toString(T, i + 2);
      args.push(e.params[i] === 'int' ? Number.parseInt(v ?? '0', 10) || 0 : v);
    }
    return this.invoke(T, { ...e, ret: 'int' }, `KSR.x.modf(${name})`, args, true);
  }

  // ---- calls from Lua ---------------------------------------------------------------------------

  /**
   * The binding every KSR function shares. The hot cases (no argument, one, two) read their
   * arguments without an array and without asking the stack size first: a missing argument shows
   * as LUA_TNONE when it is read.
   */
  private call(T: number, e: KemiExport, qname: string): number {
    const params = e.params;
    const n = params.length;
    if (n === 0) return this.invoke(T, e, qname, NO_ARGS, false);
    const a0 = this.arg(T, 1, params[0]!);
    if (a0 === NO_ARG) return this.tooFew(T, qname, n);
    if (n === 1) return this.invoke1(T, e, qname, a0);
    const a1 = this.arg(T, 2, params[1]!);
    if (a1 === NO_ARG) return this.tooFew(T, qname, n);
    if (n === 2) return this.invoke(T, e, qname, [a0, a1], false);
    const args: KemiArg[] = [a0, a1];
    for (let i = 2; i < n; i++) {
      const a = this.arg(T, i + 1, params[i]!);
      if (a === NO_ARG) return this.tooFew(T, qname, n);
      args.push(a);
    }
    return this.invoke(T, e, qname, args, false);
  }

  private tooFew(T: number, qname: string, n: number): number {
    this.log('err', `${qname}: ${n} arguments expected, ${this.m._lua_gettop(T)} given`);
    this.m._lua_pushboolean(T, 0);
    return 1;
  }

  private arg(T: number, i: number, type: 'str' | 'int'): KemiArg | typeof NO_ARG {
    const t = this.m._lua_type(T, i);
    if (t === T_NONE) return NO_ARG;
    if (type === 'int') return t === T_NUMBER || t === T_STRING ? Number(this.m._lua_tointegerx(T, i, 0)) : 0;
    if (t !== T_STRING && t !== T_NUMBER) return null;
    return this.s.toString(T, i);
  }

  /** invoke() for one argument, without the argument array (the string-in, string-out hot path). */
  private invoke1(T: number, e: KemiExport, qname: string, a0: KemiArg): number {
    const ctx = this.current;
    if (!ctx) return this.raise(T, `${qname}: no message is being processed`);
    let r;
    try {
      r = e.fn(ctx, a0);
    } catch (err) {
      return this.raise(T, errText(err, qname));
    }
    if (r instanceof Promise) return this.suspend(T, e, qname, r);
    return this.pushRet(T, e.ret, r);
  }

  private invoke(T: number, e: KemiExport, qname: string, args: KemiArg[], intCode: boolean): number {
    const ctx = this.current;
    if (!ctx) return this.raise(T, `${qname}: no message is being processed`);
    let r;
    try {
      r = e.fn(ctx, ...args);
    } catch (err) {
      return this.raise(T, errText(err, qname));
    }
    if (r instanceof Promise) return this.suspend(T, e, qname, r);
    if (intCode) return this.pushModfCode(T, r);
    return this.pushRet(T, e.ret, r);
  }

  /** A binding answered with a Promise: the coroutine yields until it settles. */
  private suspend(T: number, e: KemiExport, qname: string, r: Promise<KemiValue>): number {
    const p: Pending = { settled: false, ret: e.ret, name: qname, promise: Promise.resolve() };
    p.promise = r.then(
      (v) => {
        p.settled = true;
        p.value = v;
      },
      (err: unknown) => {
        p.settled = true;
        p.error = err;
      },
    );
    this.pending.set(T, p);
    return this.m._lua_yieldk(T, 0, 0, this.kFp);
  }

  /** Runs when a coroutine suspended by an async binding is resumed: push its result. */
  private continuation(T: number): number {
    const p = this.pending.get(T);
    this.pending.delete(T);
    if (!p) return this.raise(T, 'resumed without a pending KSR call');
    if (p.error !== undefined) return this.raise(T, errText(p.error, p.name));
    return this.pushRet(T, p.ret, p.value);
  }

  private pushModfCode(T: number, r: KemiValue): number {
    const code = typeof r === 'number' ? r : r === true ? 1 : r === false ? -1 : 1;
    this.m._lua_pushinteger(T, big(code));
    return 1;
  }

  private pushRet(T: number, ret: KemiRet, r: KemiValue): number {
    const m = this.m;
    switch (ret) {
      case 'int':
        m._lua_pushinteger(T, big(typeof r === 'number' ? r : r === true ? 1 : -1));
        return 1;
      case 'bool':
        m._lua_pushboolean(T, r === true || (typeof r === 'number' && r > 0) ? 1 : 0);
        return 1;
      case 'xval':
        if (typeof r === 'string') this.s.push(T, r);
        else if (typeof r === 'number') {
          if (Number.isInteger(r)) m._lua_pushinteger(T, big(r));
          else m._lua_pushnumber(T, r);
        } else if (r === false) m._lua_pushboolean(T, 0);
        else m._lua_pushnil(T);
        return 1;
      default:
        m._lua_pushboolean(T, 0);
        return 1;
    }
  }

  /** Raises a Lua error at the script position that made the call. */
  private raise(T: number, msg: string): number {
    this.m._luaL_where(T, 1);
    this.s.push(T, msg);
    this.m._lua_concat(T, 2);
    return this.m._lua_error(T);
  }

  // ---- running callbacks ------------------------------------------------------------------------

  private runMain(code: Buffer, opts: LoadOptions): void {
    const { m, L, s } = this;
    const helpers = s.alloc(Buffer.from(HELPERS, 'latin1'));
    const hs = m._luaL_loadbufferx(L, helpers, HELPERS.length, s.cstr('=kemi-helpers'), 0);
    m._free(helpers);
    if (hs !== LUA_OK || m._lua_pcallk(L, 0, 0, 0, 0, 0) !== LUA_OK) throw new Error('cannot define the app_lua helpers');
    const buf = s.alloc(code);
    const st = m._luaL_loadbufferx(L, buf, code.length, s.cstr(`@${opts.scriptPath}`), 0);
    m._free(buf);
    if (st !== LUA_OK) {
      const msg = s.toString(L, -1) ?? 'load error';
      throw new Error(msg);
    }
    const prev = this.current;
    this.current = opts.loadContext ? opts.loadContext() : null;
    const rc = m._lua_pcallk(L, 0, 0, 0, 0, 0);
    this.current = prev;
    if (rc !== LUA_OK) {
      const msg = s.toString(L, -1) ?? 'runtime error while loading';
      m._lua_settop(L, 0);
      if (msg !== KSR_EXIT_MESSAGE) throw new Error(msg);
    }
  }

  /** Is a global function of that name defined? */
  has(fn: string): boolean {
    let v = this.hasCache.get(fn);
    if (v === undefined) {
      v = this.m._lua_getglobal(this.L, this.s.cstr(fn)) === T_FUNCTION;
      this.m._lua_settop(this.L, 0);
      this.hasCache.set(fn, v);
    }
    return v;
  }

  private thread(): number {
    const t = this.pool.pop();
    if (t !== undefined) return t;
    const T = this.m._lua_newthread(this.L);
    const ref = this.m._luaL_ref(this.L, LUA_REGISTRYINDEX);
    this.threadRefs.set(T, ref);
    return T;
  }

  /**
   * Runs global function `fn` for `ctx` (with optional string arguments: event routes get one,
   * app_lua's run_pN up to three). Synchronous unless a KSR call inside had to wait; then a Promise.
   */
  run(fn: string, ctx: MsgContext, arg?: string | readonly string[]): RunOutcome | Promise<RunOutcome> {
    if (this.closed) return { status: 'error', error: { message: 'script VM is closed' } };
    const m = this.m;
    const T = this.thread();
    if (m._lua_getglobal(T, this.s.cstr(fn)) !== T_FUNCTION) {
      m._lua_settop(T, 0);
      this.pool.push(T);
      return MISSING;
    }
    let nargs = 0;
    if (typeof arg === 'string') {
      this.s.push(T, arg);
      nargs = 1;
    } else if (arg) {
      for (const a of arg) this.s.push(T, a);
      nargs = arg.length;
    }
    const saved = ctx.sflags;
    ctx.sflags = 0;
    this.inFlight++;
    const prev = this.current;
    this.current = ctx;
    ctx.script = this;
    const st = m._lua_resume(T, this.L, nargs, this.s.intPtr);
    this.current = prev;
    return this.settle(T, st, ctx, saved);
  }

  private settle(T: number, st: number, ctx: MsgContext, savedSflags: number): RunOutcome | Promise<RunOutcome> {
    const m = this.m;
    if (st === LUA_YIELD) {
      const p = this.pending.get(T);
      if (!p) {
        // coroutine.yield() straight from the callback: not something a route can do.
        return this.fail(T, ctx, savedSflags, 'attempt to yield from a route callback');
      }
      return p.promise.then(() => {
        if (this.closed) return this.fail(T, ctx, savedSflags, 'script VM closed while a call was pending');
        const prev = this.current;
        this.current = ctx;
        const st2 = m._lua_resume(T, this.L, 0, this.s.intPtr);
        this.current = prev;
        return this.settle(T, st2, ctx, savedSflags);
      });
    }
    this.inFlight--;
    ctx.sflags = savedSflags;
    if (st === LUA_OK) {
      m._lua_settop(T, 0);
      this.pool.push(T);
      return OK;
    }
    const msg = m._lua_type(T, -1) === T_NIL ? 'error object is nil' : this.s.toString(T, -1) ?? 'error object is not a string';
    this.recycle(T);
    if (msg === KSR_EXIT_MESSAGE) return EXIT;
    return { status: 'error', error: parseLuaError(msg) };
  }

  private fail(T: number, ctx: MsgContext, savedSflags: number, message: string): RunOutcome {
    this.inFlight--;
    ctx.sflags = savedSflags;
    this.recycle(T);
    return { status: 'error', error: { message } };
  }

  /**
   * A coroutine that died with an error (KSR.x.exit included) is reset before reuse. Since Lua
   * 5.4.4, lua_resetthread returns the error that ended the coroutine, not whether the reset
   * worked: the thread is reusable when its own status is LUA_OK again. (Testing the return value
   * threw away, and replaced with a new thread, every coroutine an exit ended: three per call.)
   */
  private recycle(T: number): void {
    this.m._lua_resetthread(T);
    if (this.m._lua_status(T) === LUA_OK) {
      this.m._lua_settop(T, 0);
      this.pool.push(T);
      return;
    }
    const ref = this.threadRefs.get(T);
    if (ref !== undefined) this.m._luaL_unref(this.L, LUA_REGISTRYINDEX, ref);
    this.threadRefs.delete(T);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.m._lua_close(this.L);
    } catch {
      /* a VM that failed half-way may not close cleanly */
    }
    for (const fp of this.fps) this.m.removeFunction(fp);
    this.fps.length = 0;
  }
}

function errText(err: unknown, qname: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.startsWith(qname) ? msg : `${qname}: ${msg}`;
}
