/**
 * The checks: each turns the facts analyze.ts collected from one file into findings, judged
 * against the export tables and the config's module list.
 */
import type { Expression } from './lua-ast.js';
import type { FileFacts, KsrTarget, Loc, TruthHow } from './analyze.js';
import { qualifiedName, type KsrFunction, type KsrSpec } from './ksr-spec.js';

export type Severity = 'error' | 'warning';

/** Every rule, its severity and what it means (shown by `kemi-proxy check --rules`). */
export const RULES = {
  'parse-error': { severity: 'error', about: 'the file is not valid Lua 5.4' },
  'unknown-module': { severity: 'error', about: 'KSR.<module> that neither Kamailio 5.6.3 nor kemi-proxy exports: nil at run time' },
  'module-not-loaded': { severity: 'error', about: 'a KSR module the config does not load: nil at run time' },
  'unknown-function': { severity: 'error', about: 'a KSR function its module does not export: nil at run time' },
  'not-implemented': { severity: 'warning', about: 'a Kamailio 5.6.3 function kemi-proxy does not implement: raises when called' },
  'method-call': { severity: 'error', about: 'KSR.m:f() passes the module table as first argument' },
  'too-few-arguments': { severity: 'error', about: 'fewer arguments than the export declares: the call fails and returns false' },
  'too-many-arguments': { severity: 'warning', about: 'more arguments than the export declares: the extra ones are ignored' },
  'argument-type': { severity: 'error', about: 'a literal argument of the wrong type (a string where an int is expected becomes 0)' },
  'int-as-condition': { severity: 'error', about: 'an int-returning KSR call tested for truth: every number is true in Lua, -1 too' },
  'bool-compared-with-number': { severity: 'error', about: 'a boolean-returning KSR call compared with a number: never equal, and < > raise' },
  'int-compared-with-boolean': { severity: 'error', about: 'an int-returning KSR call compared with true/false: never equal' },
  'not-called': { severity: 'error', about: 'a KSR function used as an operand without being called (KSR.m.f > 0)' },
  'undefined-callback': { severity: 'error', about: 'a callback name given to tm/tmx/app_lua that is not a global function of the script' },
  'global-state': { severity: 'warning', about: 'a function writes a global or script-level variable: lost on hot reload, shared by messages in flight' },
  'no-request-route': { severity: 'error', about: 'the script defines no global function ksr_request_route' },
} as const satisfies Record<string, { severity: Severity; about: string }>;

export type RuleId = keyof typeof RULES;

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly message: string;
}

/** What the rules know beyond one file. */
export interface ProgramContext {
  readonly spec: KsrSpec;
  /** Loaded module names; "" (core) and "x" are always there. */
  readonly loaded: ReadonlySet<string>;
  /** Global functions defined by the script and the files it requires. */
  readonly globalFunctions: ReadonlySet<string>;
  /** Chunk-level local functions of those files. */
  readonly localFunctions: ReadonlySet<string>;
  /** Modules whose presence the script tests (absence is then handled). */
  readonly probedModules: ReadonlySet<string>;
}

export function applyRules(file: string, facts: FileFacts, p: ProgramContext): Finding[] {
  const out: Finding[] = [];
  const add = (loc: Loc, rule: RuleId, message: string, severity: Severity = RULES[rule].severity): void => {
    out.push({ file, line: loc.line, column: loc.column, rule, severity, message });
  };
  const resolve = (t: KsrTarget): KsrFunction | undefined => p.spec.modules.get(t.module)?.get(t.name);

  for (const u of facts.ksr) {
    const q = qualifiedName(u.target.module, u.target.name);
    const mod = p.spec.modules.get(u.target.module);
    if (!mod) {
      if (p.probedModules.has(u.target.module)) continue;
      add(u.loc, 'unknown-module', p.loaded.has(u.target.module)
        ? `KSR.${u.target.module}: module '${u.target.module}' is in the config but has no KEMI exports in kemi-proxy, so KSR.${u.target.module} is nil`
        : `KSR.${u.target.module}: kemi-proxy knows no KEMI module '${u.target.module}' (neither in its Kamailio 5.6.3 catalog nor among its own modules), so KSR.${u.target.module} is nil`);
      continue;
    }
    if (!p.loaded.has(u.target.module)) {
      if (!p.probedModules.has(u.target.module)) {
        add(u.loc, 'module-not-loaded', `${q}: module '${u.target.module}' is not loaded by the config (KSR.${u.target.module} is nil); add it to "modules"`);
      }
      continue;
    }
    const fn = mod.get(u.target.name);
    if (!fn) {
      const near = closest(u.target.name, [...mod.keys()]);
      const elsewhere = [...p.spec.modules].find(([, fns]) => fns.has(u.target.name))?.[0];
      const hint = near !== undefined ? qualifiedName(u.target.module, near) : elsewhere !== undefined ? qualifiedName(elsewhere, u.target.name) : undefined;
      add(u.loc, 'unknown-function', `${q}: no such function in ${u.target.module === '' ? 'the KSR core' : `module '${u.target.module}'`}${hint ? ` (did you mean ${hint}?)` : ''}`);
      continue;
    }
    if (!fn.implemented) add(u.loc, 'not-implemented', `${q}: not implemented in kemi-proxy (Kamailio 5.6.3 has it): raises when called`);
    if (u.call) checkArgs(q, fn, u.call, u.loc, add);
  }

  for (const t of facts.truth) {
    const fn = resolve(t.target);
    if (fn?.ret !== 'int') continue;
    const q = qualifiedName(t.target.module, t.target.name);
    add(t.loc, 'int-as-condition', truthMessage(q, t.how, t.variable?.name, t.variable?.loc));
  }

  for (const c of facts.compares) {
    const fn = resolve(c.target);
    const q = qualifiedName(c.target.module, c.target.name);
    const subject = c.variable ? `'${c.variable.name}' (from ${q}(), line ${c.variable.loc.line})` : `${q}()`;
    if (fn?.ret === 'bool' && c.literal === 'number') {
      add(c.loc, 'bool-compared-with-number', `${subject} returns a boolean: '${c.operator} ${c.text}' ${c.operator === '==' || c.operator === '~=' ? 'never matches' : 'raises an error'}; test it directly (if ${q}() then)`);
    } else if (fn?.ret === 'int' && c.literal === 'boolean') {
      add(c.loc, 'int-compared-with-boolean', `${subject} returns a number: '${c.operator} ${c.text}' never matches; compare with > 0 or < 0`);
    }
  }

  for (const u of facts.uncalled) {
    const q = qualifiedName(u.target.module, u.target.name);
    add(u.loc, 'not-called', `${q} is an operand of '${u.operator}' without being called: that is the function itself (or nil); write ${q}(...)`);
  }

  for (const cb of facts.callbacks) {
    if (p.globalFunctions.has(cb.name)) continue;
    const q = qualifiedName(cb.target.module, cb.target.name);
    add(cb.loc, 'undefined-callback', p.localFunctions.has(cb.name)
      ? `${q}("${cb.name}"): '${cb.name}' is a local function; the callback must be a global function`
      : `${q}("${cb.name}"): the script defines no global function '${cb.name}'`);
  }

  for (const w of facts.writes) {
    const what = w.kind === 'global' ? `global '${w.name}'` : w.kind === 'chunk-local' ? `script-level local '${w.name}'` : `a field of '${w.name}'`;
    add(w.loc, 'global-state', `a function assigns ${what}: the value is lost on hot reload (fresh VM) and shared by all messages in flight; keep per-message data in locals or $var/$avp, shared state in htable`);
  }
  return out;
}

function truthMessage(q: string, how: TruthHow, variable?: string, declared?: Loc): string {
  const fix = 'compare it: > 0 for success, < 0 for failure';
  switch (how) {
    case 'condition':
      return `${q}() returns a number, and every number is true in Lua (-1 too): this condition always holds; ${fix}`;
    case 'not':
      return `not ${q}() is always false: ${q}() returns a number, and every number is true in Lua (-1 too); ${fix}`;
    case 'and':
    case 'or':
      return `${q}() returns a number, true in Lua whatever its value (-1 too), so this '${how}' never sees it fail; ${fix}`;
    case 'variable':
      return `'${variable}' holds ${q}()'s number (line ${declared?.line ?? '?'}), true in Lua whatever its value (-1 too); ${fix}`;
  }
}

function checkArgs(
  q: string,
  fn: KsrFunction,
  call: { readonly args: readonly Expression[]; readonly method: boolean; readonly openEnded: boolean },
  loc: Loc,
  add: (loc: Loc, rule: RuleId, message: string, severity?: Severity) => void,
): void {
  if (call.method) {
    add(loc, 'method-call', `${q}: called with ':', which passes the module table as first argument; use '.'`);
    return;
  }
  const want = fn.params.length;
  const given = call.args.length;
  const sig = `${q}(${fn.params.join(', ')})`;
  if (!call.openEnded && given < want) add(loc, 'too-few-arguments', `${sig}: ${want} argument${want === 1 ? '' : 's'} expected, ${given} given`);
  const surely = call.openEnded ? given - 1 : given;
  if (!fn.variadic && surely > want) add(loc, 'too-many-arguments', `${sig}: ${want} argument${want === 1 ? '' : 's'} expected, ${surely} given (the rest are ignored)`);
  fn.params.forEach((type, i) => {
    const a = call.args[i];
    if (!a) return;
    const at = { line: a.loc.start.line, column: a.loc.start.column + 1 };
    const problem = argProblem(type, a);
    if (problem) add(at, 'argument-type', `${sig}: argument ${i + 1} ${problem.text}`, problem.severity);
  });
}

function argProblem(type: 'str' | 'int', a: Expression): { text: string; severity: Severity } | undefined {
  switch (a.type) {
    case 'StringLiteral':
      if (type === 'str') return undefined;
      return /^\s*[-+]?(\d+|0[xX][0-9a-fA-F]+)\s*$/.test(a.value ?? '')
        ? { text: `is the string ${a.raw} where an int is expected (converted; write the number)`, severity: 'warning' }
        : { text: `is the string ${a.raw} where an int is expected: it becomes 0`, severity: 'error' };
    case 'NumericLiteral':
      if (type === 'int' && !Number.isInteger(a.value)) return { text: `is ${a.raw}, not an integer`, severity: 'error' };
      return undefined;
    case 'BooleanLiteral':
    case 'NilLiteral':
      return { text: `is ${a.raw} where ${type === 'int' ? 'an int' : 'a string'} is expected`, severity: 'error' };
    case 'TableConstructorExpression':
    case 'FunctionDeclaration':
      return { text: `is a ${a.type === 'FunctionDeclaration' ? 'function' : 'table'} where ${type === 'int' ? 'an int' : 'a string'} is expected`, severity: 'error' };
    default:
      return undefined;
  }
}

/** The name within edit distance 2 of `name`, if one is. */
function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(name.toLowerCase(), n.toLowerCase(), bestD);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
