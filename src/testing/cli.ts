/**
 * `kemi-proxy test SPEC...`: runs scenario files through the offline harness. Exit status 0 when
 * every scenario passes, 1 when one fails, 2 when a file cannot be read or run.
 */
import { runSpecFile } from './spec.js';

export const TEST_USAGE = 'usage: kemi-proxy test SCENARIO.json...';

export async function runTestCli(args: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const files = [...args];
  if (files.length === 0 || files.some((f) => f === '-h' || f === '--help')) {
    out(`${TEST_USAGE}\n`);
    return files.length === 0 ? 2 : 0;
  }
  let failed = 0;
  let broken = 0;
  for (const f of files) {
    try {
      const r = await runSpecFile(f);
      out(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}\n`);
      for (const line of r.report) out(`${line}\n`);
      if (!r.ok) failed++;
    } catch (e) {
      broken++;
      out(`ERROR ${f}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  out(`${files.length - failed - broken} passed, ${failed} failed${broken ? `, ${broken} could not run` : ''}\n`);
  return broken > 0 ? 2 : failed > 0 ? 1 : 0;
}
