/**
 * Writes the `KSR` declaration for the Lua language server (LuaLS `---@meta` annotations): every
 * module, function, parameter and return type from the export tables, so that an editor completes
 * KSR calls and flags wrong arguments. The generated file ships as src/check/ksr.luals.lua;
 * `kemi-proxy types --luals FILE` writes it again.
 */
import type { KemiParam, KemiRet } from '../../kemi/types.js';
import type { KsrFunction, KsrSpec } from './ksr-spec.js';

const PARAM_TYPE: Record<KemiParam, string> = { str: 'string', int: 'integer' };

const RET: Record<KemiRet, { type: string; doc: string }> = {
  int: { type: 'integer', doc: 'Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.' },
  bool: { type: 'boolean', doc: '' },
  xval: { type: 'string|integer|nil', doc: '' },
  none: { type: 'false', doc: '' },
};

/** A Lua identifier is a field name LuaLS accepts after a dot. */
const isName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

export function generateLuaLs(spec: KsrSpec): string {
  const out: string[] = [
    '---@meta',
    '-- KSR, the KEMI API of Kamailio 5.6.3 as kemi-proxy exposes it, for the Lua language server (LuaLS).',
    '-- Generated from kemi-proxy\'s export tables by `kemi-proxy types --luals FILE`: do not edit.',
    '-- Use: add this file\'s directory to "workspace.library" in .luarc.json.',
    '',
    '---@type string',
    'KSRVERSION = "2.0"',
    '',
  ];
  // A module without exports (usrloc) is not in KSR, as in Kamailio.
  const names = [...spec.modules.keys()].filter((m) => m !== '' && isName(m) && spec.modules.get(m)!.size > 0).sort();
  out.push('---@class KSR');
  for (const m of names) out.push(`---@field ${m} KSR.${m}`);
  out.push('KSR = {}', '');
  const core = spec.modules.get('');
  if (core) for (const f of core.values()) out.push(...declareFunction('KSR', f));
  for (const m of names) {
    out.push(`---@class KSR.${m}`, `KSR.${m} = {}`, '');
    for (const f of spec.modules.get(m)!.values()) out.push(...declareFunction(`KSR.${m}`, f));
  }
  return out.join('\n');
}

function declareFunction(owner: string, f: KsrFunction): string[] {
  if (!isName(f.name)) return [];
  const lines: string[] = [];
  const params = f.params.map((_, i) => `p${i + 1}`);
  f.params.forEach((t, i) => lines.push(`---@param ${params[i]} ${PARAM_TYPE[t]}`));
  if (f.variadic) {
    lines.push('---@param ... string');
    params.push('...');
  }
  if (f.module === 'x' && (f.name === 'exit' || f.name === 'drop')) {
    lines.unshift(f.name === 'exit' ? '--- Stops the script (raises the error "~~ksr~exit~~").' : '--- Stops the script and drops the message.');
  } else {
    const r = RET[f.ret];
    lines.push(`---@return ${r.type}${r.doc ? ' # ' + r.doc : ''}`);
  }
  lines.push(`function ${owner}.${f.name}(${params.join(', ')}) end`, '');
  return lines;
}
