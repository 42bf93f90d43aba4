/**
 * POSIX extended regular expressions (regcomp/regexec, as Kamailio's textops, htable and
 * dispatcher call them) translated to JavaScript RegExps: bracket classes, REG_ICASE,
 * REG_NEWLINE and REG_NOTBOL semantics.
 */
import { nameTable } from './name-table.js';

const POSIX_CLASSES = nameTable({
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e', word: 'A-Za-z0-9_',
});

const JS_SPECIAL = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '/', '-']);
const lit = (c: string): string => (JS_SPECIAL.has(c) ? `\\${c}` : c);

export interface PosixFlags {
  /** REG_ICASE */
  icase?: boolean;
  /** REG_NEWLINE (default true): `.`/`[^x]` do not match "\n"; `^`/`$` match at line breaks. */
  newline?: boolean;
}

/** Translates one POSIX ERE to a JavaScript source; `notbol` is regexec's REG_NOTBOL. */
function translate(re: string, newline: boolean, notbol: boolean): string {
  let out = '';
  let atom = -1; // where the last atom starts in out (-1: none to quantify)
  let quantified = false;
  const groups: number[] = [];
  const quant = (q: string): void => {
    if (atom < 0) {
      out += lit(q[0]!) + q.slice(1);
      return;
    }
    if (quantified) out = `${out.slice(0, atom)}(?:${out.slice(atom)})`;
    out += q;
    quantified = true;
  };
  const push = (s: string, isAtom = true): void => {
    atom = isAtom ? out.length : -1;
    quantified = false;
    out += s;
  };
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    switch (c) {
      case '\\': {
        const n = re[++i];
        if (n === undefined) throw new Error('trailing backslash');
        if (/[1-9]/.test(n)) push(`\\${n}`);
        else if ('wWsS'.includes(n)) push(`\\${n}`);
        else if (n === 'b' || n === 'B') push(`\\${n}`, false);
        else if (n === '<') push('\\b(?=\\w)', false);
        else if (n === '>') push('\\b(?<=\\w)', false);
        else if (n === '`') push('(?<![\\s\\S])', false);
        else if (n === "'") push('(?![\\s\\S])', false);
        else push(lit(n));
        break;
      }
      case '.':
        push(newline ? '[^\\n]' : '[\\s\\S]');
        break;
      case '^':
        push(newline ? (notbol ? '(?<=\\n)' : '(?:^|(?<=\\n))') : notbol ? '(?!)' : '^', false);
        break;
      case '$':
        push(newline ? '(?=\\n|$)' : '$', false);
        break;
      case '[': {
        let j = i + 1;
        let neg = false;
        if (re[j] === '^') {
          neg = true;
          j++;
        }
        let body = '';
        let first = true;
        for (;; j++) {
          if (j >= re.length) throw new Error('unterminated bracket expression');
          const b = re[j]!;
          if (b === ']' && !first) break;
          first = false;
          if (b === '[' && (re[j + 1] === ':' || re[j + 1] === '=' || re[j + 1] === '.')) {
            const kind = re[j + 1]!;
            const close = re.indexOf(`${kind}]`, j + 2);
            if (close < 0) throw new Error('bad bracket expression');
            const name = re.slice(j + 2, close);
            if (kind === ':') {
              const cls = POSIX_CLASSES[name];
              if (!cls) throw new Error(`unknown class [:${name}:]`);
              body += cls;
            } else body += name.split('').map((x) => `\\${x === '\\' ? '\\' : x}`).join('');
            j = close + 1;
            continue;
          }
          if (b === '\\' || b === ']' || b === '[' || b === '^') body += `\\${b}`;
          else body += b;
        }
        push(`[${neg ? '^' : ''}${neg && newline ? '\\n' : ''}${body}]`);
        i = j;
        break;
      }
      case '*':
      case '+':
      case '?':
        quant(c);
        break;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(re.slice(i));
        if (m && atom >= 0) {
          quant(m[0]);
          i += m[0].length - 1;
        } else push('\\{');
        break;
      }
      case '(':
        groups.push(out.length);
        out += '(';
        atom = -1;
        quantified = false;
        break;
      case ')':
        if (groups.length === 0) {
          push('\\)');
          break;
        }
        out += ')';
        atom = groups.pop()!;
        quantified = false;
        break;
      case '|':
        out += '|';
        atom = -1;
        quantified = false;
        break;
      default:
        push(lit(c));
    }
  }
  if (groups.length) throw new Error('unbalanced parenthesis');
  return out;
}

export interface PosixMatch {
  /** Offsets of the whole match in the searched text. */
  start: number;
  end: number;
  /** Group texts, [0] the whole match (undefined: group did not take part). */
  groups: (string | undefined)[];
}

/** A compiled POSIX ERE (regcomp) with regexec semantics over a text from an offset. */
export class PosixRegex {
  private readonly bol: RegExp;
  private readonly notbol: RegExp;
  constructor(readonly source: string, flags: PosixFlags = {}) {
    const nl = flags.newline ?? true;
    const f = flags.icase ? 'i' : '';
    this.bol = new RegExp(translate(source, nl, false), f);
    this.notbol = new RegExp(translate(source, nl, true), f);
  }
  /** regexec on text[from..] (a C string starting there); notbol as REG_NOTBOL. */
  exec(text: string, from = 0, notbol = false): PosixMatch | null {
    const sub = from === 0 ? text : text.slice(from);
    const m = (notbol ? this.notbol : this.bol).exec(sub);
    if (!m) return null;
    return { start: from + m.index, end: from + m.index + m[0].length, groups: [...m] };
  }
  test(text: string): boolean {
    return this.bol.test(text);
  }
}
