/**
 * The AST luaparse 0.3 builds (options `locations: true`), typed as far as the checker reads it.
 * Written here because luaparse ships no types.
 */

export interface Position {
  readonly line: number;
  /** 0-based. */
  readonly column: number;
}

interface Base {
  readonly loc: { readonly start: Position; readonly end: Position };
  /** Set by luaparse on an expression written in parentheses (which truncates a call to one value). */
  readonly inParens?: boolean;
}

export interface Chunk extends Base { readonly type: 'Chunk'; readonly body: Statement[] }

export interface Identifier extends Base { readonly type: 'Identifier'; readonly name: string }
export interface StringLiteral extends Base { readonly type: 'StringLiteral'; readonly value: string | null; readonly raw: string }
export interface NumericLiteral extends Base { readonly type: 'NumericLiteral'; readonly value: number; readonly raw: string }
export interface BooleanLiteral extends Base { readonly type: 'BooleanLiteral'; readonly value: boolean; readonly raw: string }
export interface NilLiteral extends Base { readonly type: 'NilLiteral'; readonly raw: string }
export interface VarargLiteral extends Base { readonly type: 'VarargLiteral'; readonly raw: string }
export interface FunctionDeclaration extends Base {
  readonly type: 'FunctionDeclaration';
  /** null for a function expression. */
  readonly identifier: Identifier | MemberExpression | null;
  readonly isLocal: boolean;
  readonly parameters: (Identifier | VarargLiteral)[];
  readonly body: Statement[];
}
export interface TableKey extends Base { readonly type: 'TableKey'; readonly key: Expression; readonly value: Expression }
export interface TableKeyString extends Base { readonly type: 'TableKeyString'; readonly key: Identifier; readonly value: Expression }
export interface TableValue extends Base { readonly type: 'TableValue'; readonly value: Expression }
export interface TableConstructorExpression extends Base {
  readonly type: 'TableConstructorExpression';
  readonly fields: (TableKey | TableKeyString | TableValue)[];
}
export interface BinaryExpression extends Base {
  readonly type: 'BinaryExpression';
  readonly operator: string;
  readonly left: Expression;
  readonly right: Expression;
}
export interface LogicalExpression extends Base {
  readonly type: 'LogicalExpression';
  readonly operator: 'and' | 'or';
  readonly left: Expression;
  readonly right: Expression;
}
export interface UnaryExpression extends Base { readonly type: 'UnaryExpression'; readonly operator: string; readonly argument: Expression }
export interface MemberExpression extends Base {
  readonly type: 'MemberExpression';
  readonly indexer: '.' | ':';
  readonly identifier: Identifier;
  readonly base: Expression;
}
export interface IndexExpression extends Base { readonly type: 'IndexExpression'; readonly base: Expression; readonly index: Expression }
export interface CallExpression extends Base { readonly type: 'CallExpression'; readonly base: Expression; readonly arguments: Expression[] }
export interface TableCallExpression extends Base { readonly type: 'TableCallExpression'; readonly base: Expression; readonly arguments: TableConstructorExpression }
export interface StringCallExpression extends Base { readonly type: 'StringCallExpression'; readonly base: Expression; readonly argument: StringLiteral }

export type Call = CallExpression | TableCallExpression | StringCallExpression;

export type Expression =
  | Identifier | StringLiteral | NumericLiteral | BooleanLiteral | NilLiteral | VarargLiteral
  | FunctionDeclaration | TableConstructorExpression | BinaryExpression | LogicalExpression
  | UnaryExpression | MemberExpression | IndexExpression | Call;

export interface LabelStatement extends Base { readonly type: 'LabelStatement'; readonly label: Identifier }
export interface BreakStatement extends Base { readonly type: 'BreakStatement' }
export interface GotoStatement extends Base { readonly type: 'GotoStatement'; readonly label: Identifier }
export interface ReturnStatement extends Base { readonly type: 'ReturnStatement'; readonly arguments: Expression[] }
export interface IfClause extends Base { readonly type: 'IfClause' | 'ElseifClause'; readonly condition: Expression; readonly body: Statement[] }
export interface ElseClause extends Base { readonly type: 'ElseClause'; readonly body: Statement[] }
export interface IfStatement extends Base { readonly type: 'IfStatement'; readonly clauses: (IfClause | ElseClause)[] }
export interface WhileStatement extends Base { readonly type: 'WhileStatement'; readonly condition: Expression; readonly body: Statement[] }
export interface DoStatement extends Base { readonly type: 'DoStatement'; readonly body: Statement[] }
export interface RepeatStatement extends Base { readonly type: 'RepeatStatement'; readonly condition: Expression; readonly body: Statement[] }
export interface LocalStatement extends Base { readonly type: 'LocalStatement'; readonly variables: Identifier[]; readonly init: Expression[] }
export interface AssignmentStatement extends Base {
  readonly type: 'AssignmentStatement';
  readonly variables: (Identifier | MemberExpression | IndexExpression)[];
  readonly init: Expression[];
}
export interface CallStatement extends Base { readonly type: 'CallStatement'; readonly expression: Call }
export interface ForNumericStatement extends Base {
  readonly type: 'ForNumericStatement';
  readonly variable: Identifier;
  readonly start: Expression;
  readonly end: Expression;
  readonly step: Expression | null;
  readonly body: Statement[];
}
export interface ForGenericStatement extends Base {
  readonly type: 'ForGenericStatement';
  readonly variables: Identifier[];
  readonly iterators: Expression[];
  readonly body: Statement[];
}

export type Statement =
  | LabelStatement | BreakStatement | GotoStatement | ReturnStatement | IfStatement | WhileStatement
  | DoStatement | RepeatStatement | LocalStatement | AssignmentStatement | CallStatement
  | FunctionDeclaration | ForNumericStatement | ForGenericStatement;

/** The arguments of any call form: `f(a, b)`, `f{...}`, `f"..."`. */
export function callArgs(c: Call): Expression[] {
  switch (c.type) {
    case 'CallExpression':
      return c.arguments;
    case 'TableCallExpression':
      return [c.arguments];
    case 'StringCallExpression':
      return [c.argument];
  }
}

export function isCall(e: Expression): e is Call {
  return e.type === 'CallExpression' || e.type === 'TableCallExpression' || e.type === 'StringCallExpression';
}
