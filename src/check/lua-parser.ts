/**
 * Parses a Lua script with luaparse (Lua 5.3 grammar: goto and labels, integer division, bitwise
 * operators), plus Lua 5.4's local attributes `<const>` and `<close>`, which luaparse does not know:
 * they are blanked out (same length, so every position stays right) before parsing.
 */
import { createRequire } from 'node:module';
import type { Chunk } from './lua-ast.js';

interface LuaParseOptions {
  luaVersion: '5.1' | '5.2' | '5.3' | 'LuaJIT';
  locations: boolean;
  comments: boolean;
  encodingMode: 'none' | 'pseudo-latin1' | 'x-user-defined';
}

interface LuaParse {
  parse(input: string, options: LuaParseOptions): Chunk;
}

/** luaparse's syntax error: the message starts with `[line:column]`. */
interface LuaParseError extends Error {
  line?: number;
  column?: number;
}

const luaparse = createRequire(import.meta.url)('luaparse') as LuaParse;

export type ParseResult =
  | { ok: true; chunk: Chunk }
  | { ok: false; line: number; column: number; message: string };

/** `local a <const>, b <close> = ...`: the attribute parts of a local statement's name list. */
const LOCAL_ATTRIBS = /\blocal\s+[A-Za-z_]\w*\s*(?:<\s*(?:const|close)\s*>)?(?:\s*,\s*[A-Za-z_]\w*\s*(?:<\s*(?:const|close)\s*>)?)*/g;

export function blankLocalAttributes(src: string): string {
  if (!src.includes('<')) return src;
  return src.replace(LOCAL_ATTRIBS, (m) => m.replace(/<\s*(?:const|close)\s*>/g, (a) => ' '.repeat(a.length)));
}

/**
 * What Lua's loadfile skips: a UTF-8 byte order mark and a first line starting with '#' (`#!/usr/bin/lua`).
 * Both become blanks or a comment of the same length, so positions stay right.
 */
function skipHeader(src: string): string {
  const bom = src.startsWith('\xEF\xBB\xBF') ? 3 : 0;
  const out = bom ? '   ' + src.slice(3) : src;
  return out[bom] === '#' ? out.slice(0, bom) + '--' + out.slice(bom + 1) : out;
}

/**
 * Parses `src`, read from the file as latin1 so that each byte is one character (luaparse's
 * pseudo-latin1 mode): string literal values are then the script's bytes, as Lua sees them.
 * Columns in the result are 0-based.
 */
export function parseLua(src: string): ParseResult {
  try {
    const chunk = luaparse.parse(blankLocalAttributes(skipHeader(src)), {
      luaVersion: '5.3',
      locations: true,
      comments: false,
      encodingMode: 'pseudo-latin1',
    });
    return { ok: true, chunk };
  } catch (e) {
    const err = e as LuaParseError;
    if (typeof err.line !== 'number') throw e;
    const message = String(err.message).replace(/^\[\d+:\d+\]\s*/, '');
    return { ok: false, line: err.line, column: err.column ?? 0, message };
  }
}
