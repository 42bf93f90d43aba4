/**
 * Hot reload: the running script and its replacements. A reload compiles the file in a fresh VM
 * and swaps it in for the next message only if it loaded cleanly; a broken script never replaces
 * the running one. Messages in flight finish on the VM they started on: callers acquire the
 * current script for a message and release it after; an old VM is closed when its last user is gone.
 *
 * Kamailio re-runs the file in the same Lua state, so globals survive a reload there; here the
 * new script starts from a clean state (a failed load cannot leave half-defined functions behind).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LuaScript, type LoadOptions } from './lua-script.js';

export interface ScriptHostOptions extends LoadOptions {
  /** Reload when the file changes. */
  watch?: boolean;
  /** Reload on SIGHUP. */
  handleSignals?: boolean;
  /** After a reload swapped the new script in (the core reloads TLS certificates then). */
  onReloaded?: () => void;
}

export interface ScriptHostStats {
  reloads: number;
  reloadFailures: number;
}

export class ScriptHost {
  readonly stats: ScriptHostStats = { reloads: 0, reloadFailures: 0 };
  private users = new Map<LuaScript, number>();
  private retired = new Set<LuaScript>();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private reloading: Promise<{ ok: boolean; error?: string }> | null = null;
  private onHup: (() => void) | null = null;

  private constructor(
    private script: LuaScript,
    private readonly opts: ScriptHostOptions,
  ) {}

  static async create(opts: ScriptHostOptions): Promise<ScriptHost> {
    const script = await LuaScript.load(opts);
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
    const s = this.script;
    this.users.set(s, (this.users.get(s) ?? 0) + 1);
    return s;
  }

  release(s: LuaScript): void {
    const n = (this.users.get(s) ?? 1) - 1;
    if (n > 0) {
      this.users.set(s, n);
      return;
    }
    this.users.delete(s);
    if (this.retired.has(s)) {
      this.retired.delete(s);
      s.close();
    }
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
      next = await LuaScript.load(this.opts);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.stats.reloadFailures++;
      this.opts.log('err', `script reload failed, keeping the running script: ${error}`);
      return { ok: false, error };
    }
    const old = this.script;
    this.script = next;
    this.stats.reloads++;
    if ((this.users.get(old) ?? 0) > 0) this.retired.add(old);
    else old.close();
    this.opts.log('info', `script reloaded ok: ${this.opts.scriptPath}`);
    this.opts.onReloaded?.();
    return { ok: true };
  }

  private startWatching(): void {
    const file = resolve(this.opts.scriptPath);
    // Watch the folder: editors that write a new file and rename it over the old one replace the inode.
    this.watcher = watch(dirname(file), (_ev, name) => {
      if (name !== null && name.toString() !== basename(file)) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        void this.reload();
      }, 100);
    });
    this.watcher.on('error', (e) => this.opts.log('warn', `cannot watch ${file}: ${e.message}`));
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.onHup) process.off('SIGHUP', this.onHup);
    await this.reloading;
    this.script.close();
    for (const s of this.retired) s.close();
    this.retired.clear();
  }
}
