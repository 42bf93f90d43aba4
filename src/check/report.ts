/** Findings as text (`file:line:col: severity: message [rule]`, as compilers print) or as JSON. */
import type { CheckResult } from './check.js';

export function formatText(r: CheckResult): string {
  const lines = r.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.rule}]`);
  const files = r.files.length === 1 ? '1 file' : `${r.files.length} files`;
  lines.push(r.findings.length === 0 ? `${files} checked: no problems` : `${files} checked: ${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

export function formatJson(r: CheckResult): string {
  return JSON.stringify({ files: r.files, errors: r.errors, warnings: r.warnings, findings: r.findings }, null, 2) + '\n';
}
