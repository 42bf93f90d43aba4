/**
 * KSR.kx defines (config key `defines`, Kamailio's #!define): the answers below are what Kamailio
 * 5.6.3's kemix gave for the same #!define lines (checked with the installed kamailio: get_def,
 * get_defn, ifdef and ifndef printed from a KEMI Lua script).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import kx from '../../kemi/kx.js';
import { call, context, loadModule, resetInstance, testEnv } from './helpers.js';

const DEFINES: Record<string, string> = {
  NUM: '42', NEG: '-7', PLUS: '+5', MIXED: '12abc', NEGMIXED: '-12abc', TEXT: 'hello', EMPTY: '', QUOTED: '"q v"',
  SPACE: '3 4', BIG: '99999999999', BIGNEG: '-2147483649', B5: '2147483647', MINUS: '-', PLUSONLY: '+', ZEROS: '007', HEX: '0x10',
};

beforeEach(async () => {
  resetInstance();
  await loadModule(kx, testEnv({ defines: new Map(Object.entries(DEFINES)) }));
});

describe('KSR.kx defines', () => {
  it('get_def answers the value as written, "" for an unknown name', () => {
    const { ctx } = context();
    for (const [k, v] of Object.entries(DEFINES)) expect(call(kx, 'get_def', ctx, k)).toBe(v);
    expect(call(kx, 'get_def', ctx, 'UNKNOWN_X')).toBe('');
    expect(call(kx, 'get_def', ctx, 'num')).toBe(''); // names are case-sensitive
  });

  it('get_defn answers the leading integer as str2sint leaves it, clamped to 32 bits; 0 otherwise', () => {
    const { ctx } = context();
    const n = (name: string) => call(kx, 'get_defn', ctx, name);
    expect(Object.fromEntries(Object.keys(DEFINES).map((k) => [k, n(k)]))).toEqual({
      NUM: 42, NEG: -7, PLUS: 5, MIXED: 12, NEGMIXED: -12, TEXT: 0, EMPTY: 0, QUOTED: 0, SPACE: 3, BIG: 2147483647,
      BIGNEG: -2147483648, B5: 2147483647, MINUS: 0, PLUSONLY: 0, ZEROS: 7, HEX: 0,
    });
    expect(n('UNKNOWN_X')).toBe(0);
  });

  it('ifdef / ifndef are booleans; a define with an empty value is defined', () => {
    const { ctx } = context();
    expect([call(kx, 'ifdef', ctx, 'EMPTY'), call(kx, 'ifndef', ctx, 'EMPTY')]).toEqual([true, false]);
    expect([call(kx, 'ifdef', ctx, 'NUM'), call(kx, 'ifndef', ctx, 'NUM')]).toEqual([true, false]);
    expect([call(kx, 'ifdef', ctx, 'UNKNOWN_X'), call(kx, 'ifndef', ctx, 'UNKNOWN_X')]).toEqual([false, true]);
  });

  it('without defines nothing is defined', async () => {
    resetInstance();
    await loadModule(kx, testEnv({}));
    const { ctx } = context();
    expect([call(kx, 'get_def', ctx, 'NUM'), call(kx, 'get_defn', ctx, 'NUM'), call(kx, 'ifdef', ctx, 'NUM'), call(kx, 'ifndef', ctx, 'NUM')]).toEqual(['', 0, false, true]);
  });
});
