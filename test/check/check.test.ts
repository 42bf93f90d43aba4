/**
 * kemi-proxy check: each fixture marks the lines that must draw a finding (`-- expect: rule`);
 * every other line must draw none. Then the scripts under routes/ must pass clean, and the CLI's
 * exit status and JSON output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScripts } from '../../src/check/check.js';
import { loadKsrSpec, type KsrSpec } from '../../src/check/ksr-spec.js';
import { DEFAULT_MODULES, loadConfigFile } from '../../src/ops/config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const FIX = join(HERE, 'fixtures');

let spec: KsrSpec;
beforeAll(async () => {
  spec = await loadKsrSpec();
});

/** `line:rule` for every `-- expect: a, b` marker of a file (and `-- expect-file: rule` as line 1). */
function expectations(file: string): string[] {
  const out: string[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    const m = /--\s*expect(-file)?:\s*([\w-]+(?:\s*,\s*[\w-]+)*)/.exec(text);
    if (m) for (const r of m[2]!.split(',')) out.push(`${m[1] ? 1 : i + 1}:${r.trim()}`);
  });
  return out.sort();
}

function check(files: string[], modules: readonly string[] = DEFAULT_MODULES) {
  return checkScripts(files, { spec, modules, cwd: FIX });
}

describe('kemi-proxy check fixtures', () => {
  const cases: [string, readonly string[]][] = [
    ['truthy-int.lua', [...DEFAULT_MODULES, 'dispatcher']],
    ['names.lua', DEFAULT_MODULES],
    ['args.lua', DEFAULT_MODULES],
    ['callbacks.lua', DEFAULT_MODULES],
    ['globals.lua', DEFAULT_MODULES],
    ['lua54.lua', DEFAULT_MODULES],
    ['no-request-route.lua', DEFAULT_MODULES],
    ['suppressed.lua', DEFAULT_MODULES],
  ];
  for (const [name, modules] of cases) {
    it(`${name}: exactly the marked findings`, () => {
      const r = check([join(FIX, name)], modules);
      expect(r.findings.map((f) => `${f.line}:${f.rule}`).sort()).toEqual(expectations(join(FIX, name)));
      for (const f of r.findings) expect(f.file).toBe(name);
    });
  }

  it('flags `if KSR.dispatcher.ds_is_from_list(1) then` with its line and column', () => {
    const r = check([join(FIX, 'truthy-int.lua')], [...DEFAULT_MODULES, 'dispatcher']);
    const f = r.findings.find((x) => x.line === 6);
    expect(f).toMatchObject({ line: 6, column: 5, rule: 'int-as-condition', severity: 'error' });
    expect(f!.message).toContain('KSR.dispatcher.ds_is_from_list()');
    expect(f!.message).toContain('> 0');
  });

  it('suggests the near name of a misspelt function', () => {
    const r = check([join(FIX, 'names.lua')]);
    expect(r.findings.find((f) => f.line === 3)!.message).toContain('did you mean KSR.tm.t_relay?');
    // A name that lives in another module: KSR.drop is nil in 5.6.3, KSR.x.drop is not.
    expect(r.findings.find((f) => f.line === 19)!.message).toContain('did you mean KSR.x.drop?');
    expect(r.findings.find((f) => f.line === 20)!.message).toContain('did you mean KSR.tmx.t_precheck_trans?');
  });

  it('says a module absent from the config must be added, and that a callback must be global', () => {
    const names = check([join(FIX, 'names.lua')]);
    expect(names.findings.find((f) => f.rule === 'module-not-loaded')!.message).toContain("'dispatcher' is not loaded");
    const cbs = check([join(FIX, 'callbacks.lua')]);
    expect(cbs.findings.find((f) => f.line === 9)!.message).toContain('is a local function');
  });

  it('a parse error is one finding with the line and column of the error', () => {
    const r = check([join(FIX, 'parse-error.lua')]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ rule: 'parse-error', severity: 'error', line: 4 });
    expect(r.findings[0]!.message).toMatch(/expected/);
  });

  it('follows require to files next to the script and checks them with the script', () => {
    const r = check([join(FIX, 'req', 'main.lua')]);
    expect(r.files.sort()).toEqual(['req/lib/routing.lua', 'req/lib/util.lua', 'req/main.lua']);
    // ksr_failure_route and ksr_route_relay live in lib/routing.lua: no undefined-callback, no no-request-route.
    expect(r.findings.map((f) => `${f.file}:${f.line}:${f.rule}`)).toEqual(['req/lib/routing.lua:5:int-as-condition']);
  });

  it('a module the config lacks is an error; loading it clears it', () => {
    const without = check([join(FIX, 'truthy-int.lua')]);
    expect(without.findings.filter((f) => f.rule === 'module-not-loaded').map((f) => f.line)).toEqual([6, 10]);
  });
});

describe('the scripts shipped in routes/', () => {
  const scripts = readdirSync(join(ROOT, 'routes')).filter((f) => f.endsWith('.lua'));
  it('there are scripts to check', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });
  for (const s of scripts) {
    // A script shipped with a config of the same name is checked with that config's modules.
    const cfg = join(ROOT, 'routes', s.replace(/\.lua$/, '.json'));
    const modules = existsSync(cfg) ? loadConfigFile(cfg).modules : DEFAULT_MODULES;
    it(`routes/${s} passes clean with ${existsSync(cfg) ? 'its config\'s' : 'the default'} modules`, () => {
      const r = checkScripts([join(ROOT, 'routes', s)], { spec, modules, cwd: ROOT });
      expect(r.findings).toEqual([]);
    });
  }
});

describe("Kamailio's basic KEMI example", () => {
  const cfgFile = join(ROOT, 'routes', 'kamailio-basic-kemi.json');
  const script = loadConfigFile(cfgFile).script;
  it.skipIf(!existsSync(script))('passes clean with routes/kamailio-basic-kemi.json (it tests KSR.rtpproxy/nathelper/auth before use)', () => {
    const r = checkScripts([script], { spec, modules: loadConfigFile(cfgFile).modules, cwd: ROOT });
    expect(r.findings).toEqual([]);
  });
  it.skipIf(!existsSync(script))('with the default modules, names the modules it needs', () => {
    const r = checkScripts([script], { spec, modules: DEFAULT_MODULES, cwd: ROOT });
    expect(new Set(r.findings.map((f) => f.rule))).toEqual(new Set(['module-not-loaded']));
    expect(new Set(r.findings.map((f) => /module '(\w+)'/.exec(f.message)![1]))).toEqual(new Set(['htable', 'pike', 'registrar', 'auth_db']));
  });
});

describe('kemi-proxy check command', () => {
  const cli = join(ROOT, 'dist', 'src', 'cli.js');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, 'check', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('exits 1 on errors and prints file:line:col: severity: message [rule]', () => {
    const r = run(['-m', [...DEFAULT_MODULES, 'dispatcher'].join(','), relative(ROOT, join(FIX, 'truthy-int.lua'))]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('test/check/fixtures/truthy-int.lua:6:5: error: KSR.dispatcher.ds_is_from_list() returns a number');
    expect(r.stdout).toMatch(/\[int-as-condition\]/);
  });

  it('exits 0 on warnings only, 1 with --strict; --json gives the findings', () => {
    const g = relative(ROOT, join(FIX, 'globals.lua'));
    expect(run([g]).status).toBe(0);
    expect(run(['--strict', g]).status).toBe(1);
    const j = run(['--json', g]);
    const out = JSON.parse(j.stdout) as { errors: number; warnings: number; findings: { rule: string; line: number; column: number; file: string }[] };
    expect(out.errors).toBe(0);
    expect(out.warnings).toBe(out.findings.length);
    expect(out.findings[0]).toMatchObject({ file: g, rule: 'global-state', line: 10, column: 2 });
  });

  it('checks the config\'s script with its modules, and exits 0 on routes/', () => {
    const r = run(['routes/route.lua', 'routes/stateless.lua']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no problems');
  });

  it('exits 2 on bad usage', () => {
    expect(run([]).status).toBe(2);
    expect(run(['--nope', 'x.lua']).status).toBe(2);
  });

  it('--rules lists every rule', () => {
    const out = execFileSync(process.execPath, [cli, 'check', '--rules'], { encoding: 'utf8' });
    expect(out).toContain('int-as-condition');
    expect(out).toContain('global-state');
  });
});
