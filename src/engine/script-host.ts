/**
 * Hot reload: the running script and its replacements. A reload compiles the file in a fresh VM
 * and swaps it in for the next message only if it loaded cleanly; a broken script never replaces
 * the running one. Messages in flight finish on the VM they started on: callers acquire the
 * current script for a message and release it after; an old VM is closed when its last user is gone.
 *
 * Kamailio re-runs the file in the same Lua state, so globals survive a reload there; here the
 * new script starts from a clean state (a failed load cannot leave half-defined functions behind).
 * A script that loads but lacks a function the proxy needs (ksr_request_route) is refused like one
 * that does not compile: swapped in, it would answer every request 500.
 */
import { LuaScript, type LoadOptions } from './lua-script.js';
import { SourceWatcher } from './source-watch.js';

export interface ScriptHostOptions extends LoadOptions {
  /** Reload when the file changes. */
  watch?: boolean;
  /** Reload on SIGHUP. */
  handleSignals?: boolean;
  /** Global functions a script must define to be loaded (default: ksr_request_route). */
  requiredFunctions?: readonly string[];
  /** After a reload swapped the new script in (the core reloads TLS certificates then). */
  onReloaded?: () => void;
}

const REQUIRED_DEFAULT: readonly string[] = ['ksr_request_route'];

export interface ScriptHostStats {
  reloads: number;
  reloadFailures: number;
}

export class ScriptHost {
  readonly stats: ScriptHostStats = { reloads: 0, reloadFailures: 0 };
  /** Messages running on the current script: a plain counter, as acquire/release run per message. */
  private currentUsers = 0;
  /** Messages still running on replaced scripts; each is closed when its count reaches 0. */
  private retired = new Map<LuaScript, number>();
  private watcher: SourceWatcher | null = null;
  private reloading: Promise<{ ok: boolean; error?: string }> | null = null;
  private onHup: (() => void) | null = null;

  private constructor(
    private script: LuaScript,
    private readonly opts: ScriptHostOptions,
  ) {}

  static async create(opts: ScriptHostOptions): Promise<ScriptHost> {
    const script = await loadComplete(opts);
    const host = new ScriptHost(script, opts);
    if (opts.watch) host.startWatching();
    if (opts.handleSignals) {
      host.onHup = () => void host.reload();
      process.on('SIGHUP', host.onHup);
    }
    return host;
  }

  get current(): LuaScript {
    return this.script;
  }

  /** The script a message runs on, kept alive until `release`. */
  acquire(): LuaScript {
    this.currentUsers++;
    return this.script;
  }

  release(s: LuaScript): void {
    if (s === this.script) {
      this.currentUsers--;
      return;
    }
    const n = (this.retired.get(s) ?? 1) - 1;
    if (n > 0) {
      this.retired.set(s, n);
      return;
    }
    this.retired.delete(s);
    s.close();
  }

  /** Loads the file again in a fresh VM; swaps it in only when it loads cleanly. */
  reload(): Promise<{ ok: boolean; error?: string }> {
    // Reloads asked for while one runs coalesce into it.
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async doReload(): Promise<{ ok: boolean; error?: string }> {
    let next: LuaScript;
    try {
      next = await loadComplete(this.opts);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.stats.reloadFailures++;
      this.opts.log('err', `script reload failed, keeping the running script: ${error}`);
      return { ok: false, error };
    }
    const old = this.script;
    this.script = next;
    this.stats.reloads++;
    this.follow(next);
    if (this.currentUsers > 0) this.retired.set(old, this.currentUsers);
    else old.close();
    this.currentUsers = 0;
    this.opts.log('info', `script reloaded ok: ${this.opts.scriptPath}`);
    this.opts.onReloaded?.();
    return { ok: true };
  }

  /** Watches the script and the Lua files it required (a reload re-reads them all). */
  private startWatching(): void {
    this.watcher = new SourceWatcher(() => void this.reload(), (t) => this.opts.log('warn', t));
    this.follow(this.script);
  }

  /** Watches what `s` has read, and what it reads later (a require inside a route) while it is current. */
  private follow(s: LuaScript): void {
    if (!this.watcher) return;
    this.watcher.set(s.sourceFiles);
    s.onSourceFile = () => {
      if (this.script === s) this.watcher?.set(s.sourceFiles);
    };
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    if (this.onHup) process.off('SIGHUP', this.onHup);
    await this.reloading;
    this.script.close();
    for (const s of this.retired.keys()) s.close();
    this.retired.clear();
  }
}

/** Loads the script and checks that it defines every required function; throws when not. */
async function loadComplete(opts: ScriptHostOptions): Promise<LuaScript> {
  const script = await LuaScript.load(opts);
  const missing = (opts.requiredFunctions ?? REQUIRED_DEFAULT).filter((fn) => !script.has(fn));
  if (missing.length > 0) {
    script.close();
    throw new Error(`${opts.scriptPath}: no function ${missing.join(', ')} defined`);
  }
  return script;
}
