/**
 * The shape of a KEMI module: one export table per Kamailio module, as Kamailio's
 * `sr_kemi_t` arrays are. The engine binds every table generically into `KSR.<module>`
 * (core functions, module "", straight into `KSR`).
 */
import type { MsgContext, ProxyServices } from '../src/context/msg-context.js';
import type { StateStore } from '../src/state/store.js';
import type { ModuleKey, ModuleStates } from '../src/context/module-state.js';
import type { PvRegistry } from '../src/pv/registry.js';
import type { TransactionLayer } from '../src/tm/transaction-layer.js';

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

/** One export as Kamailio declares it (kemi/catalog.ts lists every export of Kamailio 5.6.3). */
export interface CatalogEntry {
  readonly name: string;
  readonly params: readonly KemiParam[];
  readonly ret: KemiRet;
}

/** Every export by module name; "core" holds the exports that live directly under KSR. */
export type KemiCatalog = Readonly<Record<string, readonly CatalogEntry[]>>;

export interface KemiExport {
  /** Function name as in Kamailio, e.g. `t_relay`. */
  readonly name: string;
  readonly params: readonly KemiParam[];
  readonly ret: KemiRet;
  /** Implementation; receives the current message context first. */
  readonly fn: (ctx: MsgContext, ...args: KemiArg[]) => KemiResult;
}

/** Control RPC methods by Kamailio's names (`ul.dump`, `htable.dump`, ...). */
export type RpcTable = Readonly<Record<string, (params: readonly unknown[]) => unknown>>;

export interface KemiModule<S = unknown> {
  /** Kamailio module name (`tm`, `pv`, ...); "" for the core exports under `KSR`. */
  readonly name: string;
  readonly exports: readonly KemiExport[];
  /** Where the instance keeps what init returns; the exports read it with `key.of(ctx)`. */
  readonly key?: ModuleKey<S>;
  /**
   * Runs once per proxy instance when the config loads the module (Kamailio's mod_init) and
   * returns the module's state for that instance.
   */
  init?(env: ModuleEnv): S | Promise<S>;
  /** Runs at shutdown with the instance's state. */
  close?(state: S): void | Promise<void>;
  /** Control RPC methods the module adds for an instance. */
  rpc?(state: S): RpcTable;
}

/** A request inside a dialog, as the dialog module builds it (Kamailio's t_request_within). */
export interface WithinRequest {
  method: string;
  ruri: string;
  /** Header values: `<uri>;tag=..`. */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** Route header values in order (name-addrs). */
  routes: readonly string[];
  /** Listen socket id to send from (`proto:addr:port`), when known. */
  socket?: string | null;
  /** Extra header lines, each ending in CRLF. */
  extraHeaders?: string;
  timeoutMs?: number;
}

/** Requests the proxy sends on its own (dispatcher's OPTIONS probes). */
export interface UacService {
  request(method: string, uri: string, from: string, timeoutMs?: number): Promise<number>;
  /** A request inside a dialog (dialog's BYE); resolves with the final status. */
  within?(r: WithinRequest): Promise<number>;
}

/** What a module's init receives: its parameters and the instance's services. */
export interface ModuleEnv {
  /** This module's modparams from the config (Kamailio's modparam("<module>", name, value)). */
  readonly params: Readonly<Record<string, string | number>>;
  /** Every module's modparams, for modules that read another's (auth_db reading usrloc's db_url). */
  readonly allParams: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /** The shared state backend (memory or Redis). */
  readonly state: StateStore;
  /** Instance services: sending, isMyself, logging. */
  readonly proxy: ProxyServices;
  /** The instance's pseudo-variable table: a module registers its PVs here. */
  readonly pvs: PvRegistry;
  /** The states of the modules initialised before this one (auth_db uses auth's). */
  readonly modules: ModuleStates;
  /** The transaction layer, when tm is loaded. */
  readonly tm?: TransactionLayer;
  /** Requests the proxy sends on its own; absent in unit-test fakes. */
  readonly uac?: UacService;
  /** Kamailio's `#!define`s (config key `defines`). */
  readonly defines: ReadonlyMap<string, string>;
  /** Logs a module line (no message context). */
  log(level: 'dbg' | 'info' | 'warn' | 'err', text: string): void;
}

/** Raised by KSR.x.exit(); the exact text app_lua compares against. */
export const KSR_EXIT_MESSAGE = '~~ksr~exit~~';

/** Helper to declare a module table with type checking of each entry. */
export function defineModule<S = void>(name: string, exports: readonly KemiExport[], hooks: Pick<KemiModule<S>, 'key' | 'init' | 'close' | 'rpc'> = {}): KemiModule<S> {
  return { name, exports, ...hooks };
}
