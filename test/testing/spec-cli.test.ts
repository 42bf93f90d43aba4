/**
 * `kemi-proxy test SPEC` (the built CLI) on the scenario example in test/testing/specs/: it passes
 * as written; changed expectations fail with exit status 1 and a readable diff naming the step.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve('dist/src/cli.js');
const SPEC = resolve('test/testing/specs/route-lua.json');

function run(...files: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, 'test', ...files], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('kemi-proxy test', () => {
  it('passes the route.lua scenario example', () => {
    const r = run(SPEC);
    expect(r.out).toMatch(/^PASS routes\/route\.lua/m);
    expect(r.out).toContain('1 passed, 0 failed');
    expect(r.status, r.out).toBe(0);
  });

  it('fails with a diff naming the step when an expectation does not hold', () => {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { config: { script: string }; steps: { expect?: { reply?: { code?: number } } }[] };
    spec.config.script = resolve('routes/route.lua');
    spec.steps[1]!.expect!.reply!.code = 480;
    const file = join(mkdtempSync(join(tmpdir(), 'kemi-spec-')), 'bad.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = run(file);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain('step 2 (bob is busy):');
    expect(r.out).toContain('  reply code: - 480\n  reply code: + 486');
    expect(r.out).toContain('0 passed, 1 failed');
  });

  it('exits 2 on a misspelt key instead of passing without the check', () => {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { config: { script: string }; steps: { expect?: Record<string, unknown> }[] };
    spec.config.script = resolve('routes/route.lua');
    spec.steps[1]!.expect = { replys: [{ code: 486 }] };
    const file = join(mkdtempSync(join(tmpdir(), 'kemi-spec-')), 'typo.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = run(file);
    expect(r.status, r.out).toBe(2);
    expect(r.out).toContain("step 2 expect: unknown key 'replys'");
  });

  it('exits 2 on a file it cannot read', () => {
    const r = run(join(tmpdir(), 'no-such-scenario.json'));
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/^ERROR /m);
  });
});
