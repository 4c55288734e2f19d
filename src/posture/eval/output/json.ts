import type { EvalResult } from '../evaluate.js';
import { summarize } from './summary.js';

/** --output json: everything eval found, for scripts. */
export function json(results: EvalResult[], bundles: Record<string, string>): string {
  return `${JSON.stringify({ bundles, summary: summarize(results), results }, null, 2)}\n`;
}
