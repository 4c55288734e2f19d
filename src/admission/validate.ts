import type { Snapshot } from '../policy/engine.js';
import { failure, nowNs, type Outcome, type PolicyInput } from './outcome.js';
import { asViolations, denialMessage, rulesOf, warningOf } from './violations.js';

/**
 * The validating webhook: every rule of the violations entrypoint on the object as the API server will
 * store it (after all mutating webhooks, ours included). deny refuses, warn answers with a warning,
 * dryrun is only recorded.
 */
export function validate(snapshot: Snapshot, entrypoint: string, input: PolicyInput, inputJson?: string): Outcome {
  if (!snapshot.has(entrypoint)) return failure(entrypoint, noBundle(snapshot, entrypoint), input);
  const start = nowNs();
  let value: unknown;
  try {
    value = snapshot.evaluate(entrypoint, input, inputJson);
  } catch (err) {
    return failure(entrypoint, (err as Error).message, input, [{ entrypoint, ns: Number(nowNs() - start) }]);
  }
  const evaluations = [{ entrypoint, ns: Number(nowNs() - start) }];
  let violations;
  try {
    violations = asViolations(value);
  } catch (err) {
    return failure(entrypoint, (err as Error).message, input, evaluations);
  }
  const denied = violations.filter((v) => v.enforcement === 'deny');
  const warnings = violations.filter((v) => v.enforcement === 'warn').map(warningOf);
  const auditAnnotations: Record<string, string> = {};
  for (const enforcement of ['deny', 'warn', 'dryrun'] as const) {
    const rules = rulesOf(violations, enforcement);
    if (rules.length > 0) auditAnnotations[`${enforcement}-rules`] = [...new Set(rules)].join(',');
  }
  const allowed = denied.length === 0;
  return {
    response: {
      allowed,
      ...(allowed ? {} : { status: { status: 'Failure', code: 403, reason: 'Forbidden', message: denialMessage(denied) } }),
      ...(warnings.length > 0 ? { warnings } : {}),
      auditAnnotations,
    },
    decision: allowed ? 'allow' : 'deny',
    path: entrypoint,
    input,
    result: violations,
    violations,
    evaluations,
  };
}

export function noBundle(snapshot: Snapshot, entrypoint: string): string {
  const active = Object.keys(snapshot.revisions);
  return active.length === 0 ? 'no policy bundle is active yet' : `no active bundle (${active.join(', ')}) provides the entrypoint ${entrypoint}`;
}
