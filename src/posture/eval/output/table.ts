import type { EvalResult } from '../evaluate.js';
import { location, objectName, refusalWithoutRule, summarize } from './summary.js';

/** The default output: one row per object, then what to fix under each object that is refused or warned. */
export function table(results: EvalResult[], bundles: Record<string, string>): string {
  const rows = results.map((r) => [
    location(r),
    objectName(r),
    !r.judged ? 'not judged' : !r.allowed ? 'REFUSED' : r.warnings.length > 0 ? 'warnings' : 'allowed',
    r.injected === undefined ? '-' : r.injected ? 'injected' : 'no',
  ]);
  const head = ['LOCATION', 'OBJECT', 'RESULT', 'SIDECAR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  const out = [line(head)];
  results.forEach((r, i) => {
    out.push(line(rows[i] as string[]));
    const failure = refusalWithoutRule(r);
    if (failure) out.push(`    ✗ ${failure}`);
    for (const v of r.violations) out.push(`    ${v.enforcement === 'deny' ? '✗' : v.enforcement === 'warn' ? '!' : '·'} ${v.rule}${v.enforcement === 'deny' ? '' : ` (${v.enforcement})`}: ${v.msg}`);
    if (r.injected === false && r.injectionReason) out.push(`    sidecar: ${r.injectionReason}`);
  });
  const s = summarize(results);
  const revisions = Object.entries(bundles).map(([n, rev]) => `${n} ${rev}`).join(', ');
  out.push('', `${s.objects} object${s.objects === 1 ? '' : 's'}: ${s.refused} refused, ${s.warned} with warnings, ${s.allowed} allowed, ${s.notJudged} not judged (bundle ${revisions || 'none'})`);
  return `${out.join('\n')}\n`;
}
