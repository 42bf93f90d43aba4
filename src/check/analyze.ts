/**
 * One pass over a script's AST that resolves names through Lua's scopes and collects what the
 * rules need: every reference to a KSR function (direct, or through a local alias such as
 * `local tm = KSR.tm`), the ones whose value is tested for truth or compared with a literal,
 * callback names passed as strings, writes to state that outlives a message, global function
 * definitions and `require`s. It knows nothing of the export tables: rules.ts judges.
 */
import {
  callArgs, isCall,
  type Call, type Chunk, type Expression, type FunctionDeclaration, type Identifier, type IndexExpression,
  type MemberExpression, type Statement,
} from './lua-ast.js';

export interface Loc {
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** A KSR function: module "" is a function directly under KSR, "x" app_lua's KSR.x. */
export interface KsrTarget {
  readonly module: string;
  readonly name: string;
}

/** A local variable. */
export interface Binding {
  readonly name: string;
  /** 0 for the chunk's own locals (they live as long as the VM), more inside functions. */
  readonly fnDepth: number;
  readonly loc: Loc;
  /** `local K = KSR` (module null) or `local tm = KSR.tm`. */
  ksrTable?: { module: string | null };
  /** `local relay = KSR.tm.t_relay`. */
  ksrFunction?: KsrTarget;
  /** `local rc = KSR.m.f(...)`: the call that gave its value. */
  fromCall?: KsrTarget;
  /** Assigned again after its declaration: what it holds is then not known. */
  reassigned: boolean;
}

export interface KsrUse {
  readonly target: KsrTarget;
  readonly loc: Loc;
  /** Present when called; absent for a plain reference (`local f = KSR.tm.t_relay`). */
  readonly call?: {
    readonly args: readonly Expression[];
    /** Called with `:` (passes the module table as first argument). */
    readonly method: boolean;
    /** The last argument is a call or `...`: the count of values passed is not known. */
    readonly openEnded: boolean;
  };
  readonly via?: Binding;
}

export type TruthHow = 'condition' | 'not' | 'and' | 'or' | 'variable';

/** A KSR call result tested for truth: `if KSR.m.f() then`, `not ...`, `a and b`. */
export interface TruthUse {
  readonly target: KsrTarget;
  readonly loc: Loc;
  readonly how: TruthHow;
  /** For `if rc then` where `local rc = KSR.m.f()`: that variable. */
  readonly variable?: Binding;
  readonly via?: Binding;
}

/** A KSR call result compared with a number or boolean literal. */
export interface LiteralCompare {
  readonly target: KsrTarget;
  readonly loc: Loc;
  readonly operator: string;
  readonly literal: 'number' | 'boolean';
  readonly text: string;
  readonly variable?: Binding;
  readonly via?: Binding;
}

/** A KSR function used as an operand without being called: `KSR.m.f > 0`. */
export interface UncalledUse {
  readonly target: KsrTarget;
  readonly loc: Loc;
  readonly operator: string;
  readonly via?: Binding;
}

/** A function name given as a string to a KSR function that later calls it. */
export interface CallbackRef {
  readonly target: KsrTarget;
  readonly name: string;
  readonly loc: Loc;
}

/** Inside a function, a write to state that outlives the message (globals, chunk-level locals). */
export interface StateWrite {
  readonly name: string;
  readonly kind: 'global' | 'chunk-local' | 'field';
  readonly loc: Loc;
}

export interface FileFacts {
  readonly ksr: KsrUse[];
  readonly truth: TruthUse[];
  readonly compares: LiteralCompare[];
  readonly uncalled: UncalledUse[];
  readonly callbacks: CallbackRef[];
  readonly writes: StateWrite[];
  /** Global functions the file defines (`function f()`, `f = function() end`). */
  readonly globalFunctions: Map<string, Loc>;
  /** Functions defined as chunk-level locals (a callback name cannot reach them). */
  readonly localFunctions: Set<string>;
  readonly requires: { readonly name: string; readonly loc: Loc }[];
  /** Modules whose presence the script tests (`if KSR.registrar == nil`, `if KSR.dispatcher then`). */
  readonly probedModules: Set<string>;
}

/** Which argument of which KSR function names a Lua function to call later. */
export const CALLBACK_ARGS: ReadonlyMap<string, number> = new Map([
  ['tm.t_on_failure', 0],
  ['tm.t_on_branch', 0],
  ['tm.t_on_branch_failure', 0],
  ['tm.t_on_reply', 0],
  ['tmx.t_continue', 2],
  ['app_lua.run', 0],
  ['app_lua.run_p1', 0],
  ['app_lua.run_p2', 0],
  ['app_lua.run_p3', 0],
]);

/** Standard library tables: writing their fields (`package.path = ...`) is not script state. */
const STD_TABLES = new Set(['string', 'table', 'math', 'os', 'io', 'package', 'coroutine', 'debug', 'utf8', 'bit32', 'KSR']);

const COMPARE_OPS = new Set(['==', '~=', '<', '<=', '>', '>=']);

class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(
    readonly parent: Scope | null,
    readonly fnDepth: number,
  ) {}

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }
}

type Ctx = 'value' | Exclude<TruthHow, 'variable'>;

type KsrRef = { kind: 'root'; via?: Binding } | { kind: 'module'; module: string; via?: Binding } | { kind: 'function'; target: KsrTarget; via?: Binding };

const locOf = (n: { loc: { start: { line: number; column: number } } }): Loc => ({ line: n.loc.start.line, column: n.loc.start.column + 1 });

export function analyzeChunk(chunk: Chunk): FileFacts {
  return new Analyzer().run(chunk);
}

class Analyzer {
  private readonly facts: FileFacts = {
    ksr: [], truth: [], compares: [], uncalled: [], callbacks: [], writes: [],
    globalFunctions: new Map(), localFunctions: new Set(), requires: [], probedModules: new Set(),
  };
  private scope = new Scope(null, 0);

  run(chunk: Chunk): FileFacts {
    this.block(chunk.body);
    // What a variable holds is known only if nothing assigns it again: drop the facts that relied on one that is.
    const known = (b?: Binding): boolean => !b || !b.reassigned;
    const f = this.facts;
    return {
      ...f,
      ksr: f.ksr.filter((u) => known(u.via)),
      truth: f.truth.filter((u) => known(u.via) && known(u.variable)),
      compares: f.compares.filter((u) => known(u.via) && known(u.variable)),
      uncalled: f.uncalled.filter((u) => known(u.via)),
    };
  }

  // ---- scopes -----------------------------------------------------------------------------------

  private declare(id: Identifier): Binding {
    const b: Binding = { name: id.name, fnDepth: this.scope.fnDepth, loc: locOf(id), reassigned: false };
    this.scope.vars.set(id.name, b);
    return b;
  }

  private inScope(fnDepth: number, body: () => void): void {
    const saved = this.scope;
    this.scope = new Scope(saved, fnDepth);
    try {
      body();
    } finally {
      this.scope = saved;
    }
  }

  private block(body: readonly Statement[]): void {
    for (const s of body) this.statement(s);
  }

  // ---- statements -------------------------------------------------------------------------------

  private statement(s: Statement): void {
    switch (s.type) {
      case 'LocalStatement': {
        s.init.forEach((e) => this.expr(e, 'value'));
        // Resolved before the names are declared: `local KSR = KSR` still means the global.
        const what = s.variables.map((_, i) => (s.init[i] ? this.describe(s.init[i]) : {}));
        s.variables.forEach((v, i) => Object.assign(this.declare(v), what[i]));
        break;
      }
      case 'AssignmentStatement':
        s.init.forEach((e) => this.expr(e, 'value'));
        s.variables.forEach((v) => this.assignTarget(v));
        s.variables.forEach((v, i) => {
          const init = s.init[i];
          if (v.type === 'Identifier' && !this.scope.lookup(v.name) && init?.type === 'FunctionDeclaration') {
            this.facts.globalFunctions.set(v.name, locOf(v));
          }
        });
        break;
      case 'CallStatement':
        this.expr(s.expression, 'value');
        break;
      case 'FunctionDeclaration':
        this.functionDeclaration(s);
        break;
      case 'IfStatement':
        for (const c of s.clauses) {
          if (c.type !== 'ElseClause') this.expr(c.condition, 'condition');
          this.inScope(this.scope.fnDepth, () => this.block(c.body));
        }
        break;
      case 'WhileStatement':
        this.expr(s.condition, 'condition');
        this.inScope(this.scope.fnDepth, () => this.block(s.body));
        break;
      case 'RepeatStatement':
        // The condition sees the body's locals.
        this.inScope(this.scope.fnDepth, () => {
          this.block(s.body);
          this.expr(s.condition, 'condition');
        });
        break;
      case 'DoStatement':
        this.inScope(this.scope.fnDepth, () => this.block(s.body));
        break;
      case 'ForNumericStatement':
        this.expr(s.start, 'value');
        this.expr(s.end, 'value');
        if (s.step) this.expr(s.step, 'value');
        this.inScope(this.scope.fnDepth, () => {
          this.declare(s.variable);
          this.block(s.body);
        });
        break;
      case 'ForGenericStatement':
        s.iterators.forEach((e) => this.expr(e, 'value'));
        this.inScope(this.scope.fnDepth, () => {
          s.variables.forEach((v) => this.declare(v));
          this.block(s.body);
        });
        break;
      case 'ReturnStatement':
        s.arguments.forEach((e) => this.expr(e, 'value'));
        break;
      case 'LabelStatement':
      case 'BreakStatement':
      case 'GotoStatement':
        break;
    }
  }

  /** What a fresh local holds when that is a KSR table, function or call result. */
  private describe(init: Expression): Pick<Binding, 'ksrTable' | 'ksrFunction' | 'fromCall'> {
    if (isCall(init)) {
      const t = this.callTarget(init);
      return t ? { fromCall: t.target } : {};
    }
    const r = this.ksrRef(init);
    if (r?.kind === 'root') return { ksrTable: { module: null } };
    if (r?.kind === 'module') return { ksrTable: { module: r.module } };
    if (r?.kind === 'function') return { ksrFunction: r.target };
    return {};
  }

  private functionDeclaration(f: FunctionDeclaration): void {
    const id = f.identifier;
    if (id?.type === 'Identifier') {
      if (f.isLocal) {
        this.declare(id);
        if (this.scope.fnDepth === 0) this.facts.localFunctions.add(id.name);
      } else {
        const b = this.scope.lookup(id.name);
        if (b) b.reassigned = true;
        else {
          this.facts.globalFunctions.set(id.name, locOf(id));
          // ksr_* are the callbacks the proxy calls by name: defining them is the point.
          if (this.scope.fnDepth > 0 && !id.name.startsWith('ksr_')) this.facts.writes.push({ name: id.name, kind: 'global', loc: locOf(id) });
        }
      }
    } else if (id?.type === 'MemberExpression') {
      this.assignTarget(id);
    }
    this.functionBody(f, id?.type === 'MemberExpression' && id.indexer === ':');
  }

  private functionBody(f: FunctionDeclaration, method: boolean): void {
    this.inScope(this.scope.fnDepth + 1, () => {
      if (method) this.scope.vars.set('self', { name: 'self', fnDepth: this.scope.fnDepth, loc: locOf(f), reassigned: false });
      for (const p of f.parameters) if (p.type === 'Identifier') this.declare(p);
      this.block(f.body);
    });
  }

  private assignTarget(v: Identifier | MemberExpression | IndexExpression): void {
    const inFunction = this.scope.fnDepth > 0;
    if (v.type === 'Identifier') {
      const b = this.scope.lookup(v.name);
      if (b) {
        b.reassigned = true;
        if (inFunction && b.fnDepth === 0) this.facts.writes.push({ name: v.name, kind: 'chunk-local', loc: locOf(v) });
      } else if (inFunction) {
        this.facts.writes.push({ name: v.name, kind: 'global', loc: locOf(v) });
      }
      return;
    }
    this.expr(v.base, 'value');
    if (v.type === 'IndexExpression') this.expr(v.index, 'value');
    if (!inFunction) return;
    // `_G.x = ...` / `_G["x"] = ...` is a global write.
    if (v.base.type === 'Identifier' && v.base.name === '_G' && !this.scope.lookup('_G')) {
      const name = v.type === 'MemberExpression' ? v.identifier.name : v.index.type === 'StringLiteral' ? v.index.value ?? '?' : '?';
      this.facts.writes.push({ name, kind: 'global', loc: locOf(v) });
      return;
    }
    const root = rootIdentifier(v);
    if (!root || STD_TABLES.has(root.name)) return;
    const b = this.scope.lookup(root.name);
    if (b ? b.fnDepth === 0 : root.name !== '_G') this.facts.writes.push({ name: root.name, kind: 'field', loc: locOf(v) });
  }

  // ---- expressions ------------------------------------------------------------------------------

  /** What an expression is in terms of KSR, through local aliases; undefined when it is not KSR. */
  private ksrRef(e: Expression): KsrRef | undefined {
    if (e.type === 'Identifier') {
      const b = this.scope.lookup(e.name);
      if (!b) return e.name === 'KSR' ? { kind: 'root' } : undefined;
      if (b.ksrTable) return b.ksrTable.module === null ? { kind: 'root', via: b } : { kind: 'module', module: b.ksrTable.module, via: b };
      if (b.ksrFunction) return { kind: 'function', target: b.ksrFunction, via: b };
      return undefined;
    }
    if (e.type !== 'MemberExpression') return undefined;
    const base = this.ksrRef(e.base);
    if (!base) return undefined;
    if (base.kind === 'root') {
      return { kind: 'module', module: e.identifier.name, via: base.via };
    }
    if (base.kind === 'module') return { kind: 'function', target: { module: base.module, name: e.identifier.name }, via: base.via };
    return undefined;
  }

  /** The KSR function a call calls (`KSR.f()` is core `f`). */
  private callTarget(c: Call): { target: KsrTarget; via?: Binding; method: boolean } | undefined {
    const base = c.base;
    if (base.type === 'MemberExpression') {
      const owner = this.ksrRef(base.base);
      if (owner?.kind === 'root') return { target: { module: '', name: base.identifier.name }, via: owner.via, method: base.indexer === ':' };
      if (owner?.kind === 'module') return { target: { module: owner.module, name: base.identifier.name }, via: owner.via, method: base.indexer === ':' };
      return undefined;
    }
    const r = this.ksrRef(base);
    return r?.kind === 'function' ? { target: r.target, via: r.via, method: false } : undefined;
  }

  /** A KSR call, or a local holding one's result, whose value an expression is. */
  private valueOf(e: Expression): { target: KsrTarget; via?: Binding; variable?: Binding; loc: Loc } | undefined {
    if (isCall(e)) {
      const t = this.callTarget(e);
      return t ? { target: t.target, via: t.via, loc: locOf(e) } : undefined;
    }
    if (e.type === 'Identifier') {
      const b = this.scope.lookup(e.name);
      if (b?.fromCall) return { target: b.fromCall, variable: b, loc: locOf(e) };
    }
    return undefined;
  }

  private expr(e: Expression, ctx: Ctx): void {
    if (ctx !== 'value') {
      const v = this.valueOf(e);
      if (v) this.facts.truth.push({ target: v.target, loc: v.loc, how: v.variable ? 'variable' : ctx, variable: v.variable, via: v.via });
      const r = this.ksrRef(e);
      if (r?.kind === 'module') this.facts.probedModules.add(r.module);
      if (r?.kind === 'function') this.facts.probedModules.add(r.target.module);
    }
    switch (e.type) {
      case 'CallExpression':
      case 'TableCallExpression':
      case 'StringCallExpression':
        this.call(e);
        break;
      case 'MemberExpression': {
        const r = this.ksrRef(e);
        if (r?.kind === 'function' && ctx === 'value') this.facts.ksr.push({ target: r.target, loc: locOf(e), via: r.via });
        else if (!r) this.expr(e.base, 'value');
        break;
      }
      case 'IndexExpression':
        this.expr(e.base, 'value');
        this.expr(e.index, 'value');
        break;
      case 'LogicalExpression':
        if (e.operator === 'or' && e.left.type === 'LogicalExpression' && e.left.operator === 'and' && ctx === 'value') {
          // `c and x or y`, Lua's conditional value: x being always true is what the idiom needs.
          this.expr(e.left.left, 'and');
          this.expr(e.left.right, 'value');
          this.expr(e.right, 'value');
          break;
        }
        // The left operand is always tested for truth; the right one is the value in ctx.
        this.expr(e.left, ctx === 'value' ? e.operator : ctx);
        this.expr(e.right, ctx);
        break;
      case 'UnaryExpression':
        this.expr(e.argument, e.operator === 'not' ? 'not' : 'value');
        break;
      case 'BinaryExpression':
        this.binary(e.operator, e.left, e.right);
        break;
      case 'FunctionDeclaration':
        this.functionBody(e, false);
        break;
      case 'TableConstructorExpression':
        for (const f of e.fields) {
          if (f.type === 'TableKey') this.expr(f.key, 'value');
          this.expr(f.value, 'value');
        }
        break;
      case 'Identifier':
      case 'StringLiteral':
      case 'NumericLiteral':
      case 'BooleanLiteral':
      case 'NilLiteral':
      case 'VarargLiteral':
        break;
    }
  }

  private binary(op: string, left: Expression, right: Expression): void {
    for (const [a, b] of [[left, right], [right, left]] as const) {
      // `KSR.m.f == nil` tests that the function exists; any other operand means a call was meant.
      const r = b.type === 'NilLiteral' ? undefined : this.ksrRef(a);
      if (r?.kind === 'function') this.facts.uncalled.push({ target: r.target, loc: locOf(a), operator: op, via: r.via });
    }
    if (COMPARE_OPS.has(op)) {
      for (const [a, b] of [[left, right], [right, left]] as const) {
        const v = this.valueOf(a);
        const lit = literalKind(b);
        if (v && lit) this.facts.compares.push({ target: v.target, loc: v.loc, operator: op, literal: lit.kind, text: lit.text, variable: v.variable, via: v.via });
        if ((op === '==' || op === '~=') && b.type === 'NilLiteral') {
          const r = this.ksrRef(a);
          if (r?.kind === 'module') this.facts.probedModules.add(r.module);
          if (r?.kind === 'function') this.facts.probedModules.add(r.target.module);
        }
      }
    }
    this.expr(left, 'value');
    this.expr(right, 'value');
  }

  private call(c: Call): void {
    const args = callArgs(c);
    const t = this.callTarget(c);
    if (t) {
      const last = args[args.length - 1];
      const openEnded = !!last && ((isCall(last) && !last.inParens) || last.type === 'VarargLiteral');
      this.facts.ksr.push({ target: t.target, loc: locOf(c), call: { args, method: t.method, openEnded }, via: t.via });
      const cbIndex = CALLBACK_ARGS.get(`${t.target.module}.${t.target.name}`);
      const cb = cbIndex === undefined ? undefined : args[cbIndex];
      if (cb?.type === 'StringLiteral' && cb.value) this.facts.callbacks.push({ target: t.target, name: cb.value, loc: locOf(cb) });
    } else {
      this.expr(c.base, 'value');
      if (c.base.type === 'Identifier' && c.base.name === 'require' && !this.scope.lookup('require')) {
        const a = args[0];
        if (a?.type === 'StringLiteral' && a.value) this.facts.requires.push({ name: a.value, loc: locOf(a) });
      }
    }
    args.forEach((a) => this.expr(a, 'value'));
  }
}

function rootIdentifier(e: Expression): Identifier | undefined {
  let cur: Expression = e;
  while (cur.type === 'MemberExpression' || cur.type === 'IndexExpression') cur = cur.base;
  return cur.type === 'Identifier' ? cur : undefined;
}

function literalKind(e: Expression): { kind: 'number' | 'boolean'; text: string } | undefined {
  if (e.type === 'NumericLiteral') return { kind: 'number', text: e.raw };
  if (e.type === 'UnaryExpression' && e.operator === '-' && e.argument.type === 'NumericLiteral') return { kind: 'number', text: '-' + e.argument.raw };
  if (e.type === 'BooleanLiteral') return { kind: 'boolean', text: e.raw };
  return undefined;
}
