/** The parser wrapper: Lua 5.3/5.4 syntax, what loadfile skips, and errors with their position. */
import { describe, expect, it } from 'vitest';
import { blankLocalAttributes, parseLua } from '../../src/check/lua-parser.js';

describe('parseLua', () => {
  it('parses goto, labels, integer division, bitwise operators and 5.4 local attributes', () => {
    const src = 'local a <const>, b <close> = 7 // 2, nil\n::top::\nlocal c = (a << 1) | (a & ~a) ~ 3\nif c > 100 then goto top end\n';
    const r = parseLua(src);
    expect(r.ok).toBe(true);
  });

  it('blanks <const>/<close> without moving anything', () => {
    const src = 'local x <const> = 1\nlocal y<close>, z <const> = f()';
    const out = blankLocalAttributes(src);
    expect(out).toHaveLength(src.length);
    expect(out).toBe('local x         = 1\nlocal y       , z         = f()');
    // Not a local statement: left alone.
    expect(blankLocalAttributes('if a <const> then end')).toBe('if a <const> then end');
  });

  it('skips a byte order mark and a #! first line, as loadfile does', () => {
    expect(parseLua('\xEF\xBB\xBF#!/usr/bin/lua\nlocal x = 1\n').ok).toBe(true);
    expect(parseLua('#!/usr/bin/lua\nlocal x = 1\n').ok).toBe(true);
    const bad = parseLua('#!/usr/bin/lua\nlocal = 1\n');
    expect(bad).toMatchObject({ ok: false, line: 2 });
  });

  it('gives a syntax error its line, column and message', () => {
    const r = parseLua('function f()\n  if then\nend\n');
    expect(r).toMatchObject({ ok: false, line: 2, column: 5 });
    if (!r.ok) expect(r.message).toContain("expected near 'then'");
  });

  it('keeps string literal bytes as Lua sees them', () => {
    const r = parseLua('KSR.info("caf\xC3\xA9")');
    expect(r.ok).toBe(true);
    if (r.ok && r.chunk.body[0]!.type === 'CallStatement') {
      const call = r.chunk.body[0].expression;
      const arg = call.type === 'CallExpression' ? call.arguments[0] : undefined;
      expect(arg).toMatchObject({ type: 'StringLiteral', value: 'caf\xC3\xA9' });
    }
  });
});
