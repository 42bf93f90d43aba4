/**
 * `kemi-proxy check`: parses each script and the files it `require`s, analyses them and applies the
 * rules with the config's module list. Reads files only; runs nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { analyzeChunk, type FileFacts, type Loc } from './analyze.js';
import type { KsrSpec } from './ksr-spec.js';
import { parseLua } from './lua-parser.js';
import { applyRules, RULES, type Finding, type ProgramContext } from './rules.js';
import { findSuppressions, isSuppressed, type Suppressions } from './suppress.js';

export interface CheckOptions {
  readonly spec: KsrSpec;
  /** The config's `modules` list. */
  readonly modules: readonly string[];
  /** Paths in findings are shown relative to this directory (default: the working directory). */
  readonly cwd?: string;
}

export interface CheckResult {
  readonly findings: Finding[];
  /** Every file read: the scripts and what they require. */
  readonly files: string[];
  readonly errors: number;
  readonly warnings: number;
}

interface Parsed {
  readonly path: string;
  readonly shown: string;
  readonly facts?: FileFacts;
  readonly parseError?: Finding;
  readonly suppressions?: Suppressions;
}

/** Checks each script as the entry of its own program (the script plus what it requires). */
export function checkScripts(scripts: readonly string[], opts: CheckOptions): CheckResult {
  const cwd = opts.cwd ?? process.cwd();
  const cache = new Map<string, Parsed>();
  const shown = (p: string): string => {
    const r = relative(cwd, p);
    return r.startsWith('..') ? p : r;
  };
  const load = (path: string): Parsed => {
    let p = cache.get(path);
    if (!p) {
      p = parseFile(path, shown(path));
      cache.set(path, p);
    }
    return p;
  };
  const loaded = new Set([...opts.modules, '', 'x']);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const push = (f: Finding): void => {
    const key = `${f.file}:${f.line}:${f.column}:${f.rule}:${f.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(f);
  };

  for (const script of scripts) {
    const program = collectProgram(resolve(cwd, script), cwd, load);
    const facts = program.filter((p) => p.facts).map((p) => p.facts!);
    const ctx: ProgramContext = {
      spec: opts.spec,
      loaded,
      globalFunctions: new Set(facts.flatMap((f) => [...f.globalFunctions.keys()])),
      localFunctions: new Set(facts.flatMap((f) => [...f.localFunctions])),
      probedModules: new Set(facts.flatMap((f) => [...f.probedModules])),
    };
    for (const p of program) {
      if (p.parseError) push(p.parseError);
      if (p.facts) applyRules(p.shown, p.facts, ctx).filter((f) => !isSuppressed(f, p.suppressions!)).forEach(push);
    }
    const entry = program[0]!;
    if (entry.facts && !ctx.globalFunctions.has('ksr_request_route') && !isSuppressed({ rule: 'no-request-route', line: 1 }, entry.suppressions!)) {
      push({ file: entry.shown, line: 1, column: 1, rule: 'no-request-route', severity: RULES['no-request-route'].severity, message: 'the script defines no global function ksr_request_route: the proxy has nothing to run for requests' });
    }
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return {
    findings,
    files: [...cache.values()].map((p) => p.shown),
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/**
 * The entry file first, then every file it requires, transitively, each once. A required name is
 * looked for next to the requiring file, next to the entry script (scripts commonly put their own
 * directory first in package.path) and in the working directory (Lua's default "./?.lua").
 */
function collectProgram(entry: string, cwd: string, load: (path: string) => Parsed): Parsed[] {
  const out: Parsed[] = [];
  const queued = new Set([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const p = load(queue.shift()!);
    out.push(p);
    const bases = [...new Set([dirname(p.path), dirname(entry), cwd])];
    for (const req of p.facts?.requires ?? []) {
      const r = requiredFile(bases, req.name);
      if (r && !queued.has(r)) {
        queued.add(r);
        queue.push(r);
      }
    }
  }
  return out;
}

function parseFile(path: string, shown: string): Parsed {
  let src: string;
  try {
    src = readFileSync(path, 'latin1');
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    return { path, shown, parseError: finding(shown, { line: 1, column: 1 }, `cannot read the file (${reason})`) };
  }
  const parsed = parseLua(src);
  if (!parsed.ok) {
    return { path, shown, parseError: finding(shown, { line: parsed.line, column: parsed.column + 1 }, parsed.message) };
  }
  return { path, shown, facts: analyzeChunk(parsed.chunk), suppressions: findSuppressions(src) };
}

function finding(file: string, loc: Loc, message: string): Finding {
  return { file, line: loc.line, column: loc.column, rule: 'parse-error', severity: 'error', message };
}

/**
 * `require "a.b"` as a package.path of `DIR/?.lua;DIR/?/init.lua` for each base directory would
 * find it. A module found nowhere there (a library installed on the system) is not checked.
 */
export function requiredFile(bases: readonly string[], name: string): string | undefined {
  const rel = name.replace(/\./g, '/');
  for (const dir of bases) {
    for (const candidate of [join(dir, `${rel}.lua`), join(dir, rel, 'init.lua')]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}
