/**
 * The shape of a KEMI module: one export table per Kamailio module, as Kamailio's
 * `sr_kemi_t` arrays are. The engine binds every table generically into `KSR.<module>`
 * (core functions, module "", straight into `KSR`).
 */
import type { MsgContext, ProxyServices } from '../src/context/msg-context.js';
import type { StateStore } from '../src/state/store.js';

/** Parameter types as Kamailio declares them (`SR_KEMIP_STR`, `SR_KEMIP_INT`). */
export type KemiParam = 'str' | 'int';

/**
 * Return kinds as app_lua hands them to Lua:
 * - int: a Lua number (positive true, negative false, 0 stops the script by convention)
 * - bool: a Lua boolean
 * - xval: a string, a number or nil
 * - none: the Lua boolean false
 */
export type KemiRet = 'int' | 'bool' | 'xval' | 'none';

/** What a binding may hand back; a Promise makes the calling coroutine yield until it settles. */
export type KemiValue = number | boolean | string | null | undefined | void;
export type KemiResult = KemiValue | Promise<KemiValue>;

/** Argument values after conversion: a Lua string (or null for nil/boolean) or an integer. */
export type KemiArg = string | number | null;

export interface KemiExport {
  /** Function name as in Kamailio, e.g. `t_relay`. */
  readonly name: string;
  readonly params: readonly KemiParam[];
  readonly ret: KemiRet;
  /** Implementation; receives the current message context first. */
  readonly fn: (ctx: MsgContext, ...args: KemiArg[]) => KemiResult;
}

export interface KemiModule {
  /** Kamailio module name (`tm`, `pv`, ...); "" for the core exports under `KSR`. */
  readonly name: string;
  readonly exports: readonly KemiExport[];
  /** Runs once at startup when the config loads the module (Kamailio's mod_init). */
  readonly init?: (env: ModuleEnv) => void | Promise<void>;
  /** Runs at shutdown. */
  readonly close?: () => void | Promise<void>;
  /** Control RPC methods the module adds (`ul.dump`, `htable.dump`, ...), by Kamailio's names. */
  readonly rpc?: Readonly<Record<string, (params: readonly unknown[]) => unknown>>;
}

/** What a module's init receives: its parameters and the process-wide services. */
export interface ModuleEnv {
  /** This module's modparams from the config (Kamailio's modparam("<module>", name, value)). */
  readonly params: Readonly<Record<string, string | number>>;
  /** Every module's modparams, for modules that read another's (auth_db reading usrloc's db_url). */
  readonly allParams: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /** The shared state backend (memory or Redis). */
  readonly state: StateStore;
  /** Process services: sending, isMyself, logging. */
  readonly proxy: ProxyServices;
  /** Logs a module line (no message context). */
  log(level: 'dbg' | 'info' | 'warn' | 'err', text: string): void;
}

/** Raised by KSR.x.exit(); the exact text app_lua compares against. */
export const KSR_EXIT_MESSAGE = '~~ksr~exit~~';

/** Helper to declare a module table with type checking of each entry. */
export function defineModule(name: string, exports: readonly KemiExport[], hooks: Pick<KemiModule, 'init' | 'close' | 'rpc'> = {}): KemiModule {
  return { name, exports, ...hooks };
}
