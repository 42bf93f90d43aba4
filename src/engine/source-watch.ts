/**
 * Watches a script and the Lua files it required: one watcher per folder (editors that write a new
 * file and rename it over the old one replace the inode, so the file itself cannot be watched),
 * changes to the listed files only, debounced into one call.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export class SourceWatcher {
  private readonly dirs = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  private debounce: NodeJS.Timeout | null = null;

  constructor(
    private readonly onChange: () => void,
    private readonly warn: (text: string) => void,
    private readonly delayMs = 100,
  ) {}

  /** Watches exactly these files (absolute paths) from now on. */
  set(files: Iterable<string>): void {
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const d = dirname(f);
      let names = wanted.get(d);
      if (!names) wanted.set(d, (names = new Set()));
      names.add(basename(f));
    }
    for (const [d, w] of this.dirs) {
      if (!wanted.has(d)) {
        w.watcher.close();
        this.dirs.delete(d);
      }
    }
    for (const [d, names] of wanted) {
      const have = this.dirs.get(d);
      if (have) {
        have.names = names;
        continue;
      }
      try {
        const entry = { watcher: watch(d), names };
        entry.watcher.on('change', (_ev, name) => {
          if (name !== null && !entry.names.has(name.toString())) return;
          this.changed();
        });
        entry.watcher.on('error', (e) => this.warn(`cannot watch ${d}: ${e.message}`));
        this.dirs.set(d, entry);
      } catch (e) {
        this.warn(`cannot watch ${d}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private changed(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.onChange();
    }, this.delayMs);
  }

  close(): void {
    for (const w of this.dirs.values()) w.watcher.close();
    this.dirs.clear();
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
  }
}
