import type { EvalResult } from '../evaluate.js';

export interface EvalSummary {
  objects: number;
  refused: number;
  /** Allowed, with warnings kubectl would show. */
  warned: number;
  allowed: number;
  /** Kinds the webhooks are not sent. */
  notJudged: number;
}

export function summarize(results: EvalResult[]): EvalSummary {
  const s: EvalSummary = { objects: results.length, refused: 0, warned: 0, allowed: 0, notJudged: 0 };
  for (const r of results) {
    if (!r.judged) s.notJudged++;
    else if (!r.allowed) s.refused++;
    else if (r.warnings.length > 0) s.warned++;
    else s.allowed++;
  }
  return s;
}

/** "Deployment payments/web": how every output names an object. */
export function objectName(r: EvalResult): string {
  const kind = r.kind.slice(r.kind.lastIndexOf('/') + 1);
  const name = r.name || '(unnamed)';
  return `${kind} ${r.namespace ? `${r.namespace}/` : ''}${name}`;
}

export function location(r: EvalResult): string {
  return `${r.file === '-' ? '(stdin)' : r.file}:${r.line}`;
}

/** Why an object would be refused without a rule of its own: the decision failed, or the mutating webhook refused it. */
export function refusalWithoutRule(r: EvalResult): string | undefined {
  if (!r.judged || r.allowed) return undefined;
  if (r.violations.some((v) => v.enforcement === 'deny')) return undefined;
  return r.error ?? r.message ?? 'refused';
}
