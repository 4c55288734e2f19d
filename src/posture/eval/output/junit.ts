import type { EvalResult } from '../evaluate.js';
import { location, objectName, refusalWithoutRule } from './summary.js';

/**
 * --output junit: one test suite per file, one test case per object (CI systems show refused objects as
 * failed tests): a failure per refusal, warnings in system-out, kinds the webhooks are not sent skipped.
 */
export function junit(results: EvalResult[]): string {
  const byFile = new Map<string, EvalResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const [file, rs] of byFile) {
    const cases = rs.map((r) => {
      const name = attr(`${objectName(r)} (${location(r)})`);
      const classname = attr(file === '-' ? 'stdin' : file);
      if (!r.judged) return `    <testcase classname="${classname}" name="${name}"><skipped message="not a kind the webhooks judge"/></testcase>`;
      const lines: string[] = [];
      const failure = refusalWithoutRule(r);
      const denied = r.violations.filter((v) => v.enforcement === 'deny');
      if (!r.allowed) {
        const message = failure ?? denied.map((v) => v.rule).join(', ');
        const body = [...(failure ? [failure] : []), ...denied.map((v) => `${v.rule}: ${v.msg}`)].join('\n');
        lines.push(`      <failure message="${attr(message)}" type="${attr(denied[0]?.rule ?? 'refused')}">${text(body)}</failure>`);
      }
      const notes = r.violations.filter((v) => v.enforcement !== 'deny').map((v) => `${v.enforcement}: ${v.rule}: ${v.msg}`);
      if (r.injected !== undefined) notes.push(`sidecar: ${r.injected ? 'injected' : `not injected (${r.injectionReason ?? ''})`}`);
      if (notes.length > 0) lines.push(`      <system-out>${text(notes.join('\n'))}</system-out>`);
      return lines.length === 0 ? `    <testcase classname="${classname}" name="${name}"/>` : `    <testcase classname="${classname}" name="${name}">\n${lines.join('\n')}\n    </testcase>`;
    });
    const f = rs.filter((r) => r.judged && !r.allowed).length;
    const s = rs.filter((r) => !r.judged).length;
    tests += rs.length;
    failures += f;
    skipped += s;
    suites.push(`  <testsuite name="${attr(file === '-' ? 'stdin' : file)}" tests="${rs.length}" failures="${f}" errors="0" skipped="${s}">\n${cases.join('\n')}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="portcullis eval" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}

// XML 1.0 allows neither these control characters nor lone surrogates: they are replaced, never written.
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function text(s: string): string {
  return s.replace(INVALID, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
