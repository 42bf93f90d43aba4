/**
 * The `check` and `types` subcommands:
 *   kemi-proxy check FILE.lua... [--config FILE] [--module NAME]... [--json] [--strict]
 *   kemi-proxy types --luals FILE
 * Exit status of check: 0 clean (warnings allowed unless --strict), 1 problems found, 2 bad usage.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfig, loadConfigFile } from '../ops/config.js';
import { checkScripts } from './check.js';
import { loadKsrSpec } from './ksr-spec.js';
import { generateLuaLs } from './luals.js';
import { formatJson, formatText } from './report.js';
import { RULES } from './rules.js';

export const CHECK_USAGE = `usage: kemi-proxy check [FILE.lua...] [options]
  static checks of KEMI Lua scripts (and the files they require) against Kamailio 5.6.3's exports
  -c, --config FILE   JSON config: its "modules" say what KSR holds, its "script" is checked when no FILE is given
  -m, --module NAME   a loaded KSR module, repeatable (replaces the config's list)
      --json          findings as JSON
      --strict        warnings fail too
      --rules         list the rules
  a finding silenced on purpose: "-- kemi-check: ignore RULE" on its line (or alone on the line
  before), "-- kemi-check: ignore-file RULE" for the whole file
usage: kemi-proxy types --luals FILE
  writes the KSR declaration for the Lua language server (LuaLS) to FILE`;

export async function runCheckCli(argv: readonly string[]): Promise<number> {
  try {
    return argv[0] === 'types' ? await runTypes(argv.slice(1)) : await runCheck(argv.slice(1));
  } catch (e) {
    process.stderr.write(`kemi-proxy ${argv[0]}: ${e instanceof Error ? e.message : String(e)}\n${CHECK_USAGE}\n`);
    return 2;
  }
}

async function runCheck(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      module: { type: 'string', short: 'm', multiple: true },
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      rules: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(CHECK_USAGE + '\n');
    return 0;
  }
  if (values.rules) {
    for (const [id, r] of Object.entries(RULES)) process.stdout.write(`${id.padEnd(26)} ${r.severity.padEnd(8)} ${r.about}\n`);
    return 0;
  }
  const cfg = values.config ? loadConfigFile(values.config) : defaultConfig();
  const modules = values.module ? values.module.flatMap((m) => m.split(',')).filter(Boolean) : cfg.modules;
  const files = positionals.length > 0 ? positionals : values.config ? [cfg.script] : [];
  if (files.length === 0) throw new Error('no script to check');
  const result = checkScripts(files, { spec: await loadKsrSpec(), modules });
  process.stdout.write(values.json ? formatJson(result) : formatText(result));
  return result.errors > 0 || (values.strict && result.warnings > 0) ? 1 : 0;
}

async function runTypes(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { luals: { type: 'string' } }, strict: true });
  if (!values.luals) throw new Error('types needs --luals FILE');
  writeFileSync(values.luals, generateLuaLs(await loadKsrSpec()));
  process.stderr.write(`wrote ${values.luals}\n`);
  return 0;
}
