/**
 * Findings a script silences on purpose, with a comment:
 *   `-- kemi-check: ignore [rule, ...]`      on a line of code: that line; alone on its line: the next one
 *   `-- kemi-check: ignore-file [rule, ...]` anywhere: the whole file
 * Without rule names, every rule. The list ends at the next `--` (a further comment).
 */
import type { Finding } from './rules.js';

const MARK = /--\s*kemi-check:\s*(ignore-file|ignore)\b([^\n]*)/;

export interface Suppressions {
  /** Line (1-based) to the rules ignored there; null means all. */
  readonly lines: ReadonlyMap<number, ReadonlySet<string> | null>;
  readonly file: ReadonlySet<string> | null | undefined;
}

export function findSuppressions(src: string): Suppressions {
  const lines = new Map<number, Set<string> | null>();
  let file: Set<string> | null | undefined;
  const merge = (old: Set<string> | null | undefined, rules: Set<string> | null): Set<string> | null =>
    old === null || rules === null ? null : new Set([...(old ?? []), ...rules]);
  src.split('\n').forEach((text, i) => {
    const m = MARK.exec(text);
    if (!m) return;
    const names = m[2]!.split('--')[0]!.split(/[\s,]+/).filter((w) => /^[a-z][a-z-]*$/.test(w));
    const rules = names.length > 0 ? new Set(names) : null;
    if (m[1] === 'ignore-file') {
      file = merge(file, rules);
      return;
    }
    const alone = text.slice(0, m.index).trim() === '';
    const line = alone ? i + 2 : i + 1;
    lines.set(line, merge(lines.get(line), rules));
  });
  return { lines, file };
}

export function isSuppressed(f: Pick<Finding, 'rule' | 'line'>, s: Suppressions): boolean {
  const hit = (rules: ReadonlySet<string> | null | undefined): boolean => rules === null || (rules !== undefined && rules.has(f.rule));
  return hit(s.file) || (s.lines.has(f.line) && hit(s.lines.get(f.line)));
}
